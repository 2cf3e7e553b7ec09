/// The routing decisions of an LLM gateway, as a plain value type: time from an injected
/// clock, randomness from an injected generator, every decision returned as a value.
///
/// Drive it with four calls per request: ``begin(_:)`` when it arrives;
/// ``attemptFinished(_:attempt:_:)`` when an attempt ends; ``resume(_:)`` after a
/// ``RoutingAction/wait``; ``hedgeDue(_:)`` when a send's `hedgeAfterNanoseconds` elapses.
/// The same config, clock readings, generator state and calls give the same decisions.
///
/// **Names at the edge.** Routes, teams, targets and budgeted keys go in and come out by name
/// (``request(id:route:team:key:inputTokens:maxOutputTokens:)``, ``name(of:)-(TargetID)``); an
/// unknown name is an error, never a silent default. Identifiers (``RouteID``, ``TargetID``…)
/// are positions in the config's lists, for a caller that keeps per-target state in arrays.
///
/// **One owner.** A router is noncopyable: its breakers, retry budgets, rate limits and
/// budget spend exist once, and cannot be forked by an accidental copy. Move it, or lend it
/// (`inout`, `borrowing`).
///
/// **Threads.** A router is not `Sendable` and does no locking of its own. Every call is
/// synchronous, takes microseconds and never blocks or suspends, so a server keeps it in one
/// isolation domain — an actor, or a `Mutex` from `Synchronization` (`Mutex(router)`,
/// then `mutex.withLock { $0.begin(request) }`) — and calls it from there. Time comes only
/// from `clock`, the calendar only from `wallClock`, randomness only from `generator`.
public struct Router: ~Copyable {
    public let config: RouterConfig
    /// Where the router reads the time.
    public let clock: any RoutingClock
    /// Where the router reads the calendar (budget periods only).
    public let wallClock: any WallClock
    /// Where the router's random choices (balancing, jitter, throttling) come from.
    public var generator: any RandomNumberGenerator
    /// Chargeback so far.
    public private(set) var ledger: Ledger
    /// Whether decisions list the targets passed over and why (``Decision/rejected``). On by
    /// default; a caller that never reads them (the simulator without a decision log) turns
    /// it off and saves an array allocation per decision that passes a target over.
    public var recordsRejectedAlternatives = true

    var targets: [TargetState]
    var routes: [RouteState]
    var teamBuckets: [(requests: TokenBucket?, tokens: TokenBucket?)]
    var budgets: [BudgetState]
    var teamBudgets: [[Int]]
    /// By team: whether `teamBudgets` lists any (read on every request, without touching the lists).
    let teamHasBudgets: [Bool]
    var keyBudgets: [[Int]]
    let targetIsLocal: [Bool]
    /// Attempts a target can hold at once (serving + queued); Int.max when unlimited.
    let targetCapacity: [Int]
    /// Each target's prices, copied out of the config so the hot path touches no strings.
    let prices: [TargetPrices]
    /// Whether some route hedges at a latency percentile (targets then keep latency histograms).
    let tracksLatencyPercentiles: Bool

    struct TargetPrices {
        let inputPerMillion: Double
        let outputPerMillion: Double
        let gpuPerHour: Double
        let maxGPUSecondsPerAttempt: Double
        let isLocal: Bool
    }

    struct RouteState {
        let config: RouteConfig
        let tiers: [[TargetID]]
        let balancing: [LoadBalancing]
        let fallback: [TargetID]
        let fallbackPolicy: FallbackPolicy?
        var retryBudget: RetryBudget
        var requestBucket: TokenBucket?
        var tokenBucket: TokenBucket?
        var inFlight = 0
        var frontierAttemptsInFlight = 0
        let isBypass: Bool
        /// The route's concurrency limit (Int.max: none).
        let maxConcurrency: Int
        /// By team index: the utilization at which the team's requests are shed (∞: never).
        let shedUtilizationByTeam: [Double]
        let usesAdaptiveThrottling: Bool
        let firstTokenTimeout: Int64
        let perTryTimeout: Int64
        let overallTimeout: Int64

        /// The utilization at which requests of priority `tier` are shed (∞: never): the
        /// lowest threshold among the rules that cover the tier.
        static func shedThreshold(tier: Int, rules: [SheddingRule]) -> Double {
            rules.filter { tier >= $0.tier }.map(\.aboveUtilization).min() ?? Double.infinity
        }

        /// An admitted request takes from the route's rate limits (one access to the route's
        /// state, not one per bucket).
        mutating func takeFromBuckets(tokens: Double, at now: RoutingInstant) {
            _ = requestBucket?.take(1, at: now)
            _ = tokenBucket?.take(tokens, at: now)
        }
    }

    /// A router for `config`, which must validate without errors.
    public init(config: RouterConfig, clock: any RoutingClock, wallClock: any WallClock, generator: any RandomNumberGenerator) throws(RouterConfigError) {
        let report = config.validate()
        guard report.errors.isEmpty else { throw RouterConfigError(findings: report.errors) }
        self.config = config
        self.clock = clock
        self.wallClock = wallClock
        self.generator = generator
        self.ledger = Ledger(teamCount: config.teams.count)
        let targetIndex = Dictionary(uniqueKeysWithValues: config.targets.enumerated().map { ($1.name, TargetID(raw: Int32($0))) })
        self.targets = config.targets.map { target in
            var state = TargetState()
            if let breaker = target.breaker ?? config.health.breaker { state.breaker = CircuitBreaker(breaker) }
            if let limits = target.limits {
                let (requests, tokens) = limits.buckets()
                state.requestBucket = requests
                state.tokenBucket = tokens
            }
            return state
        }
        self.targetIsLocal = config.targets.map { $0.kind == .local }
        self.prices = config.targets.map {
            TargetPrices(inputPerMillion: $0.inputPricePerMillion, outputPerMillion: $0.outputPricePerMillion, gpuPerHour: $0.gpuPricePerHour,
                         maxGPUSecondsPerAttempt: $0.maxGPUSecondsPerAttempt, isLocal: $0.kind == .local)
        }
        self.tracksLatencyPercentiles = config.routes.contains { route in
            if case .latencyPercentile? = route.hedging?.delay { return true }
            return false
        }
        self.targetCapacity = config.targets.map { target in
            target.maxConcurrency.map { $0 + (target.queueLimit ?? 0) } ?? Int.max
        }
        self.routes = config.routes.map { route in
            let tiers = route.chain.map { $0.targets.map { targetIndex[$0]! } }
            let buckets = route.rateLimit?.buckets()
            let shedAbove = config.teams.map { RouteState.shedThreshold(tier: $0.tier, rules: route.shedding) }
            var adaptive = false
            if case .adaptiveThrottling = route.retryBudget { adaptive = true }
            return RouteState(
                config: route, tiers: tiers, balancing: route.chain.map(\.balancing),
                fallback: route.fallback?.targets.map { targetIndex[$0]! } ?? [],
                fallbackPolicy: route.fallback?.policy, retryBudget: RetryBudget(route.retryBudget),
                requestBucket: buckets?.requests, tokenBucket: buckets?.tokens, isBypass: route.mode == .bypass,
                maxConcurrency: route.maxConcurrency ?? Int.max, shedUtilizationByTeam: shedAbove, usesAdaptiveThrottling: adaptive,
                firstTokenTimeout: Seconds.nanoseconds(route.timeouts.effectiveFirstTokenSeconds),
                perTryTimeout: route.timeouts.perTrySeconds.map(Seconds.nanoseconds) ?? 0,
                overallTimeout: Seconds.nanoseconds(route.timeouts.effectiveOverallSeconds)
            )
        }
        self.teamBuckets = config.teams.map { team in
            guard let limit = team.rateLimit else { return (nil, nil) }
            return limit.buckets()
        }
        self.budgets = config.budgets.map(BudgetState.init)
        let keyNames = config.budgetedKeys
        var teamBudgets = Array(repeating: [Int](), count: config.teams.count)
        var keyBudgets: [[Int]] = []
        for (index, budget) in config.budgets.enumerated() {
            switch budget.scope {
            case .team(let name):
                if let team = config.teams.firstIndex(where: { $0.name == name }) { teamBudgets[team].append(index) }
            case .key(let name):
                let key = keyNames.firstIndex(of: name)!
                if key == keyBudgets.count { keyBudgets.append([]) }
                keyBudgets[key].append(index)
            }
        }
        self.teamBudgets = teamBudgets
        self.teamHasBudgets = teamBudgets.map { !$0.isEmpty }
        self.keyBudgets = keyBudgets
    }

    // MARK: Names in, names out

    public func route(named name: String) throws(RoutingNameError) -> RouteID { try config.route(named: name) }
    public func team(named name: String) throws(RoutingNameError) -> TeamID { try config.team(named: name) }
    public func target(named name: String) throws(RoutingNameError) -> TargetID { try config.target(named: name) }
    public func key(named name: String) throws(RoutingNameError) -> KeyID { try config.key(named: name) }
    public func name(of route: RouteID) -> String { config.name(of: route) }
    public func name(of team: TeamID) -> String { config.name(of: team) }
    public func name(of target: TargetID) -> String { config.name(of: target) }
    public func name(of key: KeyID) -> String { config.name(of: key) }

    /// A request from names, as a server has them: the route (the model the client asked
    /// for), the team its API key belongs to, and the key itself when it has a budget of its
    /// own. An unknown route, team or key is an error; so is no team when the config has teams.
    public func request(id: UInt64, route: String, team: String?, key: String? = nil, inputTokens: Int, maxOutputTokens: Int,
                        streamed: Bool = true) throws(RoutingNameError) -> RoutingRequest {
        let teamID: TeamID?
        if let team {
            teamID = try config.team(named: team)
        } else if config.teams.isEmpty {
            teamID = nil
        } else {
            throw RoutingNameError(kind: .team, name: "", known: config.teams.map(\.name))
        }
        return RoutingRequest(id: id, route: try config.route(named: route), team: teamID, key: try key.map { (name) throws(RoutingNameError) in try config.key(named: name) },
                              inputTokens: inputTokens, maxOutputTokens: maxOutputTokens, streamed: streamed)
    }

    /// How many times a target's breaker has opened (for reports).
    public func breakerOpenings(of target: TargetID) -> Int {
        targets[target.index].breaker?.openings ?? 0
    }

    /// A target's breaker state (nil: it has no breaker).
    public func breakerState(of target: TargetID) -> CircuitBreaker.State? {
        targets[target.index].breaker?.state
    }

    /// What `route`'s retry budget has left now (see `RetryBudget.balance(at:)`); nil when
    /// the route's retries are unlimited.
    public mutating func retryBudgetBalance(of route: RouteID) -> Double? {
        routes[route.index].retryBudget.balance(at: clock.now)
    }

    /// Spend settled and reserved (attempts in flight) in the current period of the budget
    /// for `scope`; nil when there is none.
    public func budgetSpend(of scope: BudgetScope) -> (spentUSD: Double, reservedUSD: Double)? {
        guard let index = budgets.firstIndex(where: { $0.config.scope == scope }) else { return nil }
        return (budgets[index].spentUSD, budgets[index].reservedUSD)
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

    // MARK: Requests

    /// A request arrives: admission, budgets, then the first attempt's target.
    public mutating func begin(_ request: RoutingRequest) -> (RequestState, Decision) {
        let now = clock.now
        var state = RequestState(request: request, route: request.routeIndex, startedAt: now.nanoseconds)
        let routeIndex = Int(request.routeIndex)
        if routes[routeIndex].isBypass {
            state.reasons.insert(.bypass)
            routes[routeIndex].inFlight += 1
            let target = routes[routeIndex].tiers[0][0]
            let decision = send(&state, target: target, reasons: [.primary, .bypass], hedge: false, now: now)
            return (state, decision)
        }
        let tokens = Double(request.inputTokens + request.maxOutputTokens)
        let team = Int(request.teamIndex)
        if let refusal = admissionRefusal(request, route: routeIndex, tokens: tokens, now: now) {
            state.finished = true
            return (state, Decision(action: .reject, requestID: request.id, time: now, route: request.routeIndex, reasons: refusal))
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
            return (state, Decision(action: .reject, requestID: request.id, time: now, route: request.routeIndex, reasons: .budgetExhausted))
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
            let decision = finish(&state, action: .reject, reasons: reasons.union(.throttledLocally), now: now)
            return (state, decision)
        }
        let first = sendNext(&state, reasons: reasons, hedge: false, now: now)
        return (state, first)
    }

    /// An attempt ended. Updates health, budgets and the ledger, and decides what is next.
    public mutating func attemptFinished(_ state: inout RequestState, attempt: Int32, _ result: AttemptOutcome) -> Decision {
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
                ledger.settle(team: Int(state.request.teamIndex), succeeded: false, winningUSD: 0, failedUSD: 0, cancelledUSD: frontierCost,
                              gpuSeconds: targetIsLocal[target.index] ? result.gpuSeconds : 0, gpuUSD: gpuUSD, bypass: bypass)
            } else {
                state.cancelledUSD += frontierCost
            }
            // The loser was the last attempt out, and the attempt that took the client had
            // already failed (its stream broke after its first byte, the loser still out then):
            // that failure decides the request, or nothing ever would.
            if !state.finished, state.inFlightCount == 0, let failed = state.lastOutcome {
                return decideRetry(&state, after: AttemptOutcome(outcome: failed, latencyNanoseconds: 0), now: now)
            }
            return Decision(action: .none, requestID: state.request.id, time: now, route: state.routeIndex, target: slot.target, attempt: attempt, reasons: [.cancelled])
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
            return Decision(action: .none, requestID: state.request.id, time: now, route: state.routeIndex, target: slot.target, attempt: attempt, reasons: [])
        }
        return decideRetry(&state, after: result, now: now)
    }

    /// After a ``RoutingAction/wait``: picks the retry's target and sends it.
    public mutating func resume(_ state: inout RequestState) -> Decision {
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
        let now = clock.now
        let route = Int(state.routeIndex)
        guard !state.finished, !state.hedged, state.primary != nil, state.hedge == nil,
              routes[route].config.hedging != nil, state.attemptsSent < Int32(routes[route].config.retry.maxAttempts) else {
            return Decision(action: .none, requestID: state.request.id, time: now, route: state.routeIndex, reasons: [])
        }
        guard routes[route].retryBudget.tryWithdrawRetry(at: now) else {
            return Decision(action: .none, requestID: state.request.id, time: now, route: state.routeIndex, reasons: [.retryBudgetEmpty])
        }
        state.hedged = true
        return sendNext(&state, reasons: [.hedge], hedge: true, now: now)
    }

    // MARK: Decisions

    private mutating func decideRetry(_ state: inout RequestState, after result: AttemptOutcome, now: RoutingInstant) -> Decision {
        let route = Int(state.routeIndex)
        let policy = routes[route].config.retry
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
            var decision = Decision(action: .wait, requestID: state.request.id, time: now, route: state.routeIndex, attempt: state.attemptsSent + 1, reasons: reasons)
            decision.delayNanoseconds = delay
            return decision
        }
        if bypass {
            return send(&state, target: state.lastTarget!, reasons: reasons.union(.bypass), hedge: false, now: now)
        }
        return sendNext(&state, reasons: reasons, hedge: false, now: now)
    }

    /// Chooses the next target and sends to it, or fails the request when none is available.
    private mutating func sendNext(_ state: inout RequestState, reasons: ReasonCodes, hedge: Bool, now: RoutingInstant) -> Decision {
        var rejected: [RejectedAlternative] = []
        guard let (target, extra) = selectTarget(&state, hedge: hedge, now: now, rejected: &rejected) else {
            if hedge {
                var decision = Decision(action: .none, requestID: state.request.id, time: now, route: state.routeIndex, reasons: [.hedge, .noTargetAvailable])
                decision.rejected = rejected
                return decision
            }
            var decision = finish(&state, action: state.attemptsSent == 0 ? .reject : .fail, reasons: reasons.union(.noTargetAvailable), now: now)
            decision.rejected = rejected
            return decision
        }
        if !hardBudgetsFit(state.request, target: target, route: Int(state.routeIndex), now: now) {
            if hedge {
                return Decision(action: .none, requestID: state.request.id, time: now, route: state.routeIndex, reasons: [.hedge, .budgetExhausted])
            }
            var decision = finish(&state, action: state.attemptsSent == 0 ? .reject : .fail, reasons: reasons.union(.budgetExhausted), now: now)
            decision.rejected = rejected
            return decision
        }
        var decision = send(&state, target: target, reasons: reasons.union(extra), hedge: hedge, now: now)
        decision.rejected = rejected
        return decision
    }

    private mutating func send(_ state: inout RequestState, target: TargetID, reasons: ReasonCodes, hedge: Bool, now: RoutingInstant) -> Decision {
        let route = Int(state.routeIndex)
        let t = target
        state.attemptsSent += 1
        let attempt = state.attemptsSent
        let bypass = routes[route].isBypass
        let reserved = bypass ? 0 : reserveBudgets(state.request, target: t, route: route)
        let slot = RequestState.InFlight(attempt: attempt, target: target, reservedUSD: reserved, isHedge: hedge, startedAt: now.nanoseconds)
        if hedge { state.hedge = slot } else { state.primary = slot }
        state.lastTarget = target
        state.triedMask |= 1 << UInt64(t.raw & 63)
        targets[t.index].outstanding += 1
        if !targetIsLocal[t.index] { routes[route].frontierAttemptsInFlight += 1 }
        if !bypass {
            targets[t.index].attemptStarted(inputTokens: state.request.inputTokens, at: now)
        }
        var decision = Decision(action: hedge ? .hedge : .send, requestID: state.request.id, time: now, route: state.routeIndex, target: target, attempt: attempt, reasons: reasons)
        decision.firstTokenTimeout = routes[route].firstTokenTimeout
        var attemptTimeout = routes[route].perTryTimeout
        let overall = routes[route].overallTimeout
        if overall > 0 {
            let remaining = max(1, state.startedAt + overall - now.nanoseconds)
            attemptTimeout = attemptTimeout > 0 ? min(attemptTimeout, remaining) : remaining
        }
        decision.attemptTimeout = attemptTimeout
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

    private mutating func finish(_ state: inout RequestState, action: RoutingAction, reasons: ReasonCodes, now: RoutingInstant) -> Decision {
        let route = Int(state.routeIndex)
        state.finished = true
        // Only admitted requests get here, and each holds one place in its route.
        routes[route].inFlight = max(0, routes[route].inFlight - 1)
        let bypass = routes[route].isBypass
        ledger.settle(team: Int(state.request.teamIndex), succeeded: action == .complete, winningUSD: state.winningUSD,
                      failedUSD: state.failedUSD, cancelledUSD: state.cancelledUSD, gpuSeconds: state.gpuSeconds, gpuUSD: state.gpuUSD, bypass: bypass)
        state.winningUSD = 0
        state.failedUSD = 0
        state.cancelledUSD = 0
        state.gpuSeconds = 0
        state.gpuUSD = 0
        var decision = Decision(action: action, requestID: state.request.id, time: now, route: state.routeIndex, attempt: state.attemptsSent, reasons: reasons)
        if action == .fail { decision.outcome = state.lastOutcome }
        return decision
    }
}
