/// What the four calls decide with: a retry or not after an attempt ended, the next target
/// and the send to it, and the request's end, settled in the ledger.
extension Router {
    mutating func decideRetry(_ state: inout RequestState, after result: AttemptOutcome, now: RoutingInstant) -> Decision {
        let route = Int(state.routeIndex)
        let policy = routes[route].config.retry
        if result.outcome == .clientError && result.contextWindowExceeded && !routes[route].contextFallbacks.isEmpty && !routes[route].isBypass {
            return sendContextFallback(&state, now: now)
        }
        guard policy.retryOn.contains(result.outcome) else {
            return finish(&state, action: .fail, reasons: [.notRetryable], now: now)
        }
        guard state.attemptsSent < Int32(policy.maxAttempts) else {
            return finish(&state, action: .fail, reasons: [.maxAttempts], now: now)
        }
        let bypass = routes[route].isBypass
        if !bypass {
            guard routes[route].retryBudget.tryWithdrawRetry(at: now) else {
                return finish(&state, action: .fail, reasons: [.retryBudgetEmpty], now: now)
            }
        }
        var reasons: ReasonCodes = [.retry]
        var delay = policy.backoff.delay(retry: Int(state.attemptsSent), previous: state.lastDelay, using: &generator)
        if policy.honourRetryAfter, let retryAfter = result.retryAfterSeconds {
            let honoured = Seconds.nanoseconds(min(retryAfter, policy.retryAfterCapSeconds))
            if honoured > delay {
                delay = honoured
                reasons.insert(.retryAfterHonoured)
            }
        }
        state.lastDelay = delay
        let overall = routes[route].overallTimeout
        if overall > 0 && now.nanoseconds + delay >= state.startedAt + overall {
            return finish(&state, action: .fail, reasons: [.deadlineExceeded], now: now)
        }
        if delay > 0 {
            state.waitingToRetry = true
            var decision = Decision(
                action: .wait, requestID: state.request.id, time: now, route: state.routeIndex, attempt: state.attemptsSent + 1, reasons: reasons)
            decision.delayNanoseconds = delay
            return decision
        }
        if bypass {
            return send(&state, target: state.lastTarget!, reasons: reasons.union(.bypass), hedge: false, now: now)
        }
        return sendNext(&state, reasons: reasons, hedge: false, now: now)
    }

    /// An attempt was refused for its context length: the route's first context-window fallback
    /// not yet tried and available takes the request (no backoff: nothing is wrong with the
    /// upstream; no retry budget or attempt limit: the request changes targets, it is not
    /// retried against a failure), else the refusal is passed back.
    mutating func sendContextFallback(_ state: inout RequestState, now: RoutingInstant) -> Decision {
        state.contextFallbackActive = true
        var rejected: [RejectedAlternative] = []
        let target = pickContextFallback(state, untriedOnly: true, checkingBudgets: true, exclude: nil, now: now, rejected: &rejected)
        passedOver(rejected)
        if let target { return send(&state, target: target, reasons: [.contextWindowFallback], hedge: false, now: now) }
        return finish(&state, action: .fail, reasons: [.notRetryable], now: now)
    }

    /// The targets the decision being made passed over become ``rejectedAlternatives`` (which
    /// each public call empties first).
    @inline(__always)
    mutating func passedOver(_ rejected: [RejectedAlternative]) {
        if !rejected.isEmpty { rejectedAlternatives = rejected }
    }

    /// A call that returns a decision starts with no target passed over.
    @inline(__always)
    mutating func forgetPassedOver() {
        if !rejectedAlternatives.isEmpty { rejectedAlternatives.removeAll(keepingCapacity: true) }
    }

    /// Chooses the next target and sends to it, or fails the request when none is available.
    mutating func sendNext(_ state: inout RequestState, reasons: ReasonCodes, hedge: Bool, now: RoutingInstant) -> Decision {
        var rejected: [RejectedAlternative] = []
        guard let (target, extra) = selectTarget(&state, hedge: hedge, now: now, rejected: &rejected) else {
            passedOver(rejected)
            if hedge {
                return Decision(
                    action: .none, requestID: state.request.id, time: now, route: state.routeIndex, reasons: [.hedge, .noTargetAvailable])
            }
            return finish(&state, action: state.attemptsSent == 0 ? .reject : .fail, reasons: reasons.union(.noTargetAvailable), now: now)
        }
        if !hardBudgetsFit(state.request, target: target, route: Int(state.routeIndex), now: now) {
            if hedge {
                return Decision(action: .none, requestID: state.request.id, time: now, route: state.routeIndex, reasons: [.hedge, .budgetExhausted])
            }
            passedOver(rejected)
            return finish(&state, action: state.attemptsSent == 0 ? .reject : .fail, reasons: reasons.union(.budgetExhausted), now: now)
        }
        passedOver(rejected)
        return send(&state, target: target, reasons: reasons.union(extra), hedge: hedge, now: now)
    }

    mutating func send(_ state: inout RequestState, target: TargetID, reasons: ReasonCodes, hedge: Bool, now: RoutingInstant) -> Decision {
        let route = Int(state.routeIndex)
        let t = target
        state.attemptsSent += 1
        let attempt = state.attemptsSent
        let bypass = routes[route].isBypass
        let reserved = bypass ? 0 : reserveBudgets(state.request, target: t, route: route)
        let slot = RequestState.InFlight(attempt: attempt, target: target, reservedUSD: reserved, isHedge: hedge, startedAt: now.nanoseconds)
        if hedge { state.hedge = slot } else { state.primary = slot }
        state.attemptsOnLastTarget = state.lastTarget == target ? state.attemptsOnLastTarget &+ 1 : 1
        state.lastTarget = target
        state.triedMask |= 1 << UInt64(t.raw & 63)
        targets[t.index].outstanding += 1
        if !targetIsLocal[t.index] { routes[route].frontierAttemptsInFlight += 1 }
        if !bypass {
            targets[t.index].attemptStarted(inputTokens: state.request.inputTokens, at: now)
        }
        var decision = Decision(
            action: hedge ? .hedge : .send, requestID: state.request.id, time: now, route: state.routeIndex, target: target, attempt: attempt,
            reasons: reasons)
        decision.firstTokenTimeout = routes[route].firstTokenTimeout
        var attemptTimeout = routes[route].perTryTimeout
        let overall = routes[route].overallTimeout
        if overall > 0 {
            let remaining = max(1, state.startedAt + overall - now.nanoseconds)
            attemptTimeout = attemptTimeout > 0 ? min(attemptTimeout, remaining) : remaining
        }
        decision.attemptTimeout = attemptTimeout
        decision.idleTimeout = routes[route].idleTimeout
        if attempt == 1, !bypass, let hedging = routes[route].config.hedging {
            switch hedging.delay {
            case .fixed(let seconds):
                decision.hedgeAfter = Seconds.nanoseconds(seconds)
            case .latencyPercentile(let percentile, let minimum):
                if targets[t.index].latencySamples >= minimum {
                    decision.hedgeAfter = max(1, Seconds.nanoseconds(targets[t.index].latencies.seconds(atPercentile: percentile)))
                }
            }
        }
        return decision
    }

    mutating func finish(_ state: inout RequestState, action: RoutingAction, reasons: ReasonCodes, now: RoutingInstant) -> Decision {
        let route = Int(state.routeIndex)
        state.finished = true
        // Only admitted requests get here, and each holds one place in its route.
        routes[route].inFlight = max(0, routes[route].inFlight - 1)
        let bypass = routes[route].isBypass
        ledger.settle(
            team: Int(state.request.teamIndex), succeeded: action == .complete, winningUSD: state.winningUSD,
            failedUSD: state.failedUSD, cancelledUSD: state.cancelledUSD, gpuSeconds: state.gpuSeconds, gpuUSD: state.gpuUSD, bypass: bypass)
        // The amounts stay in the state (``RequestState/charges``): a gateway's spend ledger
        // reads them; a result that arrives after the end adds to them as it is settled.
        var decision = Decision(
            action: action, requestID: state.request.id, time: now, route: state.routeIndex, attempt: state.attemptsSent, reasons: reasons)
        if action == .fail { decision.outcome = state.lastOutcome }
        return decision
    }
}
