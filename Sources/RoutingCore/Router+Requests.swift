/// The four calls that drive a request: its arrival, the end of each attempt, the end of a
/// wait before a retry, and a hedge coming due.
extension Router {
    /// A request arrives: admission, budgets, then the first attempt's target.
    public mutating func begin(_ request: RoutingRequest) -> (RequestState, Decision) {
        var state = RequestState(unbegun: request)
        let decision = begin(&state)
        return (state, decision)
    }

    /// ``begin(_:)-(RoutingRequest)`` for a caller that keeps the request's state in place (the
    /// state is large, and a simulated gateway begins a request on every arrival): `state`, made
    /// by ``RequestState/init(unbegun:)`` and not begun since, begins where it is.
    public mutating func begin(_ state: inout RequestState) -> Decision {
        precondition(state.attemptsSent == 0 && !state.finished, "Router.begin: the state has begun already (make it with RequestState(unbegun:))")
        forgetPassedOver()
        let now = clock.now
        let request = state.request
        state.startedAt = now.nanoseconds
        let routeIndex = Int(request.routeIndex)
        if routes[routeIndex].isBypass {
            state.reasons.insert(.bypass)
            routes[routeIndex].inFlight += 1
            let target = routes[routeIndex].tiers[0][0]
            return send(&state, target: target, reasons: [.primary, .bypass], hedge: false, now: now)
        }
        let tokens = Double(request.inputTokens + request.maxOutputTokens)
        let team = Int(request.teamIndex)
        if let refusal = admissionRefusal(request, route: routeIndex, tokens: tokens, now: now) {
            state.finished = true
            return Decision(action: .reject, requestID: request.id, time: now, route: request.routeIndex, reasons: refusal)
        }
        var reasons: ReasonCodes = [.primary]
        switch checkBudgets(request, route: routeIndex, now: now) {
        case .allowed:
            break
        case .alert:
            reasons.insert(.budgetAlert)
        case .degrade(let to):
            reasons.insert(.budgetDegraded)
            state.routeIndex = Int32(to)
        case .exhausted:
            state.finished = true
            return Decision(action: .reject, requestID: request.id, time: now, route: request.routeIndex, reasons: .budgetExhausted)
        }
        // Admitted: take from the buckets.
        if teamBuckets.indices.contains(team) {
            _ = teamBuckets[team].requests?.take(1, at: now)
            _ = teamBuckets[team].tokens?.take(tokens, at: now)
        }
        routes[routeIndex].takeFromBuckets(tokens: tokens, at: now)
        let active = Int(state.routeIndex)
        routes[active].inFlight += 1
        routes[active].retryBudget.recordRequest(at: now)
        state.reasons = reasons
        if locallyThrottled(route: active, now: now) {
            return finish(&state, action: .reject, reasons: reasons.union(.throttledLocally), now: now)
        }
        return sendNext(&state, reasons: reasons, hedge: false, now: now)
    }

    /// An attempt ended. Updates health, budgets and the ledger, and decides what is next.
    public mutating func attemptFinished(_ state: inout RequestState, attempt: Int32, _ result: AttemptOutcome) -> Decision {
        forgetPassedOver()
        let now = clock.now
        let route = Int(state.routeIndex)
        let bypass = routes[route].isBypass
        let slot: RequestState.InFlight
        if let primary = state.primary, primary.attempt == attempt {
            slot = primary
            state.primary = nil
        } else if let hedge = state.hedge, hedge.attempt == attempt {
            slot = hedge
            state.hedge = nil
        } else {
            return Decision(action: .none, requestID: state.request.id, time: now, route: state.routeIndex, attempt: attempt, reasons: [.lateResult])
        }
        let target = slot.target
        targets[target.index].outstanding -= 1
        if !targetIsLocal[target.index] { routes[route].frontierAttemptsInFlight -= 1 }
        let (cost, gpuUSD) = attemptCost(target: target, result)
        // The ledger keeps the local pools' cost apart from the frontier categories.
        let frontierCost = cost - gpuUSD
        if targetIsLocal[target.index] {
            state.gpuSeconds += result.gpuSeconds
            state.gpuUSD += gpuUSD
        }
        let wasCancelled = state.cancelledAttempts & (1 << UInt64(min(attempt, 63))) != 0
        if !bypass {
            settleBudgets(state.request, reserved: slot.reservedUSD, spent: cost, now: now)
            if !wasCancelled {
                observe(target: target, result, now: now, state: &state)
                routes[route].retryBudget.recordOutcome(result.outcome, at: now)
            }
        }
        if state.finished || wasCancelled {
            // A loser of a hedge race, or a result after the request ended: its cost is waste.
            if state.finished {
                ledger.settle(
                    team: Int(state.request.teamIndex), succeeded: false, winningUSD: 0, failedUSD: 0, cancelledUSD: frontierCost,
                    gpuSeconds: targetIsLocal[target.index] ? result.gpuSeconds : 0, gpuUSD: gpuUSD, bypass: bypass)
            }
            state.cancelledUSD += frontierCost
            // The loser was the last attempt out, and the attempt that took the client had
            // already failed (its stream broke after its first byte, the loser still out then):
            // that failure decides the request, or nothing ever would.
            if !state.finished, state.inFlightCount == 0, let failed = state.lastOutcome {
                return decideRetry(&state, after: AttemptOutcome(outcome: failed, latencyNanoseconds: 0), now: now)
            }
            return Decision(
                action: .none, requestID: state.request.id, time: now, route: state.routeIndex, target: slot.target, attempt: attempt,
                reasons: [.cancelled])
        }
        state.lastOutcome = result.outcome
        if result.outcome == .success {
            state.winningUSD += frontierCost
            var decision = finish(&state, action: .complete, reasons: [.success], now: now)
            decision.targetIndex = slot.target.raw
            decision.attempt = attempt
            if let other = state.primary ?? state.hedge {
                decision.cancelAttemptNumber = other.attempt
                state.cancelledAttempts |= 1 << UInt64(min(other.attempt, 63))
            }
            return decision
        }
        state.failedUSD += frontierCost
        if state.inFlightCount > 0 {
            // The other attempt of a hedged request may still win.
            return Decision(
                action: .none, requestID: state.request.id, time: now, route: state.routeIndex, target: slot.target, attempt: attempt, reasons: [])
        }
        return decideRetry(&state, after: result, now: now)
    }

    /// After a ``RoutingAction/wait``: picks the retry's target and sends it.
    public mutating func resume(_ state: inout RequestState) -> Decision {
        forgetPassedOver()
        let now = clock.now
        state.waitingToRetry = false
        if routes[Int(state.routeIndex)].isBypass {
            return send(&state, target: state.lastTarget!, reasons: [.retry, .bypass], hedge: false, now: now)
        }
        if locallyThrottled(route: Int(state.routeIndex), now: now) {
            return finish(&state, action: .fail, reasons: [.throttledLocally], now: now)
        }
        return sendNext(&state, reasons: [.retry], hedge: false, now: now)
    }

    /// The hedge delay of the request's first attempt has elapsed.
    public mutating func hedgeDue(_ state: inout RequestState) -> Decision {
        forgetPassedOver()
        let now = clock.now
        let route = Int(state.routeIndex)
        guard !state.finished, !state.hedged, state.primary != nil, state.hedge == nil,
            routes[route].config.hedging != nil, state.attemptsSent < Int32(routes[route].config.retry.maxAttempts)
        else {
            return Decision(action: .none, requestID: state.request.id, time: now, route: state.routeIndex, reasons: [])
        }
        guard routes[route].retryBudget.tryWithdrawRetry(at: now) else {
            return Decision(action: .none, requestID: state.request.id, time: now, route: state.routeIndex, reasons: [.retryBudgetEmpty])
        }
        state.hedged = true
        return sendNext(&state, reasons: [.hedge], hedge: true, now: now)
    }
}
