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
    public internal(set) var ledger: Ledger
    /// Whether the router lists the targets each decision passed over and why
    /// (``rejectedAlternatives``). On by default; a caller that never reads them (the
    /// simulator without a decision log) turns it off and saves an array allocation per
    /// decision that passes a target over.
    public var recordsRejectedAlternatives = true
    /// The targets the decision just returned passed over, and why: each call that returns a
    /// decision (``begin(_:)``, ``attemptFinished(_:attempt:_:)``, ``resume(_:)``,
    /// ``hedgeDue(_:)``) replaces them, so they are read right after it (``record(_:)`` does).
    /// Empty when none was passed over, and always while ``recordsRejectedAlternatives`` is off.
    public internal(set) var rejectedAlternatives: [RejectedAlternative] = []

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
    var targetCapacity: [Int]
    /// The API each target speaks, and by route whether it sends only to targets of the
    /// client's API (`cross_protocol: false`).
    let targetProtocol: [APIProtocol]
    let refusesOtherProtocol: [Bool]
    /// Each target's prices, copied out of the config so the hot path touches no strings.
    let prices: [TargetPrices]
    /// Whether some route hedges at a latency percentile (targets then keep latency histograms).
    let tracksLatencyPercentiles: Bool
    /// Whether breakers are shared with other replicas (`breaker_scope: shared`): their
    /// changes then wait in ``breakerNotices`` for the driver to send.
    let sharesBreakers: Bool
    /// This replica's breaker changes not yet taken (``takeBreakerNotices()``).
    public internal(set) var breakerNotices: [BreakerNotice] = []
    /// This replica's share of the rate limits (``setRateShare(_:)``; 1: its own).
    public internal(set) var rateShare = 1.0
    /// This replica's place among the replicas that share breakers, distinct for each (the
    /// simulator's replica number; a live gateway's boot id): of several replicas that open a
    /// breaker at once, the lowest keeps the probe. A trace records it, so a replay decides alike.
    public var replicaRank: UInt64 = 0

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
        let idleTimeout: Int64
        /// Where an attempt refused for its context length goes next, in order.
        let contextFallbacks: [TargetID]

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
    public init(
        config: RouterConfig, clock: any RoutingClock, wallClock: any WallClock, generator: any RandomNumberGenerator
    ) throws(RouterConfigError) {
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
            TargetPrices(
                inputPerMillion: $0.inputPricePerMillion, outputPerMillion: $0.outputPricePerMillion, gpuPerHour: $0.gpuPricePerHour,
                maxGPUSecondsPerAttempt: $0.maxGPUSecondsPerAttempt, isLocal: $0.kind == .local)
        }
        self.tracksLatencyPercentiles = config.routes.contains { route in
            if case .latencyPercentile? = route.hedging?.delay { return true }
            return false
        }
        self.sharesBreakers = config.health.breakerScope == .shared
        self.targetProtocol = config.targets.map(\.apiProtocol)
        self.refusesOtherProtocol = config.routes.map { !$0.crossProtocol }
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
                overallTimeout: Seconds.nanoseconds(route.timeouts.effectiveOverallSeconds),
                idleTimeout: Seconds.nanoseconds(route.timeouts.effectiveIdleSeconds),
                contextFallbacks: route.contextWindowFallbacks.map { targetIndex[$0]! }
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
    public func request(
        id: UInt64, route: String, team: String?, key: String? = nil, inputTokens: Int, maxOutputTokens: Int,
        streamed: Bool = true, apiProtocol: APIProtocol = .openai
    ) throws(RoutingNameError) -> RoutingRequest {
        let teamID: TeamID?
        if let team {
            teamID = try config.team(named: team)
        } else if config.teams.isEmpty {
            teamID = nil
        } else {
            throw RoutingNameError(kind: .team, name: "", known: config.teams.map(\.name))
        }
        return RoutingRequest(
            id: id, route: try config.route(named: route), team: teamID,
            key: try key.map { (name) throws(RoutingNameError) in try config.key(named: name) },
            inputTokens: inputTokens, maxOutputTokens: maxOutputTokens, streamed: streamed, apiProtocol: apiProtocol)
    }

    /// How many times a target's breaker has opened (for reports).
    public func breakerOpenings(of target: TargetID) -> Int {
        targets[target.index].breaker?.openings ?? 0
    }

    /// A target's breaker state (nil: it has no breaker).
    public func breakerState(of target: TargetID) -> CircuitBreaker.State? {
        targets[target.index].breaker?.state
    }

    /// The breaker changes this replica made since the last call, in order, for the other
    /// replicas (empty unless breakers are shared).
    public mutating func takeBreakerNotices() -> [BreakerNotice] {
        defer { breakerNotices.removeAll(keepingCapacity: true) }
        return breakerNotices
    }

    /// Another replica's breaker of a target changed (breakers shared): this replica's breaker
    /// opens with it, or closes with it (see ``CircuitBreaker/openedElsewhere(forNanoseconds:at:)``).
    /// A target without a breaker here ignores it.
    public mutating func breakerChangedElsewhere(_ notice: BreakerNotice) {
        let now = clock.now
        guard targets.indices.contains(notice.target.index), targets[notice.target.index].breaker != nil else { return }
        switch notice {
        case .opened(let target, let nanoseconds, let rank):
            targets[target.index].breaker!.openedElsewhere(forNanoseconds: nanoseconds, at: now, keepsProbe: replicaRank < rank)
        case .closed(let target): targets[target.index].breaker!.closedElsewhere()
        }
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
}
