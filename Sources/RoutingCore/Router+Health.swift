/// Target health: what an attempt's outcome teaches the router (latency, breaker, outlier ejection).
extension Router {
    mutating func observe(target: TargetID, _ result: AttemptOutcome, now: RoutingInstant, state: inout RequestState) {
        if result.outcome == .success {
            targets[target.index].observeLatency(
                result.latencyNanoseconds, weight: config.health.latencyEWMAWeight, histogram: tracksLatencyPercentiles)
        }
        switch targets[target.index].breaker?.recordChange(result.outcome, at: now) {
        case .opened?:
            state.reasons.insert(.breakerOpened)
            if sharesBreakers {
                breakerNotices.append(.opened(target, forNanoseconds: targets[target.index].breaker!.openNanoseconds(at: now), by: replicaRank))
            }
        case .closed?:
            if sharesBreakers { breakerNotices.append(.closed(target)) }
        case .unchanged?, nil:
            break
        }
        let route = Int(state.routeIndex)
        if routes[route].config.retry.honourRetryAfter, result.outcome == .rateLimited || result.outcome == .overloaded,
            let retryAfter = result.retryAfterSeconds
        {
            let cap = routes[route].config.retry.retryAfterCapSeconds
            targets[target.index].retryAfterUntil = max(
                targets[target.index].retryAfterUntil, now.nanoseconds + Seconds.nanoseconds(min(retryAfter, cap)))
        }
        guard let outlier = config.health.outlierDetection else { return }
        if result.outcome.countsAsTargetFailure {
            targets[target.index].consecutiveFailures += 1
            if targets[target.index].consecutiveFailures >= outlier.consecutiveFailures && targets[target.index].ejectedUntil <= now.nanoseconds {
                let ejectedNow = targets.filter { $0.ejectedUntil > now.nanoseconds }.count
                if ejectedNow < outlier.maxEjected(of: targets.count) {
                    targets[target.index].ejections += 1
                    targets[target.index].ejectedUntil =
                        now.nanoseconds + Seconds.nanoseconds(outlier.baseEjectionSeconds * Double(targets[target.index].ejections))
                    targets[target.index].consecutiveFailures = 0
                }
            }
        } else if result.outcome == .success {
            targets[target.index].consecutiveFailures = 0
        }
    }
}
