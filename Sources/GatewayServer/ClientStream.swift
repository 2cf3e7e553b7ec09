import NIOCore
import Synchronization

/// The bytes of a streaming answer on their way to the client: the attempt that won the
/// first token writes its frames here, and the response body reads them.
final class ClientStream: Sendable {
    let frames: AsyncStream<ByteBuffer>
    private let continuation: AsyncStream<ByteBuffer>.Continuation
    private let whenClientGone = Mutex<(@Sendable () -> Void)?>(nil)

    init() {
        (frames, continuation) = AsyncStream.makeStream(of: ByteBuffer.self, bufferingPolicy: .unbounded)
    }

    func send(_ bytes: ByteBuffer) {
        continuation.yield(bytes)
    }

    /// Ends the stream: after `[DONE]` for a whole answer, after an error event otherwise.
    func finish() {
        continuation.finish()
    }

    /// `action` is called when the client goes away before the stream's end.
    func onClientGone(_ action: @escaping @Sendable () -> Void) {
        whenClientGone.withLock { $0 = action }
    }

    /// The client went away (a write to it failed): frames still to come are dropped, and the
    /// request is told, so that it cancels its upstream attempts.
    func clientWentAway() {
        continuation.finish()
        whenClientGone.withLock { $0 }?()
    }

    static let done = ByteBuffer(string: "data: [DONE]\n\n")
}
