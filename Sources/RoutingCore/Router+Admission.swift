/// Admission: rate limits of a request's team and route, the route's concurrency limit,
/// shedding of lower tiers, and adaptive throttling's local refusals.
extension Router {
    /// Why a request is refused at admission (nil: admitted): rate limits of its team and
    /// route, the route's concurrency limit, and shedding of lower priority tiers.
    func admissionRefusal(_ request: RoutingRequest, route: Int, tokens: Double, now: RoutingInstant) -> ReasonCodes? {
        let team = Int(request.teamIndex)
        if teamBuckets.indices.contains(team) {
            if let bucket = teamBuckets[team].requests, bucket.availableTokens(at: now) < 1 { return .rateLimited }
            if let bucket = teamBuckets[team].tokens, bucket.availableTokens(at: now) < tokens { return .rateLimited }
        }
        if let bucket = routes[route].requestBucket, bucket.availableTokens(at: now) < 1 { return .rateLimited }
        if let bucket = routes[route].tokenBucket, bucket.availableTokens(at: now) < tokens { return .rateLimited }
        let limit = routes[route].maxConcurrency
        if limit != Int.max {
            let inFlight = routes[route].inFlight
            if inFlight >= limit { return .concurrencyLimit }
            // A team outside the config counts as tier 0.
            let threshold =
                routes[route].shedUtilizationByTeam.indices.contains(team)
                ? routes[route].shedUtilizationByTeam[team]
                : RouteState.shedThreshold(tier: 0, rules: routes[route].config.shedding)
            if Double(inFlight) / Double(limit) >= threshold { return .shed }
        }
        return nil
    }

    /// Whether adaptive throttling refuses an attempt now (drawn against its probability);
    /// a refusal is counted as a request.
    mutating func locallyThrottled(route: Int, now: RoutingInstant) -> Bool {
        guard routes[route].usesAdaptiveThrottling else { return false }
        let p = routes[route].retryBudget.rejectionProbability(at: now)
        guard p > 0 && generator.unitIntervalDraw() < p else { return false }
        routes[route].retryBudget.recordLocalRefusal(at: now)
        return true
    }
}
