import RoutingCore
import NIOCore
import Synchronization

/// The bytes of a streaming answer on their way to the client: the attempt that won the
/// first token writes its frames here, and the response body reads them. What is sent and not
/// yet written to the client is bounded: past `maxBufferedBytes` the client is cut off as if
/// it had left (``onSlowClient`` learns of it first).
final class ClientStream: Sendable {
    let frames: AsyncStream<ByteBuffer>
    private let continuation: AsyncStream<ByteBuffer>.Continuation
    private let whenClientGone = Mutex<(@Sendable () -> Void)?>(nil)
    private let maxBufferedBytes: Int
    private let buffered = Atomic<Int>(0)
    private let slowClient: @Sendable () -> Void

    init(maxBufferedBytes: Int = .max, onSlowClient: @escaping @Sendable () -> Void = {}) {
        (frames, continuation) = AsyncStream.makeStream(of: ByteBuffer.self, bufferingPolicy: .unbounded)
        self.maxBufferedBytes = maxBufferedBytes
        self.slowClient = onSlowClient
    }

    func send(_ bytes: ByteBuffer) {
        let (_, held) = buffered.add(bytes.readableBytes, ordering: .relaxed)
        if held > maxBufferedBytes {
            // Once: the stream is finished, and later sends find no reader.
            if held - bytes.readableBytes <= maxBufferedBytes {
                slowClient()
                clientWentAway()
            }
            return
        }
        continuation.yield(bytes)
    }

    /// `count` bytes were written to the client.
    func written(_ count: Int) {
        buffered.subtract(count, ordering: .relaxed)
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
    /// A Messages stream's last event.
    static let messageStop = ByteBuffer(string: "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n")

    /// The event that ends a complete answer for a client of `api`.
    static func done(for api: APIProtocol) -> ByteBuffer { api == .anthropic ? messageStop : done }
}
