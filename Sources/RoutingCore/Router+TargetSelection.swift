/// Target selection: which target of a route's chain an attempt goes to, per balancing policy,
/// skipping unavailable targets (breaker, ejection, limits, budgets), then local fallback.
extension Router {
    /// Why `target` cannot take an attempt now (empty: it can).
    mutating func unavailability(_ target: TargetID, request: RoutingRequest, route: Int, now: RoutingInstant) -> ReasonCodes {
        if refusesOtherProtocol[route] && targetProtocol[target.index] != request.apiProtocol { return .otherProtocol }
        if targets[target.index].outstanding >= targetCapacity[target.index] { return .localFull }
        if targets[target.index].ejectedUntil > now.nanoseconds { return .ejected }
        if targets[target.index].retryAfterUntil > now.nanoseconds { return .retryAfterCooldown }
        if let bucket = targets[target.index].requestBucket, bucket.availableTokens(at: now) < 1 { return .providerLimit }
        if let bucket = targets[target.index].tokenBucket, bucket.availableTokens(at: now) < Double(request.inputTokens) { return .providerLimit }
        if targets[target.index].breaker != nil, !targets[target.index].breaker!.allows(at: now) { return .breakerOpen }
        return []
    }

    func reject(_ target: TargetID, _ reason: ReasonCodes, into rejected: inout [RejectedAlternative]) {
        guard recordsRejectedAlternatives else { return }
        rejected.append(RejectedAlternative(target: config.targets[target.index].name, reason: reason))
    }

    mutating func selectTarget(
        _ state: inout RequestState, hedge: Bool, now: RoutingInstant, rejected: inout [RejectedAlternative]
    ) -> (TargetID, ReasonCodes)? {
        let route = Int(state.routeIndex)
        let isRetry = state.attemptsSent > 0 && !hedge
        let retryTarget = routes[route].config.retry.target
        let exclude: TargetID? = hedge ? state.lastTarget : nil
        var remaining = Int64.max
        if routes[route].overallTimeout > 0 {
            remaining = state.startedAt + routes[route].overallTimeout - now.nanoseconds
        }
        // Local pools first, when the policy says so.
        if let policy = routes[route].fallbackPolicy, !routes[route].fallback.isEmpty {
            switch policy {
            case .whenQueueFits:
                if let local = pickFallback(state.request, remaining: remaining, requireFit: true, exclude: exclude, now: now, rejected: &rejected) {
                    return (local, .fallback)
                }
            case .spillover(let above):
                if routes[route].frontierAttemptsInFlight > above,
                    let local = pickFallback(state.request, remaining: remaining, requireFit: false, exclude: exclude, now: now, rejected: &rejected)
                {
                    return (local, [.fallback, .spillover])
                }
            case .whenFrontierUnhealthy:
                break
            }
        }
        // After a context-length refusal only the larger-context targets can answer.
        if state.contextFallbackActive {
            return pickContextFallback(state, untriedOnly: false, checkingBudgets: false, exclude: exclude, now: now, rejected: &rejected)
                .map { ($0, .contextWindowFallback) }
        }
        if isRetry, let last = state.lastTarget, !targetIsLocal[last.index], goesBackToSameTarget(state, policy: routes[route].config.retry) {
            let reason = unavailability(last, request: state.request, route: route, now: now)
            if reason.isEmpty { return (last, .sameTarget) }
            reject(last, reason, into: &rejected)
        }
        let skipsTried = isRetry && retryTarget != .same
        let passes = skipsTried ? 2 : 1
        for pass in 0..<passes {
            let skipTried = pass == 0 && skipsTried
            for tier in routes[route].tiers.indices {
                if let target = pick(
                    tier: tier, route: route, request: state.request, tried: state.triedMask, skipTried: skipTried, exclude: exclude, now: now,
                    rejected: &rejected)
                {
                    return (target, [])
                }
            }
        }
        if routes[route].fallbackPolicy != nil,
            let local = pickFallback(
                state.request, remaining: remaining, requireFit: routes[route].fallbackPolicy == .whenQueueFits, exclude: exclude, now: now,
                rejected: &rejected)
        {
            return (local, .fallback)
        }
        return nil
    }

    /// Whether a retry goes back to the target that just failed: always with `same`; with
    /// `same_then_next` after a transient failure, while the target has had at most
    /// `same_target_retries` retries in a row.
    func goesBackToSameTarget(_ state: RequestState, policy: RetryPolicy) -> Bool {
        switch policy.target {
        case .same: return true
        case .next: return false
        case .sameThenNext:
            guard let last = state.lastOutcome, RetryPolicy.sameTargetClasses.contains(last) else { return false }
            return Int(state.attemptsOnLastTarget) <= policy.sameTargetRetries
        }
    }

    /// The first available of the route's context-window fallbacks, in order: untried ones,
    /// then (unless `untriedOnly`) those tried before (a retry of a transient failure there).
    /// `checkingBudgets`: a target the hard budgets cannot pay for is passed over too.
    mutating func pickContextFallback(
        _ state: RequestState, untriedOnly: Bool, checkingBudgets: Bool, exclude: TargetID?, now: RoutingInstant,
        rejected: inout [RejectedAlternative]
    ) -> TargetID? {
        let route = Int(state.routeIndex)
        for pass in 0..<(untriedOnly ? 1 : 2) {
            for target in routes[route].contextFallbacks where target != exclude {
                let tried = state.triedMask & (1 << UInt64(target.raw & 63)) != 0
                if pass == 0 && tried || pass == 1 && !tried { continue }
                let reason = unavailability(target, request: state.request, route: route, now: now)
                if !reason.isEmpty {
                    reject(target, reason, into: &rejected)
                    continue
                }
                if checkingBudgets && !hardBudgetsFit(state.request, target: target, route: route, now: now) {
                    reject(target, .budgetExhausted, into: &rejected)
                    continue
                }
                return target
            }
        }
        return nil
    }

    /// The tier's best available member under its balancing strategy; with `skipTried`, none
    /// of the targets in `tried` (one bit per target). Given the request's fields rather than
    /// its state: passing the state would copy it.
    mutating func pick(
        tier: Int, route: Int, request: RoutingRequest, tried: UInt64, skipTried: Bool, exclude: TargetID?, now: RoutingInstant,
        rejected: inout [RejectedAlternative]
    ) -> TargetID? {
        // Members are read in place, not bound to a local: a local copy would retain the array.
        let memberCount = routes[route].tiers[tier].count
        var best: TargetID?
        var bestScore = Double.infinity
        var totalWeight = 0.0
        var availableMask: UInt64 = 0
        for position in 0..<memberCount {
            let member = routes[route].tiers[tier][position]
            if member == exclude { continue }
            if skipTried && tried & (1 << UInt64(member.raw & 63)) != 0 { continue }
            let reason = unavailability(member, request: request, route: route, now: now)
            if !reason.isEmpty {
                reject(member, reason, into: &rejected)
                continue
            }
            availableMask |= 1 << UInt64(position)
            // Fields are read in place: a copy of the target's state would retain its arrays.
            let index = member
            let score: Double
            switch routes[route].balancing[tier] {
            case .weightedRandom(let weights):
                totalWeight += weights?[position] ?? 1
                continue
            case .leastOutstanding:
                score = Double(targets[index.index].outstanding)
            case .lowestLatency:
                score = targets[index.index].latencySamples == 0 ? -1 : targets[index.index].latencyEWMASeconds
            case .costAware(let bound):
                let targetPrice = prices[index.index]
                let price =
                    targetPrice.inputPerMillion * Double(request.inputTokens) + targetPrice.outputPerMillion
                    * Double(request.maxOutputTokens)
                let withinBound = targets[index.index].latencySamples == 0 || targets[index.index].latencyEWMASeconds <= bound
                score = withinBound ? price : 1e30 + targets[index.index].latencyEWMASeconds
            }
            if score < bestScore {
                bestScore = score
                best = member
            }
        }
        if case .weightedRandom(let weights) = routes[route].balancing[tier] {
            guard totalWeight > 0 else { return nil }
            var draw = generator.unitIntervalDraw() * totalWeight
            var last: TargetID?
            for position in 0..<memberCount where availableMask & (1 << UInt64(position)) != 0 {
                let member = routes[route].tiers[tier][position]
                let weight = weights?[position] ?? 1
                last = member
                if draw < weight { return member }
                draw -= weight
            }
            return last
        }
        return best
    }

    mutating func pickFallback(
        _ request: RoutingRequest, remaining: Int64, requireFit: Bool, exclude: TargetID?, now: RoutingInstant, rejected: inout [RejectedAlternative]
    ) -> TargetID? {
        let route = Int(request.routeIndex)
        for local in routes[route].fallback where local != exclude {
            let reason = unavailability(local, request: request, route: route, now: now)
            if !reason.isEmpty {
                reject(local, reason, into: &rejected)
                continue
            }
            if requireFit {
                let spec = config.targets[local.index]
                let service = Seconds.nanoseconds(targets[local.index].latencyEWMASeconds)
                let concurrency = max(1, spec.maxConcurrency ?? 1)
                let queued = max(0, targets[local.index].outstanding - concurrency + 1)
                let wait = Int64(Double(queued) * Double(service) / Double(concurrency))
                if remaining != Int64.max && wait + service > remaining {
                    reject(local, .queueTooLong, into: &rejected)
                    continue
                }
            }
            return local
        }
        return nil
    }
}
