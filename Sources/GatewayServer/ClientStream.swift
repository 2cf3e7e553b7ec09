import NIOCore

/// The bytes of a streaming answer on their way to the client: the attempt that won the
/// first token writes its frames here, and the response body reads them.
final class ClientStream: Sendable {
    let frames: AsyncStream<ByteBuffer>
    private let continuation: AsyncStream<ByteBuffer>.Continuation

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

    /// Called when the client goes away (not when the stream is finished: the request then
    /// still settles its cancelled attempts with the router).
    func onTermination(_ action: @escaping @Sendable () -> Void) {
        continuation.onTermination = { termination in
            if case .cancelled = termination { action() }
        }
    }

    static let done = ByteBuffer(string: "data: [DONE]\n\n")
}
