import Hummingbird
import NIOCore

/// A request's context at the gateway: Hummingbird's, plus the client's connection, which
/// ``ClientDisconnectWatch`` watches while the request is answered.
struct GatewayRequestContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    let channel: any Channel

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        channel = source.channel
    }
}
