import AsyncHTTPClient
import ConfigSchema
import Logging
import NIOCore
import NIOHTTP1
import RoutingCore
import Synchronization

/// Relays an upstream's streamed answer (Server-Sent Events) on the event loop, through
/// AsyncHTTPClient's delegate API: frames are read as they arrive, held until the first one
/// with content — or, on a route with a stream commit policy, until the hold releases —
/// (when the attempt claims the client, or learns another attempt has it), then passed to the
/// client's stream. A failure while the answer is held is a failure before the first byte.
/// The attempt ends at `[DONE]`, at the upstream's error, or at a break (cut, end before a
/// finish, a malformed event when the route fails on them, a limit); after `[DONE]` the rest
/// of the response is read to its end, so that the connection goes back to the pool (a
/// reader dropped at `[DONE]`, before the response's last chunk, makes AsyncHTTPClient close
/// it).
///
/// Two flaws do not break an answer: an event that is not JSON is left out when the route
/// drops them (`on_malformed_event`, the default), and a body that ends cleanly after a
/// choice finished (`finish_reason`) is complete without its `[DONE]`, which the gateway
/// sends. Both are counted (``GatewayMetrics/StreamRepair``).
final class StreamRelay: HTTPClientResponseDelegate {
    typealias Response = Void

    /// Bytes read after the attempt ended (after `[DONE]`) before the connection is given up
    /// instead of returned to the pool.
    static let drainLimit = 64 << 10

    struct Stopped: Error {}

    private struct State {
        var answer = UpstreamAnswer()
        var frames: SSEFrames
        /// Frames before the first with content, sent when this attempt claims the client.
        var held: [ByteBuffer] = []
        var heldBytes = 0
        var committed = false
        var progress = AttemptProgress()
        var usage: (input: Int, output: Int)?
        var ended = false
        var firstTokenTimer: Scheduled<Void>?
        /// Armed at the first content frame when the route has an idle limit; it looks at
        /// ``lastFrameAt`` when it fires and runs again if a frame came since.
        var idleTimer: Scheduled<Void>?
        /// Releases a held answer `afterSeconds` after its first token.
        var holdTimer: Scheduled<Void>?
        var lastFrameAt = NIODeadline.uptimeNanoseconds(0)
        /// A choice of the answer finished (`finish_reason`).
        var finished = false
        var drained = 0
    }

    /// What to do once the state's lock is released: the attempt's ending reported.
    private struct After {
        let ending: UpstreamAttempt.Ending
        let timers: (firstToken: Scheduled<Void>?, idle: Scheduled<Void>?, hold: Scheduled<Void>?)
        let onEnd: @Sendable (UpstreamAttempt.Ending) -> Void

        func run() {
            timers.firstToken?.cancel()
            timers.idle?.cancel()
            timers.hold?.cancel()
            onEnd(ending)
        }
    }

    /// What the route says about the stream's flaws, and where they are counted.
    struct Conduct: Sendable {
        let onMalformedEvent: MalformedEventPolicy
        /// The longest gap between two frames after the first content frame (nil: none).
        let idleLimit: TimeAmount?
        /// When the answer goes to the client, and its `after_s` in real time.
        let commit: StreamCommit
        let holdFor: TimeAmount?
        let repaired: @Sendable (GatewayMetrics.StreamRepair) -> Void
    }

    private static let logger = Logger(label: "brownout.gateway.stream")

    private let state: Mutex<State>
    private let chat: ClientRequest
    private let firstToken: @Sendable () -> Bool
    private let stream: ClientStream?
    private let conduct: Conduct
    private let ended: UpstreamAttempt.Ended
    private let onEnd: @Sendable (UpstreamAttempt.Ending) -> Void

    /// `firstToken` is called at the first frame with content (or at the answer's end, if
    /// none came) and says whether this attempt answers the client; `ended` makes the
    /// attempt's ending, and `onEnd` gets it, once, on the event loop.
    init(
        chat: ClientRequest, upstreamProtocol: APIProtocol, firstToken: @escaping @Sendable () -> Bool, stream: ClientStream?,
        conduct: Conduct, ended: @escaping UpstreamAttempt.Ended,
        onEnd: @escaping @Sendable (UpstreamAttempt.Ending) -> Void
    ) {
        self.state = Mutex(State(frames: SSEFrames(client: chat.api, upstream: upstreamProtocol)))
        self.chat = chat
        self.firstToken = firstToken
        self.stream = stream
        self.conduct = conduct
        self.ended = ended
        self.onEnd = onEnd
    }

    /// Ends the attempt as timed out if no content has come by `deadline` (the first-token
    /// limit), and cancels the upstream request.
    func limitFirstToken(at deadline: NIODeadline, task: HTTPClient.Task<Void>) {
        state.withLock { state in
            guard !state.ended, !state.committed else { return }
            state.firstTokenTimer = task.eventLoop.scheduleTask(deadline: deadline) { [self] in
                let after = self.state.withLock { state -> After? in
                    guard !state.ended, state.progress.firstTokenAt == nil else { return nil }
                    return end(&state, .timeout)
                }
                guard let after else { return }
                after.run()
                task.cancel()
            }
        }
    }

    func didReceiveHead(task: HTTPClient.Task<Void>, _ head: HTTPResponseHead) -> EventLoopFuture<Void> {
        state.withLock { $0.answer.take(head) }
        return task.eventLoop.makeSucceededVoidFuture()
    }

    func didReceiveBodyPart(task: HTTPClient.Task<Void>, _ buffer: ByteBuffer) -> EventLoopFuture<Void> {
        let (after, stop) = state.withLock { state -> (After?, Bool) in
            if state.ended {
                // After the end: read on, so that the connection can be reused.
                state.drained += buffer.readableBytes
                return (nil, state.drained > Self.drainLimit)
            }
            if !state.answer.isSuccess {
                // An error's body, read for its reason (dropped past its limit).
                _ = state.answer.gather(buffer)
                return (nil, false)
            }
            return relay(&state, buffer, task: task)
        }
        after?.run()
        return stop ? task.eventLoop.makeFailedFuture(Stopped()) : task.eventLoop.makeSucceededVoidFuture()
    }

    func didFinishRequest(task: HTTPClient.Task<Void>) throws {
        let after = state.withLock { state -> After? in
            guard !state.ended else { return nil }
            let answer = state.answer
            if !answer.isSuccess {
                return end(
                    &state, UpstreamAttempt.classify(status: answer.status, body: answer.body), retryAfter: answer.retryAfterSeconds,
                    reply: .upstreamError(UpstreamAttempt.upstreamError(status: answer.status, body: answer.body)))
            }
            // The body ended cleanly without [DONE]: complete if a choice finished (the gateway
            // sends the [DONE]), else a truncated answer.
            if state.finished {
                if !state.committed && !commit(&state) { return end(&state, .cancelled) }
                conduct.repaired(.completedWithoutDone)
                return end(&state, .success, usage: state.usage ?? (chat.estimatedInputTokens, state.progress.tokens))
            }
            return end(&state, state.committed ? .failedAfterFirstByte : .connectionError)
        }
        after?.run()
    }

    func didReceiveError(task: HTTPClient.Task<Void>, _ error: any Error) {
        let after = state.withLock { state -> After? in
            guard !state.ended else { return nil }
            return end(&state, UpstreamAttempt.outcome(of: error, afterFirstByte: state.committed))
        }
        after?.run()
    }

    /// The answer goes to the client now (its first output, or the hold released): this
    /// attempt claims the client (false: another attempt has it), and what it held goes out.
    private func commit(_ state: inout State) -> Bool {
        state.progress.sawFirstToken()
        state.firstTokenTimer?.cancel()
        state.firstTokenTimer = nil
        state.holdTimer?.cancel()
        state.holdTimer = nil
        guard firstToken() else { return false }
        state.committed = true
        for bytes in state.held { stream?.send(bytes) }
        state.held = []
        state.heldBytes = 0
        return true
    }

    /// The first content frame came: the first-token limit is met, the idle limit starts, and
    /// a hold by time starts its clock.
    private func sawFirstContent(_ state: inout State, task: HTTPClient.Task<Void>) {
        state.progress.sawFirstToken()
        state.firstTokenTimer?.cancel()
        state.firstTokenTimer = nil
        armIdleLimit(&state, task: task)
        if let hold = conduct.holdFor {
            state.holdTimer = task.eventLoop.scheduleTask(in: hold) { [self] in
                let after = self.state.withLock { state -> After? in
                    guard !state.ended, !state.committed else { return nil }
                    return commit(&state) ? nil : end(&state, .cancelled)
                }
                guard let after else { return }
                after.run()
                task.cancel()
            }
        }
    }

    /// Reads the frames in `buffer`, and passes them on once this attempt answers the client.
    /// Returns what to do after the lock, and whether to stop reading (the request is then
    /// cancelled and its connection closed).
    private func relay(_ state: inout State, _ buffer: ByteBuffer, task: HTTPClient.Task<Void>) -> (After?, Bool) {
        if state.idleTimer != nil { state.lastFrameAt = .now() }
        for frame in state.frames.append(buffer) {
            switch frame {
            case .chunk(let bytes, let hasContent, let finished, let usage):
                if finished { state.finished = true }
                if let usage {
                    state.usage = usage
                    if !chat.includeUsage { continue }
                }
                if hasContent && state.progress.firstTokenAt == nil { sawFirstContent(&state, task: task) }
                if hasContent { state.progress.forwardedToken() }
                if state.committed {
                    stream?.send(bytes)
                    continue
                }
                state.held.append(bytes)
                state.heldBytes += bytes.readableBytes
                guard state.progress.firstTokenAt != nil else { continue }
                // The hold releases (by tokens; by time, its timer), or has held all it may.
                let full = state.heldBytes > conduct.commit.maxHeldBytes
                guard full || conduct.commit.releases(tokens: state.progress.tokens, sinceFirstTokenNanoseconds: 0) else { continue }
                if full { conduct.repaired(.committedAtHoldLimit) }
                // Another attempt has the client: this one stops here.
                if !commit(&state) { return (end(&state, .cancelled), true) }
            case .done:
                if !state.committed && !commit(&state) { return (end(&state, .cancelled), true) }
                return (end(&state, .success, usage: state.usage ?? (chat.estimatedInputTokens, state.progress.tokens)), false)
            case .error:
                return (end(&state, state.committed ? .failedAfterFirstByte : .serverError), true)
            case .malformed(let text):
                if conduct.onMalformedEvent == .drop {
                    conduct.repaired(.malformedEventDropped)
                    Self.logger.warning(
                        "an upstream stream event that is not JSON was left out", metadata: ["model": "\(chat.model)", "data": "\(text)"])
                    continue
                }
                return (end(&state, state.committed ? .failedAfterFirstByte : .serverError), true)
            }
        }
        return (nil, false)
    }

    /// Arms the idle limit at the first content frame: one timer, which on firing either finds
    /// a frame came since (and runs again from that frame) or cuts the attempt: timed out, or
    /// failed after its first byte once the client has one (conduct rule 4).
    private func armIdleLimit(_ state: inout State, task: HTTPClient.Task<Void>) {
        guard let idle = conduct.idleLimit else { return }
        state.lastFrameAt = .now()
        state.idleTimer = scheduleIdleCheck(at: state.lastFrameAt + idle, idle: idle, task: task)
    }

    private func scheduleIdleCheck(at deadline: NIODeadline, idle: TimeAmount, task: HTTPClient.Task<Void>) -> Scheduled<Void> {
        task.eventLoop.scheduleTask(deadline: deadline) { [self] in
            let after = self.state.withLock { state -> After? in
                guard !state.ended else { return nil }
                let due = state.lastFrameAt + idle
                if due > .now() {
                    state.idleTimer = scheduleIdleCheck(at: due, idle: idle, task: task)
                    return nil
                }
                state.idleTimer = nil
                conduct.repaired(.idleCut)
                return end(&state, state.committed ? .failedAfterFirstByte : .timeout)
            }
            guard let after else { return }
            after.run()
            task.cancel()
        }
    }

    /// Ends the attempt (once): its ending is reported after the lock.
    private func end(
        _ state: inout State, _ outcome: OutcomeClass, retryAfter: Double? = nil, usage: (input: Int, output: Int)? = nil,
        reply: UpstreamAttempt.Reply = .none
    ) -> After {
        state.ended = true
        let timers = (state.firstTokenTimer, state.idleTimer, state.holdTimer)
        state.firstTokenTimer = nil
        state.idleTimer = nil
        state.holdTimer = nil
        return After(ending: ended(outcome, retryAfter, usage, reply, state.progress), timers: timers, onEnd: onEnd)
    }
}
