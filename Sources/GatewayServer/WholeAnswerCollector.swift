import AsyncHTTPClient
import NIOCore
import NIOHTTP1
import Synchronization

/// Gathers an upstream's whole (non-streaming) answer on the event loop, through
/// AsyncHTTPClient's delegate API: the status, `Retry-After` and body, handed to the waiting
/// attempt once, at the end. The async API resumes the attempt for the head and again for each
/// body part; at one connection that cost 15 µs of CPU and of latency a request
/// (BENCHMARKS.md, "2026-11-26: a whole answer gathered on the event loop").
final class WholeAnswerCollector: HTTPClientResponseDelegate {
    struct Answer: Sendable {
        let status: Int
        let retryAfterSeconds: Double?
        /// The body; nil when an error's body was longer than ``UpstreamAnswer/errorBodyLimit``.
        let body: ByteBuffer?
    }

    struct AnswerTooLong: Error {}

    private let answer = Mutex(UpstreamAnswer())

    func didReceiveHead(task: HTTPClient.Task<Answer>, _ head: HTTPResponseHead) -> EventLoopFuture<Void> {
        answer.withLock { $0.take(head) }
        return task.eventLoop.makeSucceededVoidFuture()
    }

    func didReceiveBodyPart(task: HTTPClient.Task<Answer>, _ buffer: ByteBuffer) -> EventLoopFuture<Void> {
        // An answer too long fails the attempt; an error's body too long is only dropped.
        let tooLong = answer.withLock { !$0.gather(buffer) && $0.isSuccess }
        return tooLong ? task.eventLoop.makeFailedFuture(AnswerTooLong()) : task.eventLoop.makeSucceededVoidFuture()
    }

    func didFinishRequest(task: HTTPClient.Task<Answer>) throws -> Answer {
        answer.withLock { Answer(status: $0.status, retryAfterSeconds: $0.retryAfterSeconds, body: $0.body) }
    }
}
