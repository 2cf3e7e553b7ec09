import Hummingbird
import NIOCore

/// The request context: Hummingbird's, plus the connection (the `reset` fault closes it, a
/// stream's end watches it).
public struct MockRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    public let channel: any Channel

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        channel = source.channel
    }
}
