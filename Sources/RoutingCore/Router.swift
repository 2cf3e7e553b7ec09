/// The routing decisions of an LLM gateway, as a plain value type: time from an injected
/// clock, randomness from an injected generator, every decision returned as a value.
///
/// Drive it with four calls per request: ``begin(_:)`` when it arrives;
/// ``attemptFinished(_:attempt:_:)`` when an attempt ends; ``resume(_:)`` after a
/// ``RoutingAction/wait``; ``hedgeDue(_:)`` when a send's `hedgeAfterNanoseconds` elapses.
/// The same config, clock readings, generator state and calls give the same decisions.
public struct Router {
    public let config: RouterConfig
    /// Where the router reads the time.
    public let clock: any RoutingClock
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
    /// Names of API keys that have budgets, indexed as `RoutingRequest.key`.
    public let keyNames: [String]
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
        let tiers: [[Int32]]
        let balancing: [LoadBalancing]
        let fallback: [Int32]
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
    public init(config: RouterConfig, clock: any RoutingClock, generator: any RandomNumberGenerator) throws(RouterConfigError) {
        let report = config.validate()
        guard report.errors.isEmpty else { throw RouterConfigError(findings: report.errors) }
        self.config = config
        self.clock = clock
        self.generator = generator
        self.ledger = Ledger(teamCount: config.teams.count)
        let targetIndex = Dictionary(uniqueKeysWithValues: config.targets.enumerated().map { ($1.name, Int32($0)) })
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
                firstTokenTimeout: route.timeouts.firstTokenSeconds.map(Seconds.nanoseconds) ?? 0,
                perTryTimeout: route.timeouts.perTrySeconds.map(Seconds.nanoseconds) ?? 0,
                overallTimeout: route.timeouts.overallSeconds.map(Seconds.nanoseconds) ?? 0
            )
        }
        self.teamBuckets = config.teams.map { team in
            guard let limit = team.rateLimit else { return (nil, nil) }
            return limit.buckets()
        }
        self.budgets = config.budgets.map(BudgetState.init)
        var keyNames: [String] = []
        var teamBudgets = Array(repeating: [Int](), count: config.teams.count)
        var keyBudgets: [[Int]] = []
        for (index, budget) in config.budgets.enumerated() {
            switch budget.scope {
            case .team(let name):
                if let team = config.teams.firstIndex(where: { $0.name == name }) { teamBudgets[team].append(index) }
            case .key(let name):
                if let key = keyNames.firstIndex(of: name) {
                    keyBudgets[key].append(index)
                } else {
                    keyNames.append(name)
                    keyBudgets.append([index])
                }
            }
        }
        self.keyNames = keyNames
        self.teamBudgets = teamBudgets
        self.teamHasBudgets = teamBudgets.map { !$0.isEmpty }
        self.keyBudgets = keyBudgets
    }

    // MARK: Names

    public func routeIndex(named name: String) -> Int32? {
        config.routes.firstIndex { $0.name == name }.map { Int32($0) }
    }

    public func teamIndex(named name: String) -> Int32? {
        config.teams.firstIndex { $0.name == name }.map { Int32($0) }
    }

    public func targetIndex(named name: String) -> Int32? {
        config.targets.firstIndex { $0.name == name }.map { Int32($0) }
    }

    public func keyIndex(named name: String) -> Int32? {
        keyNames.firstIndex(of: name).map { Int32($0) }
    }

    /// How many times a target's breaker has opened (for reports).
    public func breakerOpenings(of target: Int32) -> Int {
        targets[Int(target)].breaker?.openings ?? 0
    }

    /// Spend and reservations of budget `index` in its current period.
    public func budgetSpend(_ index: Int) -> (spentUSD: Double, reservedUSD: Double) {
        (budgets[index].spentUSD, budgets[index].reservedUSD)
    }

    // MARK: Requests

    /// A request arrives: admission, budgets, then the first attempt's target.
    public mutating func begin(_ request: RoutingRequest) -> (RequestState, Decision) {
        let now = clock.now
        var state = RequestState(request: request, route: request.route, startedAt: now.nanoseconds)
        let routeIndex = Int(request.route)
        if routes[routeIndex].isBypass {
            state.reasons.insert(.bypass)
            routes[routeIndex].inFlight += 1
            let target = routes[routeIndex].tiers[0][0]
            let decision = send(&state, target: target, reasons: [.primary, .bypass], hedge: false, now: now)
            return (state, decision)
        }
        let tokens = Double(request.inputTokens + request.maxOutputTokens)
        let team = Int(request.team)
        if let refusal = admissionRefusal(request, route: routeIndex, tokens: tokens, now: now) {
            state.finished = true
            return (state, Decision(action: .reject, requestID: request.id, time: now, route: request.route, reasons: refusal))
        }
        var reasons: ReasonCodes = [.primary]
        switch checkBudgets(request, route: routeIndex, now: now) {
        case .allowed:
            break
        case .alert:
            reasons.insert(.budgetAlert)
        case .degrade(let to):
            reasons.insert(.budgetDegraded)
            state.route = Int32(to)
        case .exhausted:
            state.finished = true
            return (state, Decision(action: .reject, requestID: request.id, time: now, route: request.route, reasons: .budgetExhausted))
        }
        // Admitted: take from the buckets.
        if teamBuckets.indices.contains(team) {
            _ = teamBuckets[team].requests?.take(1, at: now)
            _ = teamBuckets[team].tokens?.take(tokens, at: now)
        }
        routes[routeIndex].takeFromBuckets(tokens: tokens, at: now)
        let active = Int(state.route)
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
        let route = Int(state.route)
        let bypass = routes[route].isBypass
        let slot: RequestState.InFlight
        if let primary = state.primary, primary.attempt == attempt {
            slot = primary
            state.primary = nil
        } else if let hedge = state.hedge, hedge.attempt == attempt {
            slot = hedge
            state.hedge = nil
        } else {
            return Decision(action: .none, requestID: state.request.id, time: now, route: state.route, attempt: attempt, reasons: [.lateResult])
        }
        let target = Int(slot.target)
        targets[target].outstanding -= 1
        if !targetIsLocal[target] { routes[route].frontierAttemptsInFlight -= 1 }
        let (cost, gpuUSD) = attemptCost(target: target, result)
        // The ledger keeps the local pools' cost apart from the frontier categories.
        let frontierCost = cost - gpuUSD
        if targetIsLocal[target] {
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
                ledger.settle(team: Int(state.request.team), succeeded: false, winningUSD: 0, failedUSD: 0, cancelledUSD: frontierCost,
                              gpuSeconds: targetIsLocal[target] ? result.gpuSeconds : 0, gpuUSD: gpuUSD, bypass: bypass)
            } else {
                state.cancelledUSD += frontierCost
            }
            return Decision(action: .none, requestID: state.request.id, time: now, route: state.route, target: slot.target, attempt: attempt, reasons: [.cancelled])
        }
        state.lastOutcome = result.outcome
        if result.outcome == .success {
            state.winningUSD += frontierCost
            var decision = finish(&state, action: .complete, reasons: [.success], now: now)
            decision.target = slot.target
            decision.attempt = attempt
            if let other = state.primary ?? state.hedge {
                decision.cancelAttempt = other.attempt
                state.cancelledAttempts |= 1 << UInt64(min(other.attempt, 63))
            }
            return decision
        }
        state.failedUSD += frontierCost
        if state.inFlightCount > 0 {
            // The other attempt of a hedged request may still win.
            return Decision(action: .none, requestID: state.request.id, time: now, route: state.route, target: slot.target, attempt: attempt, reasons: [])
        }
        return decideRetry(&state, after: result, now: now)
    }

    /// After a ``RoutingAction/wait``: picks the retry's target and sends it.
    public mutating func resume(_ state: inout RequestState) -> Decision {
        let now = clock.now
        state.waitingToRetry = false
        if routes[Int(state.route)].isBypass {
            return send(&state, target: state.lastTarget, reasons: [.retry, .bypass], hedge: false, now: now)
        }
        if locallyThrottled(route: Int(state.route), now: now) {
            return finish(&state, action: .fail, reasons: [.throttledLocally], now: now)
        }
        return sendNext(&state, reasons: [.retry], hedge: false, now: now)
    }

    /// The hedge delay of the request's first attempt has elapsed.
    public mutating func hedgeDue(_ state: inout RequestState) -> Decision {
        let now = clock.now
        let route = Int(state.route)
        guard !state.finished, !state.hedged, state.primary != nil, state.hedge == nil,
              routes[route].config.hedging != nil, state.attemptsSent < Int32(routes[route].config.retry.maxAttempts) else {
            return Decision(action: .none, requestID: state.request.id, time: now, route: state.route, reasons: [])
        }
        guard routes[route].retryBudget.tryWithdrawRetry(at: now) else {
            return Decision(action: .none, requestID: state.request.id, time: now, route: state.route, reasons: [.retryBudgetEmpty])
        }
        state.hedged = true
        return sendNext(&state, reasons: [.hedge], hedge: true, now: now)
    }

    // MARK: Decisions

    private mutating func decideRetry(_ state: inout RequestState, after result: AttemptOutcome, now: RoutingInstant) -> Decision {
        let route = Int(state.route)
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
            var decision = Decision(action: .wait, requestID: state.request.id, time: now, route: state.route, attempt: state.attemptsSent + 1, reasons: reasons)
            decision.delayNanoseconds = delay
            return decision
        }
        if bypass {
            return send(&state, target: state.lastTarget, reasons: reasons.union(.bypass), hedge: false, now: now)
        }
        return sendNext(&state, reasons: reasons, hedge: false, now: now)
    }

    /// Chooses the next target and sends to it, or fails the request when none is available.
    private mutating func sendNext(_ state: inout RequestState, reasons: ReasonCodes, hedge: Bool, now: RoutingInstant) -> Decision {
        var rejected: [RejectedAlternative] = []
        guard let (target, extra) = selectTarget(&state, hedge: hedge, now: now, rejected: &rejected) else {
            if hedge {
                var decision = Decision(action: .none, requestID: state.request.id, time: now, route: state.route, reasons: [.hedge, .noTargetAvailable])
                decision.rejected = rejected
                return decision
            }
            var decision = finish(&state, action: state.attemptsSent == 0 ? .reject : .fail, reasons: reasons.union(.noTargetAvailable), now: now)
            decision.rejected = rejected
            return decision
        }
        if !hardBudgetsFit(state.request, target: Int(target), route: Int(state.route), now: now) {
            if hedge {
                return Decision(action: .none, requestID: state.request.id, time: now, route: state.route, reasons: [.hedge, .budgetExhausted])
            }
            var decision = finish(&state, action: state.attemptsSent == 0 ? .reject : .fail, reasons: reasons.union(.budgetExhausted), now: now)
            decision.rejected = rejected
            return decision
        }
        var decision = send(&state, target: target, reasons: reasons.union(extra), hedge: hedge, now: now)
        decision.rejected = rejected
        return decision
    }

    private mutating func send(_ state: inout RequestState, target: Int32, reasons: ReasonCodes, hedge: Bool, now: RoutingInstant) -> Decision {
        let route = Int(state.route)
        let t = Int(target)
        state.attemptsSent += 1
        let attempt = state.attemptsSent
        let bypass = routes[route].isBypass
        let reserved = bypass ? 0 : reserveBudgets(state.request, target: t, route: route)
        let slot = RequestState.InFlight(attempt: attempt, target: target, reservedUSD: reserved, isHedge: hedge, startedAt: now.nanoseconds)
        if hedge { state.hedge = slot } else { state.primary = slot }
        state.lastTarget = target
        state.triedMask |= 1 << UInt64(t & 63)
        targets[t].outstanding += 1
        if !targetIsLocal[t] { routes[route].frontierAttemptsInFlight += 1 }
        if !bypass {
            targets[t].attemptStarted(inputTokens: state.request.inputTokens, at: now)
            if attempt > 1 { routes[route].retryBudget.recordAttemptSent(at: now, isRetry: true) }
        }
        var decision = Decision(action: hedge ? .hedge : .send, requestID: state.request.id, time: now, route: state.route, target: target, attempt: attempt, reasons: reasons)
        decision.firstTokenTimeoutNanoseconds = routes[route].firstTokenTimeout
        var attemptTimeout = routes[route].perTryTimeout
        let overall = routes[route].overallTimeout
        if overall > 0 {
            let remaining = max(1, state.startedAt + overall - now.nanoseconds)
            attemptTimeout = attemptTimeout > 0 ? min(attemptTimeout, remaining) : remaining
        }
        decision.attemptTimeoutNanoseconds = attemptTimeout
        if attempt == 1, !bypass, let hedging = routes[route].config.hedging {
            switch hedging.delay {
            case .fixed(let seconds):
                decision.hedgeAfterNanoseconds = Seconds.nanoseconds(seconds)
            case .latencyPercentile(let percentile, let minimum):
                if targets[t].latencySamples >= minimum {
                    decision.hedgeAfterNanoseconds = max(1, Seconds.nanoseconds(targets[t].latencies.seconds(atPercentile: percentile)))
                }
            }
        }
        return decision
    }

    private mutating func finish(_ state: inout RequestState, action: RoutingAction, reasons: ReasonCodes, now: RoutingInstant) -> Decision {
        let route = Int(state.route)
        state.finished = true
        // Only admitted requests get here, and each holds one place in its route.
        routes[route].inFlight = max(0, routes[route].inFlight - 1)
        let bypass = routes[route].isBypass
        ledger.settle(team: Int(state.request.team), succeeded: action == .complete, winningUSD: state.winningUSD,
                      failedUSD: state.failedUSD, cancelledUSD: state.cancelledUSD, gpuSeconds: state.gpuSeconds, gpuUSD: state.gpuUSD, bypass: bypass)
        state.winningUSD = 0
        state.failedUSD = 0
        state.cancelledUSD = 0
        state.gpuSeconds = 0
        state.gpuUSD = 0
        var decision = Decision(action: action, requestID: state.request.id, time: now, route: state.route, attempt: state.attemptsSent, reasons: reasons)
        if action == .fail { decision.outcome = state.lastOutcome }
        return decision
    }

    /// Why a request is refused at admission (nil: admitted): rate limits of its team and
    /// route, the route's concurrency limit, and shedding of lower priority tiers.
    private func admissionRefusal(_ request: RoutingRequest, route: Int, tokens: Double, now: RoutingInstant) -> ReasonCodes? {
        let team = Int(request.team)
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
            let threshold = routes[route].shedUtilizationByTeam.indices.contains(team)
                ? routes[route].shedUtilizationByTeam[team]
                : RouteState.shedThreshold(tier: 0, rules: routes[route].config.shedding)
            if Double(inFlight) / Double(limit) >= threshold { return .shed }
        }
        return nil
    }

    private mutating func locallyThrottled(route: Int, now: RoutingInstant) -> Bool {
        guard routes[route].usesAdaptiveThrottling else { return false }
        let p = routes[route].retryBudget.rejectionProbability(at: now)
        return p > 0 && generator.unitIntervalDraw() < p
    }

    // MARK: Target selection

    /// Why `target` cannot take an attempt now (empty: it can).
    private mutating func unavailability(_ target: Int, request: RoutingRequest, now: RoutingInstant) -> ReasonCodes {
        if targets[target].outstanding >= targetCapacity[target] { return .localFull }
        if targets[target].ejectedUntil > now.nanoseconds { return .ejected }
        if targets[target].retryAfterUntil > now.nanoseconds { return .retryAfterCooldown }
        if let bucket = targets[target].requestBucket, bucket.availableTokens(at: now) < 1 { return .providerLimit }
        if let bucket = targets[target].tokenBucket, bucket.availableTokens(at: now) < Double(request.inputTokens) { return .providerLimit }
        if targets[target].breaker != nil, !targets[target].breaker!.allows(at: now) { return .breakerOpen }
        return []
    }

    private func reject(_ target: Int, _ reason: ReasonCodes, into rejected: inout [RejectedAlternative]) {
        guard recordsRejectedAlternatives else { return }
        rejected.append(RejectedAlternative(target: config.targets[target].name, reason: reason))
    }

    private mutating func selectTarget(_ state: inout RequestState, hedge: Bool, now: RoutingInstant, rejected: inout [RejectedAlternative]) -> (Int32, ReasonCodes)? {
        let route = Int(state.route)
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
    private mutating func pick(tier: Int, route: Int, state: RequestState, skipTried: Bool, exclude: Int32, now: RoutingInstant, rejected: inout [RejectedAlternative]) -> Int32? {
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

    private mutating func pickFallback(_ request: RoutingRequest, remaining: Int64, requireFit: Bool, exclude: Int32, now: RoutingInstant, rejected: inout [RejectedAlternative]) -> Int32? {
        let route = Int(request.route)
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

    // MARK: Health, cost, budgets

    private mutating func observe(target: Int, _ result: AttemptOutcome, now: RoutingInstant, state: inout RequestState) {
        if result.outcome == .success {
            targets[target].observeLatency(result.latencyNanoseconds, weight: config.health.latencyEWMAWeight, histogram: tracksLatencyPercentiles)
        }
        if targets[target].breaker?.record(result.outcome, at: now) == true {
            state.reasons.insert(.breakerOpened)
        }
        let route = Int(state.route)
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

    private func attemptCost(target: Int, _ result: AttemptOutcome) -> (usd: Double, gpuUSD: Double) {
        let price = prices[target]
        if price.isLocal {
            let usd = result.gpuSeconds * price.gpuPerHour / 3_600
            return (usd, usd)
        }
        let usd = (Double(result.inputTokens) * price.inputPerMillion + Double(result.outputTokens) * price.outputPerMillion) / 1e6
        return (usd, 0)
    }

    /// The most one attempt of `request` on `target` can cost.
    private func worstCaseCost(_ request: RoutingRequest, target: Int, route: Int) -> Double {
        let price = prices[target]
        if price.isLocal {
            var seconds = price.maxGPUSecondsPerAttempt
            if routes[route].perTryTimeout > 0 { seconds = min(seconds, Seconds.seconds(routes[route].perTryTimeout)) }
            return seconds * price.gpuPerHour / 3_600
        }
        return (Double(request.inputTokens) * price.inputPerMillion + Double(request.maxOutputTokens) * price.outputPerMillion) / 1e6
    }

    private enum BudgetVerdict { case allowed, alert, degrade(Int), exhausted }

    private mutating func checkBudgets(_ request: RoutingRequest, route: Int, now: RoutingInstant) -> BudgetVerdict {
        guard hasBudgets(request) else { return .allowed }
        let indices = budgetIndices(of: request)
        var estimate = 0.0
        for tier in routes[route].tiers {
            for target in tier { estimate = max(estimate, worstCaseCost(request, target: Int(target), route: route)) }
        }
        var verdict = BudgetVerdict.allowed
        for index in indices where !budgets[index].fits(estimate, at: now) {
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
    private mutating func hardBudgetsFit(_ request: RoutingRequest, target: Int, route: Int, now: RoutingInstant) -> Bool {
        guard hasBudgets(request) else { return true }
        let indices = budgetIndices(of: request)
        let amount = worstCaseCost(request, target: target, route: route)
        for index in indices where budgets[index].config.mode == .hardStop && !budgets[index].fits(amount, at: now) {
            return false
        }
        return true
    }

    /// Whether any budget applies to `request` (checked before building the list: most
    /// requests have none, and the list costs an array retain or allocation).
    private func hasBudgets(_ request: RoutingRequest) -> Bool {
        let team = Int(request.team)
        if team >= 0 && team < teamHasBudgets.count && teamHasBudgets[team] { return true }
        // Every key in `keyBudgets` has at least one budget.
        return request.key >= 0 && Int(request.key) < keyBudgets.count
    }

    private func budgetIndices(of request: RoutingRequest) -> [Int] {
        let team = Int(request.team)
        let key = Int(request.key)
        let teamList = teamBudgets.indices.contains(team) ? teamBudgets[team] : []
        let keyList = keyBudgets.indices.contains(key) ? keyBudgets[key] : []
        if keyList.isEmpty { return teamList }
        return teamList + keyList
    }

    /// Reserves an attempt's worst-case cost against hard budgets; returns the amount.
    private mutating func reserveBudgets(_ request: RoutingRequest, target: Int, route: Int) -> Double {
        guard hasBudgets(request) else { return 0 }
        let indices = budgetIndices(of: request)
        let amount = worstCaseCost(request, target: target, route: route)
        for index in indices { budgets[index].reservedUSD += amount }
        return amount
    }

    private mutating func settleBudgets(_ request: RoutingRequest, reserved: Double, spent: Double, now: RoutingInstant) {
        guard hasBudgets(request) else { return }
        for index in budgetIndices(of: request) {
            budgets[index].roll(to: now)
            budgets[index].reservedUSD = max(0, budgets[index].reservedUSD - reserved)
            budgets[index].spentUSD += spent
        }
    }
}
