/// Spend: what an attempt costs (the price table), the worst case reserved before sending, the
/// budgets that reservation and settlement move, and their spend kept across restarts.
extension Router {
    func attemptCost(target: TargetID, _ result: AttemptOutcome) -> (usd: Double, gpuUSD: Double) {
        let price = prices[target.index]
        if price.isLocal {
            let usd = result.gpuSeconds * price.gpuPerHour / 3_600
            return (usd, usd)
        }
        let usd = (Double(result.inputTokens) * price.inputPerMillion + Double(result.outputTokens) * price.outputPerMillion) / 1e6
        return (usd, 0)
    }

    /// The most one attempt of `request` on `target` can cost.
    func worstCaseCost(_ request: RoutingRequest, target: TargetID, route: Int) -> Double {
        let price = prices[target.index]
        if price.isLocal {
            var seconds = price.maxGPUSecondsPerAttempt
            if routes[route].perTryTimeout > 0 { seconds = min(seconds, Seconds.seconds(routes[route].perTryTimeout)) }
            return seconds * price.gpuPerHour / 3_600
        }
        return (Double(request.inputTokens) * price.inputPerMillion + Double(request.maxOutputTokens) * price.outputPerMillion) / 1e6
    }

    enum BudgetVerdict { case allowed, alert, degrade(Int), exhausted }

    mutating func checkBudgets(_ request: RoutingRequest, route: Int, now: RoutingInstant) -> BudgetVerdict {
        guard hasBudgets(request) else { return .allowed }
        let indices = budgetIndices(of: request)
        var estimate = 0.0
        for tier in routes[route].tiers {
            for target in tier { estimate = max(estimate, worstCaseCost(request, target: target, route: route)) }
        }
        var verdict = BudgetVerdict.allowed
        let wall = wallClock.unixNanoseconds
        for index in indices where !budgets[index].fits(estimate, atUnixNanoseconds: wall) {
            switch budgets[index].config.mode {
            case .hardStop: return .exhausted
            case .alertOnly: if case .allowed = verdict { verdict = .alert }
            case .degrade(let name):
                if let to = config.routes.firstIndex(where: { $0.name == name }) { verdict = .degrade(to) }
            }
        }
        return verdict
    }

    /// Whether one more attempt on `target` keeps every hard-stop budget of the request within its limit.
    mutating func hardBudgetsFit(_ request: RoutingRequest, target: TargetID, route: Int, now: RoutingInstant) -> Bool {
        guard hasBudgets(request) else { return true }
        let indices = budgetIndices(of: request)
        let amount = worstCaseCost(request, target: target, route: route)
        let wall = wallClock.unixNanoseconds
        for index in indices where budgets[index].config.mode == .hardStop && !budgets[index].fits(amount, atUnixNanoseconds: wall) {
            return false
        }
        return true
    }

    /// Whether any budget applies to `request` (checked before building the list: most
    /// requests have none, and the list costs an array retain or allocation).
    func hasBudgets(_ request: RoutingRequest) -> Bool {
        let team = Int(request.teamIndex)
        if team >= 0 && team < teamHasBudgets.count && teamHasBudgets[team] { return true }
        // Every key in `keyBudgets` has at least one budget.
        return request.keyIndex >= 0 && Int(request.keyIndex) < keyBudgets.count
    }

    func budgetIndices(of request: RoutingRequest) -> [Int] {
        let team = Int(request.teamIndex)
        let key = Int(request.keyIndex)
        let teamList = teamBudgets.indices.contains(team) ? teamBudgets[team] : []
        let keyList = keyBudgets.indices.contains(key) ? keyBudgets[key] : []
        if keyList.isEmpty { return teamList }
        return teamList + keyList
    }

    /// Reserves an attempt's worst-case cost against hard budgets; returns the amount.
    mutating func reserveBudgets(_ request: RoutingRequest, target: TargetID, route: Int) -> Double {
        guard hasBudgets(request) else { return 0 }
        let indices = budgetIndices(of: request)
        let amount = worstCaseCost(request, target: target, route: route)
        for index in indices { budgets[index].reservedUSD += amount }
        return amount
    }

    mutating func settleBudgets(_ request: RoutingRequest, reserved: Double, spent: Double, now: RoutingInstant) {
        guard hasBudgets(request) else { return }
        let wall = wallClock.unixNanoseconds
        for index in budgetIndices(of: request) {
            budgets[index].roll(toUnixNanoseconds: wall)
            budgets[index].reservedUSD = max(0, budgets[index].reservedUSD - reserved)
            budgets[index].spentUSD += spent
        }
    }

    // MARK: Budgets shared by replicas (leases)

    /// From now on the budgets are shared with other replicas: each budget's headroom here is
    /// what has been granted to this replica (nothing yet, ``budgetLeaseChanged(_:)``), not its
    /// limit. A driver calls it once, before the first request.
    public mutating func leaseBudgets() {
        for index in budgets.indices where budgets[index].leasedUSD == nil { budgets[index].leasedUSD = 0 }
    }

    /// Whether the budgets are shared with other replicas (``leaseBudgets()``).
    public var leasesBudgets: Bool { budgets.contains { $0.leasedUSD != nil } }

    /// Each budget now, rolled to the current period, for the service that renews the slices:
    /// `lookaheadNanoseconds` ahead, the next period too, when it begins by then.
    public mutating func budgetLeaseStates(lookaheadNanoseconds: Int64) -> [BudgetLeaseState] {
        let wall = wallClock.unixNanoseconds
        return budgets.indices.map { index in
            budgets[index].roll(toUnixNanoseconds: wall)
            let current = budgets[index].period ?? 0
            let ahead = budgets[index].config.period.number(atUnixNanoseconds: wall + lookaheadNanoseconds)
            let next = budgets[index].nextLease
            return BudgetLeaseState(
                config: budgets[index].config, period: current, spentUSD: budgets[index].spentUSD, reservedUSD: budgets[index].reservedUSD,
                leasedUSD: budgets[index].leasedUSD ?? budgets[index].config.limitUSD, upcomingPeriod: ahead != current ? ahead : nil,
                upcomingLeasedUSD: next?.period == ahead ? next!.usd : 0, wantedUSD: budgets[index].wantedUSD)
        }
    }

    /// A slice of a shared budget granted to this replica, or given back: the current period's
    /// holding grows or shrinks by it, a later period's is kept until that period begins, an
    /// earlier period's is over and ignored. A budget this config does not have, or one not
    /// shared, ignores it.
    public mutating func budgetLeaseChanged(_ lease: BudgetLease) {
        guard let index = budgets.firstIndex(where: { $0.config.scope == lease.scope }), budgets[index].leasedUSD != nil else { return }
        budgets[index].roll(toUnixNanoseconds: wallClock.unixNanoseconds)
        let current = budgets[index].period ?? 0
        if lease.period == current {
            budgets[index].leasedUSD = max(0, budgets[index].leasedUSD! + lease.usd)
            if lease.usd > 0 { budgets[index].wantedUSD = 0 }
        } else if lease.period > current {
            let held = budgets[index].nextLease?.period == lease.period ? budgets[index].nextLease!.usd : 0
            budgets[index].nextLease = (lease.period, max(0, held + lease.usd))
        }
    }

    // MARK: Rate limits shared by replicas

    /// This replica's share of every limit it enforces — a team's and a route's rate limits, and
    /// what it knows of an upstream's: a provider's RPM/TPM, a target's servers and queue —
    /// when the replicas share them (1/N of each with N replicas alive; 1: its own). Each
    /// bucket's rate, burst and tokens are scaled to it, and a target's capacity (at least one
    /// attempt).
    public mutating func setRateShare(_ share: Double) {
        guard share > 0, share != rateShare else { return }
        let factor = share / rateShare
        let now = clock.now
        rateShare = share
        for (index, target) in config.targets.enumerated() {
            guard let servers = target.maxConcurrency else { continue }
            let whole = servers + (target.queueLimit ?? 0)
            targetCapacity[index] = max(1, Int((Double(whole) * share).rounded(.up)))
        }
        for index in teamBuckets.indices {
            teamBuckets[index].requests = teamBuckets[index].requests?.scaled(by: factor, at: now)
            teamBuckets[index].tokens = teamBuckets[index].tokens?.scaled(by: factor, at: now)
        }
        for index in routes.indices {
            routes[index].requestBucket = routes[index].requestBucket?.scaled(by: factor, at: now)
            routes[index].tokenBucket = routes[index].tokenBucket?.scaled(by: factor, at: now)
        }
        for index in targets.indices {
            targets[index].requestBucket = targets[index].requestBucket?.scaled(by: factor, at: now)
            targets[index].tokenBucket = targets[index].tokenBucket?.scaled(by: factor, at: now)
        }
    }

    /// Whether the config has a limit to share (a team's or a route's rate limit, a provider's
    /// RPM/TPM, a target's capacity).
    public var hasSharedLimits: Bool {
        config.teams.contains { $0.rateLimit != nil } || config.routes.contains { $0.rateLimit != nil }
            || config.targets.contains { $0.limits != nil || $0.maxConcurrency != nil }
    }

    // MARK: Spend across restarts

    /// Each budget's settled spend in its current period, to save (a server writes it out on
    /// shutdown and as it goes) and give to ``restoreSpend(_:)`` after a restart.
    public mutating func spendRecords() -> [BudgetSpendRecord] {
        let wall = wallClock.unixNanoseconds
        return budgets.indices.map { index in
            budgets[index].roll(toUnixNanoseconds: wall)
            return BudgetSpendRecord(scope: budgets[index].config.scope, period: budgets[index].period ?? 0, spentUSD: budgets[index].spentUSD)
        }
    }

    /// Restores saved spend: a record of the budget's current period replaces its settled
    /// spend; a record of an earlier period is over and is ignored. Returns the records whose
    /// team or key has no budget in this config (a spec that dropped or renamed it): they are
    /// not restored, and a server keeps them where they are and says so — a changed spec
    /// never stops a restart, and no saved spend is lost.
    public mutating func restoreSpend(_ records: [BudgetSpendRecord]) -> [BudgetSpendRecord] {
        var unknown: [BudgetSpendRecord] = []
        let wall = wallClock.unixNanoseconds
        for record in records {
            guard let index = budgets.firstIndex(where: { $0.config.scope == record.scope }) else {
                unknown.append(record)
                continue
            }
            budgets[index].roll(toUnixNanoseconds: wall)
            if budgets[index].period == record.period { budgets[index].spentUSD = record.spentUSD }
        }
        return unknown
    }
}
