/// Target selection: which target of a route's chain an attempt goes to, per balancing policy,
/// skipping unavailable targets (breaker, ejection, limits, budgets), then local fallback.
extension Router {
    /// Why `target` cannot take an attempt now (empty: it can).
    mutating func unavailability(_ target: Int, request: RoutingRequest, now: RoutingInstant) -> ReasonCodes {
        if targets[target].outstanding >= targetCapacity[target] { return .localFull }
        if targets[target].ejectedUntil > now.nanoseconds { return .ejected }
        if targets[target].retryAfterUntil > now.nanoseconds { return .retryAfterCooldown }
        if let bucket = targets[target].requestBucket, bucket.availableTokens(at: now) < 1 { return .providerLimit }
        if let bucket = targets[target].tokenBucket, bucket.availableTokens(at: now) < Double(request.inputTokens) { return .providerLimit }
        if targets[target].breaker != nil, !targets[target].breaker!.allows(at: now) { return .breakerOpen }
        return []
    }

    func reject(_ target: Int, _ reason: ReasonCodes, into rejected: inout [RejectedAlternative]) {
        guard recordsRejectedAlternatives else { return }
        rejected.append(RejectedAlternative(target: config.targets[target].name, reason: reason))
    }

    mutating func selectTarget(_ state: inout RequestState, hedge: Bool, now: RoutingInstant, rejected: inout [RejectedAlternative]) -> (Int32, ReasonCodes)? {
        let route = Int(state.routeIndex)
        let isRetry = state.attemptsSent > 0 && !hedge
        let retryTarget = routes[route].config.retry.target
        let exclude: Int32 = hedge ? state.lastTarget : -1
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
                   let local = pickFallback(state.request, remaining: remaining, requireFit: false, exclude: exclude, now: now, rejected: &rejected) {
                    return (local, [.fallback, .spillover])
                }
            case .whenFrontierUnhealthy:
                break
            }
        }
        if isRetry && retryTarget == .same && state.lastTarget >= 0 && !targetIsLocal[Int(state.lastTarget)] {
            let reason = unavailability(Int(state.lastTarget), request: state.request, now: now)
            if reason.isEmpty { return (state.lastTarget, []) }
            reject(Int(state.lastTarget), reason, into: &rejected)
        }
        let passes = isRetry && retryTarget == .next ? 2 : 1
        for pass in 0..<passes {
            let skipTried = pass == 0 && isRetry && retryTarget == .next
            for tier in routes[route].tiers.indices {
                if let target = pick(tier: tier, route: route, state: state, skipTried: skipTried, exclude: exclude, now: now, rejected: &rejected) {
                    return (target, [])
                }
            }
        }
        if routes[route].fallbackPolicy != nil,
           let local = pickFallback(state.request, remaining: remaining, requireFit: routes[route].fallbackPolicy == .whenQueueFits, exclude: exclude, now: now, rejected: &rejected) {
            return (local, .fallback)
        }
        return nil
    }

    /// The tier's best available member under its balancing strategy.
    mutating func pick(tier: Int, route: Int, state: RequestState, skipTried: Bool, exclude: Int32, now: RoutingInstant, rejected: inout [RejectedAlternative]) -> Int32? {
        // Members are read in place, not bound to a local: a local copy would retain the array.
        let memberCount = routes[route].tiers[tier].count
        var best: Int32 = -1
        var bestScore = Double.infinity
        var totalWeight = 0.0
        var availableMask: UInt64 = 0
        for position in 0..<memberCount {
            let member = routes[route].tiers[tier][position]
            if member == exclude { continue }
            if skipTried && state.triedMask & (1 << UInt64(member & 63)) != 0 { continue }
            let reason = unavailability(Int(member), request: state.request, now: now)
            if !reason.isEmpty {
                reject(Int(member), reason, into: &rejected)
                continue
            }
            availableMask |= 1 << UInt64(position)
            // Fields are read in place: a copy of the target's state would retain its arrays.
            let index = Int(member)
            let score: Double
            switch routes[route].balancing[tier] {
            case .weightedRandom(let weights):
                totalWeight += weights?[position] ?? 1
                continue
            case .leastOutstanding:
                score = Double(targets[index].outstanding)
            case .lowestLatency:
                score = targets[index].latencySamples == 0 ? -1 : targets[index].latencyEWMASeconds
            case .costAware(let bound):
                let targetPrice = prices[index]
                let price = targetPrice.inputPerMillion * Double(state.request.inputTokens) + targetPrice.outputPerMillion * Double(state.request.maxOutputTokens)
                let withinBound = targets[index].latencySamples == 0 || targets[index].latencyEWMASeconds <= bound
                score = withinBound ? price : 1e30 + targets[index].latencyEWMASeconds
            }
            if score < bestScore {
                bestScore = score
                best = member
            }
        }
        if case .weightedRandom(let weights) = routes[route].balancing[tier] {
            guard totalWeight > 0 else { return nil }
            var draw = generator.unitIntervalDraw() * totalWeight
            var last: Int32 = -1
            for position in 0..<memberCount where availableMask & (1 << UInt64(position)) != 0 {
                let member = routes[route].tiers[tier][position]
                let weight = weights?[position] ?? 1
                last = member
                if draw < weight { return member }
                draw -= weight
            }
            return last >= 0 ? last : nil
        }
        return best >= 0 ? best : nil
    }

    mutating func pickFallback(_ request: RoutingRequest, remaining: Int64, requireFit: Bool, exclude: Int32, now: RoutingInstant, rejected: inout [RejectedAlternative]) -> Int32? {
        let route = Int(request.routeIndex)
        for local in routes[route].fallback where local != exclude {
            let reason = unavailability(Int(local), request: request, now: now)
            if !reason.isEmpty {
                reject(Int(local), reason, into: &rejected)
                continue
            }
            if requireFit {
                let spec = config.targets[Int(local)]
                let service = Seconds.nanoseconds(targets[Int(local)].latencyEWMASeconds)
                let concurrency = max(1, spec.maxConcurrency ?? 1)
                let queued = max(0, targets[Int(local)].outstanding - concurrency + 1)
                let wait = Int64(Double(queued) * Double(service) / Double(concurrency))
                if remaining != Int64.max && wait + service > remaining {
                    reject(Int(local), .queueTooLong, into: &rejected)
                    continue
                }
            }
            return local
        }
        return nil
    }
}
