/// Target health: what an attempt's outcome teaches the router (latency, breaker, outlier ejection).
extension Router {
    mutating func observe(target: Int, _ result: AttemptOutcome, now: RoutingInstant, state: inout RequestState) {
        if result.outcome == .success {
            targets[target].observeLatency(result.latencyNanoseconds, weight: config.health.latencyEWMAWeight, histogram: tracksLatencyPercentiles)
        }
        if targets[target].breaker?.record(result.outcome, at: now) == true {
            state.reasons.insert(.breakerOpened)
        }
        let route = Int(state.routeIndex)
        if routes[route].config.retry.honourRetryAfter, result.outcome == .rateLimited || result.outcome == .overloaded, let retryAfter = result.retryAfterSeconds {
            let cap = routes[route].config.retry.retryAfterCapSeconds
            targets[target].retryAfterUntil = max(targets[target].retryAfterUntil, now.nanoseconds + Seconds.nanoseconds(min(retryAfter, cap)))
        }
        guard let outlier = config.health.outlierDetection else { return }
        if result.outcome.countsAsTargetFailure {
            targets[target].consecutiveFailures += 1
            if targets[target].consecutiveFailures >= outlier.consecutiveFailures && targets[target].ejectedUntil <= now.nanoseconds {
                let ejectedNow = targets.filter { $0.ejectedUntil > now.nanoseconds }.count
                if ejectedNow < outlier.maxEjected(of: targets.count) {
                    targets[target].ejections += 1
                    targets[target].ejectedUntil = now.nanoseconds + Seconds.nanoseconds(outlier.baseEjectionSeconds * Double(targets[target].ejections))
                    targets[target].consecutiveFailures = 0
                }
            }
        } else if result.outcome == .success {
            targets[target].consecutiveFailures = 0
        }
    }
}
