import AsyncHTTPClient
import NIOCore
import NIOHTTP1
import Synchronization

/// Gathers an upstream's whole (non-streaming) answer on the event loop, through
/// AsyncHTTPClient's delegate API: the status, `Retry-After` and body, handed to the waiting
/// attempt once, at the end. The async API resumes the attempt for the head and again for each
/// body part; at one connection that cost 15 µs of CPU and of latency a request
/// (BENCHMARKS.md, eighth session).
final class WholeAnswerCollector: HTTPClientResponseDelegate {
    struct Answer: Sendable {
        let status: Int
        let retryAfterSeconds: Double?
        /// The body; nil when an error's body was longer than ``errorBodyLimit``.
        let body: ByteBuffer?
    }

    /// The longest answer taken (a longer one fails the attempt, as a connection error).
    static let answerLimit = 64 << 20
    /// The longest error body read for its reason (a longer one is dropped, not an error).
    static let errorBodyLimit = 1 << 20

    struct AnswerTooLong: Error {}

    private struct State {
        var status = 0
        var retryAfterSeconds: Double?
        var body: ByteBuffer?
        var errorBodyDropped = false
    }

    private let state = Mutex(State())

    func didReceiveHead(task: HTTPClient.Task<Answer>, _ head: HTTPResponseHead) -> EventLoopFuture<Void> {
        let retryAfter = head.status == .ok ? nil : head.headers.first(name: "retry-after").flatMap(Double.init)
        state.withLock { state in
            state.status = Int(head.status.code)
            state.retryAfterSeconds = retryAfter
        }
        return task.eventLoop.makeSucceededVoidFuture()
    }

    func didReceiveBodyPart(task: HTTPClient.Task<Answer>, _ buffer: ByteBuffer) -> EventLoopFuture<Void> {
        let tooLong = state.withLock { state -> Bool in
            if state.errorBodyDropped { return false }
            let isAnswer = state.status == 200
            guard (state.body?.readableBytes ?? 0) + buffer.readableBytes <= (isAnswer ? Self.answerLimit : Self.errorBodyLimit) else {
                state.body = nil
                state.errorBodyDropped = !isAnswer
                return isAnswer
            }
            if state.body == nil {
                state.body = buffer
            } else {
                var part = buffer
                state.body!.writeBuffer(&part)
            }
            return false
        }
        return tooLong ? task.eventLoop.makeFailedFuture(AnswerTooLong()) : task.eventLoop.makeSucceededVoidFuture()
    }

    func didFinishRequest(task: HTTPClient.Task<Answer>) throws -> Answer {
        state.withLock { state in
            Answer(status: state.status, retryAfterSeconds: state.retryAfterSeconds,
                   body: state.errorBodyDropped ? nil : (state.body ?? ByteBuffer()))
        }
    }
}
