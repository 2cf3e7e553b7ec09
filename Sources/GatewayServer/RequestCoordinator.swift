import Foundation
import HTTPTypes
import NIOCore
import RoutingCore
import Synchronization

/// What the gateway answers a client: a whole response (success or error), or the headers
/// of a stream whose frames follow.
enum GatewayAnswer: Sendable {
    case whole(status: Int, headers: HTTPFields, body: ByteBuffer)
    case stream(headers: HTTPFields, ClientStream)
}

/// Carries out the router's decisions for one request, as GatewaySim's gateway actor does in
/// the simulator: sends attempts, waits out backoffs, fires hedges, and reports every outcome
/// back. It decides nothing itself. Failover is possible until the first byte reaches the
/// client, never after: a stream that breaks after it ends in an error event, never `[DONE]`.
struct RequestCoordinator: Sendable {
    enum Event: Sendable {
        case finished(attempt: Int32, UpstreamAttempt.Ending)
        case committed(attempt: Int32)
        case hedgeDue
        /// The client went away mid-stream: the attempts still out are cancelled.
        case clientGone
    }

    let core: GatewayCore
    let chat: ChatRequest
    let team: String
    let request: RoutingRequest
    let received: ContinuousClock.Instant

    /// Answers the request: returns as soon as the client's response can start (a stream's
    /// first token, or the end); a stream goes on in the background.
    static func answer(_ chat: ChatRequest, team: String, core: GatewayCore) async -> GatewayAnswer {
        let received = ContinuousClock.now
        let id = core.requestID()
        let request: RoutingRequest
        do {
            request = try core.router.withLock { slot throws(RoutingNameError) in
                try slot.router.request(id: id, route: chat.model, team: team, inputTokens: chat.estimatedInputTokens, maxOutputTokens: chat.maxOutputTokens)
            }
        } catch {
            let answer = OpenAIError(status: 404, message: "The model '\(chat.model)' does not exist: \(error.description)", type: "invalid_request_error", code: "model_not_found")
            return .whole(status: 404, headers: core.explaining.fields(requestID: id, attempts: 0, overhead: received.duration(to: .now), answeredBy: nil,
                                                                       contentType: ExplainingHeaders.json), body: answer.body)
        }
        core.metrics.requestStarted()
        let coordinator = RequestCoordinator(core: core, chat: chat, team: team, request: request, received: received)
        // A whole answer on a route without hedging has one attempt out at a time and nothing
        // to settle after the answer: it runs right here, in the request's own task.
        if !chat.stream && core.config.routes[request.route.index].hedging == nil {
            var answer: GatewayAnswer?
            await coordinator.run(inline: true, stream: nil) { answer = $0 }
            return answer ?? .whole(status: 499, headers: [:], body: OpenAIError(status: 499, message: "the client went away", type: "cancelled").body)
        }
        let stream = ClientStream()
        return await withCheckedContinuation { (start: CheckedContinuation<GatewayAnswer, Never>) in
            Task { await coordinator.run(inline: false, stream: stream) { start.resume(returning: $0) } }
        }
    }

    /// Drives the request; `deliver` gets the client's answer once. `inline`: each attempt is
    /// awaited right here instead of in a task of its own (whole answers without hedging). A
    /// stream's attempts run on the event loop (``StreamRelay``) and report here.
    private func run(inline: Bool, stream: ClientStream?, deliver: (GatewayAnswer) -> Void) async {
        // Attempts in tasks of their own, and timers, report here; an inline attempt's ending
        // is handled as it returns.
        let (events, sink) = inline ? (nil, nil) : AsyncStream.makeStream(of: Event.self)
        var iterator = events?.makeAsyncIterator()
        if let sink { stream?.onClientGone { sink.yield(.clientGone) } }
        var clientGone = false
        var inlineEnding: Event?
        var answered = false
        func respond(_ answer: GatewayAnswer) {
            if !answered {
                answered = true
                deliver(answer)
            }
        }
        let committed = CommitSlot()
        // How to cancel each attempt still out.
        var outstanding: [Int32: @Sendable () -> Void] = [:]
        var hedgeTimer: Task<Void, Never>?
        var wholeAnswer: ByteBuffer?
        var targets: [Int32: TargetID] = [:]
        var lastError: OpenAIError?
        var clock = BusyClock(start: received)

        var (state, first) = core.begin(request)
        var pending: Decision? = first

        loop: while true {
            if let decision = pending {
                pending = nil
                switch decision.action {
                case .send, .hedge:
                    let attempt = decision.attempt
                    if committed.winner != nil || clientGone {
                        // The client already has another attempt's bytes (nothing is sent after
                        // the first byte), or is gone: the router learns the attempt never happened.
                        pending = core.attemptFinished(&state, attempt: attempt, AttemptOutcome(outcome: .cancelled, latencyNanoseconds: 0))
                        continue
                    }
                    guard let target = decision.target else { continue }
                    targets[attempt] = target
                    clock.begin()
                    let upstream = core.upstreams[target.index]
                    let chat = self.chat
                    if inline {
                        let ending = await upstream.run(chat, firstTokenLimit: decision.firstTokenTimeoutNanoseconds, attemptLimit: decision.attemptTimeoutNanoseconds,
                                                        firstToken: { committed.claim(attempt) })
                        inlineEnding = .finished(attempt: attempt, ending)
                        break
                    }
                    guard let sink else { continue }
                    if chat.stream {
                        outstanding[attempt] = upstream.startStream(chat, firstTokenLimit: decision.firstTokenTimeoutNanoseconds, attemptLimit: decision.attemptTimeoutNanoseconds,
                                                           firstToken: {
                                                               let won = committed.claim(attempt)
                                                               if won { sink.yield(.committed(attempt: attempt)) }
                                                               return won
                                                           }, stream: stream) { sink.yield(.finished(attempt: attempt, $0)) }
                    } else {
                        let task = Task {
                            let ending = await upstream.run(chat, firstTokenLimit: decision.firstTokenTimeoutNanoseconds, attemptLimit: decision.attemptTimeoutNanoseconds,
                                                            firstToken: { committed.claim(attempt) })
                            sink.yield(.finished(attempt: attempt, ending))
                        }
                        outstanding[attempt] = { task.cancel() }
                    }
                    if let after = decision.hedgeAfterNanoseconds {
                        hedgeTimer = Task {
                            try? await Task.sleep(for: core.routerTime.realDuration(router: after))
                            if !Task.isCancelled { sink.yield(.hedgeDue) }
                        }
                    }
                case .wait:
                    clock.begin()
                    try? await Task.sleep(for: core.routerTime.realDuration(router: decision.delayNanoseconds))
                    clock.end()
                    pending = core.resume(&state)
                    continue
                case .none:
                    break
                case .complete:
                    hedgeTimer?.cancel()
                    if let loser = decision.cancelAttempt { outstanding[loser]?() }
                    let winner = decision.attempt
                    let local = targets[winner].map { core.config.targets[$0.index].kind == .local } ?? false
                    finishMetrics(result: .success, fallback: local, clock: clock)
                    if let stream, chat.stream {
                        stream.send(ClientStream.done)
                        stream.finish()
                    } else {
                        respond(.whole(status: 200, headers: headers(state: state, winner: winner, targets: targets, clock: clock, contentType: ExplainingHeaders.json),
                                       body: wholeAnswer ?? ByteBuffer()))
                    }
                    break loop
                case .fail, .reject:
                    hedgeTimer?.cancel()
                    let error = failure(decision, lastError: lastError)
                    finishMetrics(result: decision.action == .reject ? .rejected : .error, fallback: false, clock: clock)
                    if answered, let stream {
                        // After the first byte: an error event, and never a clean [DONE].
                        stream.send(error.streamFrame)
                        stream.finish()
                    } else {
                        respond(.whole(status: error.status, headers: headers(state: state, winner: nil, targets: targets, clock: clock, contentType: ExplainingHeaders.json,
                                                                              failure: decision.failureLabel),
                                       body: error.body))
                    }
                    break loop
                }
                if pending != nil { continue }
            }
            let next: Event?
            if let ending = inlineEnding {
                inlineEnding = nil
                next = ending
            } else {
                next = await iterator?.next()
            }
            guard let event = next else { break }
            switch event {
            case .finished(let attempt, let ending):
                outstanding[attempt] = nil
                clock.end()
                if let target = targets[attempt] { core.metrics.attemptEnded(upstream: target, outcome: ending.outcome.outcome) }
                switch ending.reply {
                // Only the attempt that answers the client brings a whole answer back.
                case .whole(let body): wholeAnswer = body
                case .upstreamError(let error): lastError = error
                case .none: break
                }
                pending = core.attemptFinished(&state, attempt: attempt, ending.outcome, firstTokenNanoseconds: ending.firstTokenNanoseconds)
            case .committed(let attempt):
                hedgeTimer?.cancel()
                for (other, cancel) in outstanding where other != attempt { cancel() }
                guard let stream else { continue }
                respond(.stream(headers: headers(state: state, winner: attempt, targets: targets, clock: clock, contentType: ExplainingHeaders.eventStream,
                                                 cacheControl: ExplainingHeaders.noCache), stream))
            case .hedgeDue:
                pending = core.hedgeDue(&state)
            case .clientGone:
                clientGone = true
                hedgeTimer?.cancel()
                for cancel in outstanding.values { cancel() }
            }
        }
        // Attempts still out (a cancelled hedge loser) report back, so the router settles them.
        while !outstanding.isEmpty, let event = await iterator?.next() {
            if case .finished(let attempt, let ending) = event {
                outstanding[attempt] = nil
                _ = core.attemptFinished(&state, attempt: attempt, ending.outcome, firstTokenNanoseconds: ending.firstTokenNanoseconds)
            }
        }
        if !answered {
            respond(.whole(status: 499, headers: [:], body: OpenAIError(status: 499, message: "the client went away", type: "cancelled").body))
        }
    }

    private func headers(state: RequestState, winner: Int32?, targets: [Int32: TargetID], clock: BusyClock, contentType: HTTPField,
                         cacheControl: HTTPField? = nil, failure: String? = nil) -> HTTPFields {
        core.explaining.fields(requestID: request.id, attempts: state.attemptsSent, overhead: clock.gatewayTime, answeredBy: winner.flatMap { targets[$0] },
                               contentType: contentType, cacheControl: cacheControl, failure: failure)
    }

    private func finishMetrics(result: GatewayMetrics.RequestResult, fallback: Bool, clock: BusyClock) {
        core.metrics.requestEnded(team: request.team, result: result, fallback: fallback, overhead: clock.gatewayTime)
    }

    /// The error a failed or refused request gets: the upstream's own 4xx unchanged, else the
    /// gateway's reason.
    private func failure(_ decision: Decision, lastError: OpenAIError?) -> OpenAIError {
        let reasons = decision.reasons
        if reasons.contains(.budgetExhausted) {
            return OpenAIError(status: 429, message: "team '\(team)' has used its budget for this period", type: "insufficient_quota", code: "budget_exhausted")
        }
        if reasons.contains(.rateLimited) || reasons.contains(.throttledLocally) {
            return OpenAIError(status: 429, message: "rate limit of team '\(team)' or model '\(chat.model)' reached", type: "rate_limit_error", code: "rate_limit_exceeded")
        }
        if reasons.contains(.shed) || reasons.contains(.concurrencyLimit) {
            return OpenAIError(status: 503, message: "the gateway is shedding lower-priority traffic; retry later", type: "overloaded_error", code: "shed")
        }
        if let outcome = decision.outcome, outcome == .clientError || outcome == .spendLimit, let lastError { return lastError }
        if decision.outcome == .timeout || reasons.contains(.deadlineExceeded) {
            return OpenAIError(status: 504, message: "no upstream answered in time", type: "timeout", code: "upstream_timeout")
        }
        if decision.outcome == .failedAfterFirstByte {
            return OpenAIError(status: 502, message: "the upstream's stream broke after the answer began; the answer is incomplete", type: "upstream_error", code: "stream_interrupted")
        }
        if let lastError {
            return OpenAIError(status: 502, message: "every upstream failed; the last said \(lastError.status): \(lastError.message)", type: "upstream_error", code: lastError.code)
        }
        return OpenAIError(status: 503, message: "no upstream is available for model '\(chat.model)'", type: "upstream_error", code: "no_upstream_available")
    }
}

/// The gateway's own time for a request: everything but the stretches when an upstream
/// attempt was out or a backoff was running.
struct BusyClock {
    let start: ContinuousClock.Instant
    private var open = 0
    private var since: ContinuousClock.Instant
    private var busy = Duration.zero

    init(start: ContinuousClock.Instant) {
        self.start = start
        since = start
    }

    mutating func begin() {
        if open == 0 { since = .now }
        open += 1
    }

    mutating func end() {
        open = max(0, open - 1)
        if open == 0 { busy += since.duration(to: .now) }
    }

    var gatewayTime: Duration {
        var total = start.duration(to: .now) - busy
        if open > 0 { total -= since.duration(to: .now) }
        return max(.zero, total)
    }

    /// A duration in milliseconds with three decimals ("0.042"), as the overhead header gives it.
    static func milliseconds(_ duration: Duration) -> String {
        let (s, atto) = duration.components
        let microseconds = max(0, s * 1_000_000 + atto / 1_000_000_000_000)
        let fraction = String(microseconds % 1_000)
        return "\(microseconds / 1_000)." + String(repeating: "0", count: 3 - fraction.count) + fraction
    }
}

/// Which attempt answers the client: the first to produce output claims it.
final class CommitSlot: Sendable {
    private let slot = Mutex<Int32?>(nil)

    var winner: Int32? { slot.withLock { $0 } }

    /// Whether `attempt` answers the client (it claims the slot if it is free).
    func claim(_ attempt: Int32) -> Bool {
        slot.withLock { winner in
            if winner == nil { winner = attempt }
            return winner == attempt
        }
    }
}
