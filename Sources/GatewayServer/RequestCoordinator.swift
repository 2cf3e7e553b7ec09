import Foundation
import GatewayConduct
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

/// Drives one request's conduct (``GatewayConduct/RequestConduct``, the state machine the
/// simulator drives too) with real I/O: turns its effects into attempts, timers, cancellations
/// and the client's answer, and feeds it what happened — an attempt's end, its first byte
/// reaching the client, a timer, the client going away. Every rule about what happens to the
/// request is the conduct's; this adapter only does what it says.
struct RequestCoordinator: Sendable {
    enum Event: Sendable {
        case finished(attempt: Int32, UpstreamAttempt.Ending)
        /// The attempt's first output claimed the client (``CommitSlot``).
        case committed(attempt: Int32)
        case hedgeDue
        /// The client went away: its connection closed, or a write of the stream failed.
        case clientGone
        /// The shutdown grace ended with the request in flight (``ShutdownDeadline``).
        case shutdownCut
    }

    let core: GatewayCore
    let chat: ClientRequest
    let team: String
    let request: RoutingRequest
    let received: ContinuousClock.Instant

    /// Answers the request: returns as soon as the client's response can start (a stream's
    /// first token, or the end); a stream goes on in the background. `connection` is the
    /// client's, watched until the request is over (``ClientDisconnectWatch``): a client that
    /// leaves before its answer has its attempts cancelled then, not when a write fails.
    static func answer(_ chat: ClientRequest, team: String, core: GatewayCore, connection: (any Channel)? = nil) async -> GatewayAnswer {
        let received = ContinuousClock.now
        let id = core.requestID()
        let request: RoutingRequest
        do {
            request = try core.router.withLock { slot throws(RoutingNameError) in
                try slot.router.request(
                    id: id, route: chat.model, team: team, inputTokens: chat.estimatedInputTokens, maxOutputTokens: chat.maxOutputTokens,
                    streamed: chat.stream, apiProtocol: chat.api)
            }
        } catch {
            let answer = GatewayError(
                status: 404, message: "The model '\(chat.model)' does not exist: \(error.description)", type: "invalid_request_error",
                code: "model_not_found")
            return .whole(
                status: 404,
                headers: core.explaining.fields(
                    requestID: id, attempts: 0, overhead: received.duration(to: .now), answeredBy: nil,
                    contentType: ExplainingHeaders.json), body: answer.body(for: chat.api))
        }
        core.metrics.requestStarted()
        let coordinator = RequestCoordinator(core: core, chat: chat, team: team, request: request, received: received)
        let (conduct, first) = core.conduct { slot in
            var conduct = RequestConduct(unbegun: request)
            let effects = conduct.begin(&slot)
            return (conduct, effects)
        }
        // A whole answer on a route without hedging (the route in force: a budget may have
        // switched it) has one attempt out at a time and nothing to settle after the answer:
        // it runs right here, in the request's own task.
        if !chat.stream && core.config.routes[conduct.routing.route.index].hedging == nil {
            var answer: GatewayAnswer?
            await coordinator.run(conduct, first, inline: true, stream: nil, connection: connection) { answer = $0 }
            return answer
                ?? .whole(status: 499, headers: [:], body: GatewayError(status: 499, message: "the client went away", type: "cancelled").body)
        }
        let metrics = core.metrics
        let stream = ClientStream(maxBufferedBytes: core.streamBufferMaxBytes) { metrics.slowClientCut() }
        return await withCheckedContinuation { (start: CheckedContinuation<GatewayAnswer, Never>) in
            Task { await coordinator.run(conduct, first, inline: false, stream: stream, connection: connection) { start.resume(returning: $0) } }
        }
    }

    /// Drives the request, begun as `conduct` with the effects `first` of its first decision,
    /// until its conduct is over; `deliver` gets the client's answer once.
    /// `inline`: each attempt is awaited right here instead of in a task of its own (whole
    /// answers without hedging). A stream's attempts run on the event loop (``StreamRelay``)
    /// and report here.
    private func run(
        _ begun: RequestConduct, _ first: ConductEffects, inline: Bool, stream: ClientStream?, connection: (any Channel)?,
        deliver: (GatewayAnswer) -> Void
    ) async {
        // Attempts in tasks of their own, and timers, report here; an inline attempt's ending
        // is handled as it returns.
        let (events, sink) = inline ? (nil, nil) : AsyncStream.makeStream(of: Event.self)
        var iterator = events?.makeAsyncIterator()
        if let sink { stream?.onClientGone { sink.yield(.clientGone) } }
        // An inline attempt is cancelled where it runs; the conduct hears of the departure
        // when the attempt returns, before its (cancelled) ending.
        let inlineAttempt = InlineAttemptCancel()
        let watch = connection.map { channel in
            ClientDisconnectWatch(channel: channel) {
                if let sink { sink.yield(.clientGone) } else { inlineAttempt.clientLeft() }
            }
        }
        defer { watch?.stop() }
        // Cut at the end of a shutdown grace: as a departed client is, but the client is still
        // there and is told (503, or an error event mid-stream).
        let shutdown = ShutdownCut()
        core.registerCut(request.id) {
            shutdown.mark()
            if let sink { sink.yield(.shutdownCut) } else { inlineAttempt.clientLeft() }
        }
        defer { core.unregisterCut(request.id) }
        var inlineEnding: Event?
        var answered = false
        func respond(_ answer: GatewayAnswer) {
            if !answered {
                answered = true
                deliver(answer)
            }
        }
        // Which attempt's output goes to the client, claimed on the event loop as it arrives.
        let committed = CommitSlot()
        // How to cancel each attempt still out.
        var outstanding: [Int32: @Sendable () -> Void] = [:]
        var hedgeTimer: Task<Void, Never>?
        var wholeAnswer: ByteBuffer?
        var lastError: GatewayError?
        var clock = BusyClock(start: received)

        var conduct = begun
        var pending: ConductEffects? = first

        while true {
            if let effects = pending {
                pending = nil
                effects.cancellations.forEach { attempt, _ in outstanding[attempt]?() }
                if effects.disarmHedgeTimer { hedgeTimer?.cancel() }
                if let attempt = effects.commit, let stream, chat.stream {
                    respond(
                        .stream(
                            headers: headers(
                                conduct, winner: conduct.routing.attemptTarget(attempt), clock: clock, contentType: ExplainingHeaders.eventStream,
                                cacheControl: ExplainingHeaders.noCache), stream))
                }
                if let order = effects.send {
                    clock.begin()
                    let attempt = order.attempt
                    let upstream = core.upstreams[order.target.index]
                    let chat = self.chat
                    if inline {
                        let ending = await upstream.run(
                            chat, attemptLimit: order.attemptLimitNanoseconds, cancel: inlineAttempt,
                            firstToken: { committed.claim(attempt) })
                        if inlineAttempt.clientHasLeft {
                            // Its only effect is cancelling this attempt, which has returned.
                            _ = core.conduct { conduct.clientWentAway(&$0) }
                        }
                        inlineEnding = .finished(attempt: attempt, ending)
                    } else if let sink {
                        if chat.stream {
                            let route = order.route.index
                            outstanding[attempt] = upstream.startStream(
                                chat, order: order, onMalformedEvent: core.config.routes[route].onMalformedEvent,
                                commit: core.config.routes[route].streamCommit,
                                firstToken: {
                                    let won = committed.claim(attempt)
                                    if won { sink.yield(.committed(attempt: attempt)) }
                                    return won
                                }, stream: stream
                            ) { sink.yield(.finished(attempt: attempt, $0)) }
                        } else {
                            let task = Task {
                                let ending = await upstream.run(
                                    chat, attemptLimit: order.attemptLimitNanoseconds,
                                    firstToken: { committed.claim(attempt) })
                                sink.yield(.finished(attempt: attempt, ending))
                            }
                            outstanding[attempt] = { task.cancel() }
                        }
                    }
                }
                if let after = effects.armHedgeTimerNanoseconds, let sink {
                    hedgeTimer = Task {
                        try? await Task.sleep(for: core.routerTime.clock.realDuration(of: after))
                        if !Task.isCancelled { sink.yield(.hedgeDue) }
                    }
                }
                if let ending = effects.ending {
                    end(
                        ending, conduct: conduct, stream: stream, answered: answered, respond: respond, wholeAnswer: wholeAnswer,
                        lastError: lastError, clock: clock, cutByShutdown: shutdown.happened)
                }
                if effects.forget { break }
                if let backoff = effects.backoffNanoseconds {
                    clock.begin()
                    try? await Task.sleep(for: core.routerTime.clock.realDuration(of: backoff))
                    clock.end()
                    pending = core.conduct { conduct.backoffEnded(&$0) }
                    continue
                }
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
                if let target = conduct.routing.attemptTarget(attempt) {
                    core.metrics.attemptEnded(upstream: target, outcome: ending.outcome.outcome, usageEstimated: ending.usageEstimated)
                }
                switch ending.reply {
                // Only the attempt that answers the client brings a whole answer back.
                case .whole(let body): wholeAnswer = body
                case .upstreamError(let error): lastError = error
                case .none: break
                }
                // A whole answer claims the client as it arrives, then ends: the conduct hears
                // of its first byte first, as it does of a stream's.
                let claimed = committed.winner == attempt
                let (first, last) = core.conduct { slot in
                    let first = claimed ? conduct.firstByte(of: attempt, at: slot.now, &slot) : ConductEffects()
                    return (first, conduct.attemptEnded(attempt, ending.outcome, firstTokenNanoseconds: ending.firstTokenNanoseconds, &slot))
                }
                if first != ConductEffects() {
                    // Nothing of a commit is left to do for a whole answer but cancelling the others.
                    first.cancellations.forEach { other, _ in outstanding[other]?() }
                    if first.disarmHedgeTimer { hedgeTimer?.cancel() }
                }
                pending = last
            case .committed(let attempt):
                pending = core.conduct { conduct.firstByte(of: attempt, at: $0.now, &$0) }
            case .hedgeDue:
                pending = core.conduct { conduct.hedgeTimerFired(&$0) }
            case .clientGone, .shutdownCut:
                pending = core.conduct { conduct.clientWentAway(&$0) }
            }
        }
        hedgeTimer?.cancel()
        if !answered {
            respond(
                shutdown.happened
                    ? .whole(
                        status: 503,
                        headers: headers(
                            conduct, winner: nil, clock: clock, contentType: ExplainingHeaders.json,
                            failure: Self.shutdownFailure, sdkMayRetry: true),
                        body: Self.shuttingDown.body(for: chat.api))
                    : .whole(status: 499, headers: [:], body: GatewayError(status: 499, message: "the client went away", type: "cancelled").body))
        }
    }

    /// The request is over for the client: the answer, or the failure as a status (before the
    /// first byte) or a stream's last event (after it — never a clean `[DONE]`).
    /// The answer to a request cut at the end of the shutdown grace: another replica, or this
    /// one restarted, can serve it.
    static let shuttingDown = GatewayError(
        status: 503, message: "the gateway is shutting down; send the request again", type: "server_error",
        code: "gateway_shutting_down")
    static let shutdownFailure = "gateway_shutting_down"

    private func end(
        _ ending: RequestEnding, conduct: RequestConduct, stream: ClientStream?, answered: Bool, respond: (GatewayAnswer) -> Void,
        wholeAnswer: ByteBuffer?, lastError: GatewayError?, clock: BusyClock, cutByShutdown: Bool
    ) {
        if ending.succeeded {
            let local = ending.winnerTarget.map { core.config.targets[$0.index].kind == .local } ?? false
            finishMetrics(result: .success, fallback: local, clock: clock)
            if let stream, chat.stream {
                stream.send(ClientStream.done(for: chat.api))
                stream.finish()
            } else {
                respond(
                    .whole(
                        status: 200, headers: headers(conduct, winner: ending.winnerTarget, clock: clock, contentType: ExplainingHeaders.json),
                        body: wholeAnswer ?? ByteBuffer()))
            }
            return
        }
        let error = cutByShutdown ? Self.shuttingDown : failure(ending, lastError: lastError)
        finishMetrics(result: ending.action == .reject ? .rejected : .error, fallback: false, clock: clock)
        if answered, let stream {
            stream.send(error.streamFrame(for: chat.api))
            stream.finish()
        } else {
            respond(
                .whole(
                    status: error.status,
                    headers: headers(
                        conduct, winner: nil, clock: clock, contentType: ExplainingHeaders.json,
                        failure: cutByShutdown ? Self.shutdownFailure : ending.failureLabel,
                        sdkMayRetry: cutByShutdown || ending.sdkMayRetry),
                    body: error.body(for: chat.api)))
        }
    }

    private func headers(
        _ conduct: RequestConduct, winner: TargetID?, clock: BusyClock, contentType: HTTPField, cacheControl: HTTPField? = nil,
        failure: String? = nil, sdkMayRetry: Bool? = nil
    ) -> HTTPFields {
        let route = conduct.routing.route
        return core.explaining.fields(
            requestID: request.id, attempts: conduct.routing.attemptsSent, overhead: clock.gatewayTime, answeredBy: winner,
            switchedTo: route == request.route ? nil : route, contentType: contentType, cacheControl: cacheControl,
            failure: failure, sdkMayRetry: sdkMayRetry)
    }

    private func finishMetrics(result: GatewayMetrics.RequestResult, fallback: Bool, clock: BusyClock) {
        core.metrics.requestEnded(team: request.team, result: result, fallback: fallback, overhead: clock.gatewayTime)
    }

    /// The error a failed or refused request gets (in the client's API's shape as it is sent): the conduct's
    /// ``GatewayConduct/RequestFailure`` and its status, with the upstream's own 4xx passed back
    /// unchanged when it refused the request.
    private func failure(_ ending: RequestEnding, lastError: GatewayError?) -> GatewayError {
        guard let failure = ending.failure else { preconditionFailure("RequestCoordinator: a failure without one") }
        let status = failure.status
        switch failure {
        case .budgetExhausted:
            return GatewayError(
                status: status, message: "team '\(team)' has used its budget for this period", type: "insufficient_quota", code: "budget_exhausted")
        case .rateLimited:
            return GatewayError(
                status: status, message: "rate limit of team '\(team)' or model '\(chat.model)' reached", type: "rate_limit_error",
                code: "rate_limit_exceeded")
        case .shed:
            return GatewayError(
                status: status, message: "the gateway is shedding lower-priority traffic; retry later", type: "overloaded_error", code: "shed")
        case .refusedByUpstream:
            return lastError
                ?? GatewayError(status: status, message: "the upstream refused the request", type: "invalid_request_error", code: ending.failureLabel)
        case .timedOut:
            return GatewayError(status: status, message: "no upstream answered in time", type: "timeout", code: "upstream_timeout")
        case .streamInterrupted:
            return GatewayError(
                status: status, message: "the upstream's stream broke after the answer began; the answer is incomplete", type: "upstream_error",
                code: "stream_interrupted")
        case .upstreamsFailed:
            if let lastError {
                // A Messages client reads a last overload as Anthropic's own 529 (its SDK's OverloadedError).
                let overloaded = chat.api == .anthropic && lastError.status == 529
                return GatewayError(
                    status: overloaded ? 529 : status, message: "every upstream failed; the last said \(lastError.status): \(lastError.message)",
                    type: overloaded ? "overloaded_error" : "upstream_error", code: lastError.code)
            }
            return GatewayError(
                status: status, message: "every upstream failed; the last attempt ended \(ending.failureLabel)", type: "upstream_error",
                code: ending.failureLabel)
        case .noUpstreamAvailable:
            return GatewayError(
                status: status, message: "no upstream is available for model '\(chat.model)'", type: "upstream_error", code: "no_upstream_available")
        }
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
