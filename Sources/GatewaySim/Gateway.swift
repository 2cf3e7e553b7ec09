import DequeModule
import GatewayConduct
import RoutingCore
import SimulationKernel
import Stochastics

/// The gateway: every decision is RoutingCore's and every rule about carrying them out is the
/// shared conduct's (``RequestConduct``, which the production gateway drives too); this actor
/// only turns the conduct's effects into simulated I/O — sends attempts to providers and
/// pools, schedules timers, cancels attempts — and tells teams how their requests ended. It
/// observes what a real gateway observes: answers, limits passing, and the first byte of an
/// attempt reaching the client. It can itself degrade (added latency, errors, down).
///
/// A gateway of several replicas (`gateway.replicas`) is several of these actors, each with its
/// own router, behind the teams' load balancer; with shared breakers (`breaker_scope:
/// shared`) each tells the others of its breakers' changes, which reach them
/// `propagation_delay_s` later as a router call (``breakerChangedElsewhere(_:)``). A replica
/// can crash (``ReplicaCrash``) and come back as a new start with a new router; what its earlier
/// lives spent and opened stays in its books.
actor Gateway: EventHandler {
    nonisolated let simulationExecutor: SimulationExecutor
    nonisolated var unownedExecutor: UnownedSerialExecutor { simulationExecutor.asUnownedSerialExecutor() }
    let id: HandlerID
    private let calendar: EventCalendar
    // Stored state marked @exclusivity(unchecked): the actor runs on its replication's one
    // thread and never hands out overlapping accesses, so the dynamic check only costs time.
    @exclusivity(unchecked) private var router: GatewayRouterCalls
    @exclusivity(unchecked) private var upstreams: [Upstream] = []
    @exclusivity(unchecked) private var teams: [PeerReference<Team>] = []
    private let healthStates: [GatewayHealthSpec]
    /// By route: the rules a streamed attempt's ticket carries to its upstream — whether an
    /// event that is not JSON ends it (`on_malformed_event`), when it reaches the client
    /// (`stream_commit`) — as the ticket stores them.
    private let streamRules: [AttemptTicket.StreamRules]
    private let errors: RandomStream
    @exclusivity(unchecked) private(set) var healthState = 0
    @exclusivity(unchecked) private var live = IntegerKeyTable<Live>()
    @exclusivity(unchecked) private var admitting = IntegerKeyTable<RoutingRequest>()
    /// The ledger and breaker openings when the warm-up ended: what came before is not counted.
    private var ledgerAtWarmUp: Ledger?
    private var openingsAtWarmUp: [Int] = []
    /// When arrivals stop (set by ``measure(_:)``).
    private var horizon = Int64.max
    /// Replaying a recorded trace (`TraceReplay`): the events arrive from the trace — requests,
    /// attempt endings, first bytes, timer firings at the times they happened — so the gateway
    /// sends nothing to upstreams, schedules no timers and tells no team; it only drives the
    /// conduct.
    private let replaying: Bool
    /// This gateway's place among the replicas (its tickets carry it, so answers come back here).
    private let replica: UInt8
    /// With shared breakers and more than one replica: the other replicas, and how long a
    /// breaker change takes to reach them (calendar nanoseconds).
    private var peers: [PeerReference<Gateway>] = []
    private var propagationDelay: Int64 = 0
    /// Breaker changes of other replicas on their way here, in the order sent (each arrives
    /// with a ``GatewayEvent/breakerNotice`` event; the delay is the same for all, so they
    /// arrive in order).
    @exclusivity(unchecked) private var inbox = Deque<BreakerNotice>()
    /// Shared budgets: the pool the replicas' slices come from, how slices are asked for, and
    /// the slices granted on their way to the router.
    private var budgetSharing: (pool: BudgetPool, settings: BudgetLeaseSettings)?
    @exclusivity(unchecked) private var slicesComing = Deque<BudgetLease>()
    /// All the replicas, this one among them (set by ``join(_:sharesRateLimits:)``), and
    /// whether they share rate limits (each enforcing 1/N, N the replicas it counts alive).
    private var replicas: GatewayReplicas?
    private var sharesRateLimits = false
    /// This replica's starts so far, less one: a crash ends a life, a restart begins the next.
    /// The events of a life's own chains (budget renewals, slices and breaker news on their
    /// way) carry it, and a later life ignores them.
    private var life: Int64 = 0
    private var isDown = false
    /// The spend and breaker openings of earlier lives after the warm-up.
    private var earlierLives: (ledger: Ledger, openings: [Int])?
    /// When the warm-up ends (set by ``measure(_:)``).
    private var warmUp: Int64 = 0
    /// What a restart's new router is made from.
    private let routerConfig: RouterConfig
    private let unixNanosecondsAtStart: Int64
    private let seed: UInt64
    private let replication: Int

    /// Where attempts go. Peer references: the calendar keeps the actors alive, and entering
    /// one costs no retain and release.
    enum Upstream {
        case provider(PeerReference<Provider>)
        case pool(PeerReference<FallbackPool>)
    }

    struct Live {
        var conduct: RequestConduct
        /// Absolute total limits of attempts whose first-token timer is armed, by attempt
        /// number modulo 8 (attempts in flight at once are at most two); 0: none.
        var totalDeadlines = InlineArray<8, Int64>(repeating: 0)
    }

    /// `routerConfig` must validate without errors (``World`` checks it first).
    /// `routerGenerator`: the router's randomness when it is not the replication's own stream
    /// (a replay uses the recorded gateway's); `replaying`: see ``replaying``.
    init(
        id: HandlerID, simulation: Simulation, routerConfig: RouterConfig, healthStates: [GatewayHealthSpec],
        unixNanosecondsAtStart: Int64, seed: UInt64, replication: Int, keepDecisionLog: Bool,
        routerGenerator: (any RandomNumberGenerator)? = nil, replaying: Bool = false, replica: Int = 0, replicaRank: UInt64? = nil,
        leasesBudgets: Bool = false
    ) {
        self.id = id
        self.replica = UInt8(replica)
        self.routerConfig = routerConfig
        self.unixNanosecondsAtStart = unixNanosecondsAtStart
        self.seed = seed
        self.replication = replication
        self.simulationExecutor = simulation.executor
        self.calendar = simulation.calendar
        self.replaying = replaying
        var router: Router
        do {
            let clock = CalendarClock(calendar: simulation.calendar)
            router = try Router(
                config: routerConfig, clock: clock, wallClock: OffsetWallClock(clock: clock, unixNanosecondsAtZero: unixNanosecondsAtStart),
                generator: routerGenerator ?? GatewayStreams.router(seed: seed, replication: replication, replica: replica))
        } catch {
            preconditionFailure("Gateway: router config was not validated before building the world: \(error)")
        }
        router.recordsRejectedAlternatives = keepDecisionLog
        router.replicaRank = replicaRank ?? UInt64(replica)
        if leasesBudgets { router.leaseBudgets() }
        self.router = GatewayRouterCalls(router: router, calendar: simulation.calendar, keepDecisionLog: keepDecisionLog)
        self.healthStates = healthStates.isEmpty ? [.healthy] : healthStates
        self.streamRules = routerConfig.routes.map(AttemptTicket.StreamRules.init)
        self.errors = GatewayStreams.errors(seed: seed, replication: replication, replica: replica)
    }

    /// This replica is one of `replicas`; with `sharesRateLimits` each enforces its share of the
    /// rate limits, counted again as replicas crash and come back.
    func join(_ replicas: GatewayReplicas, sharesRateLimits: Bool) {
        self.replicas = replicas
        self.sharesRateLimits = sharesRateLimits
    }

    /// Wires the gateway to its upstreams and teams, all registered with the same calendar.
    func connect(upstreams: [Upstream], teams: [Team]) {
        self.upstreams = upstreams
        self.teams = teams.map(PeerReference.init)
    }

    /// Breakers are shared with `peers` (the other replicas), whose routers hear of this one's
    /// breaker changes `propagationDelay` later.
    func share(breakersWith peers: [Gateway], propagationDelay: Int64) {
        self.peers = peers.map(PeerReference.init)
        self.propagationDelay = propagationDelay
    }

    /// Budgets are shared by the replicas through `pool` (a deployment whose state is
    /// PostgreSQL): this replica holds slices of them, asks for more by the rule the live
    /// gateway follows (``RoutingCore/BudgetLeaseState/wants(fraction:)``) every lease interval,
    /// and a slice reaches its router `propagationDelay` after it was asked for. The first
    /// slices are granted at once, before any request (as a live replica asks before it serves).
    func share(budgets pool: BudgetPool, settings: BudgetLeaseSettings, propagationDelay: Int64) {
        budgetSharing = (pool, settings)
        self.propagationDelay = propagationDelay
        router.router.leaseBudgets()
        renewBudgets(delay: 0)
        calendar.schedule(
            after: SimulationInstant.nanoseconds(fromSeconds: settings.intervalSeconds), to: id, kind: GatewayEvent.budgetRenewal.rawValue,
            payload: life)
    }

    /// Asks the pool for the slices this replica needs; each reaches the router after `delay`.
    private func renewBudgets(delay: Int64) {
        guard let (budgetPool, settings) = budgetSharing else { return }
        for budget in router.router.budgetLeaseStates(lookaheadNanoseconds: 2_000_000_000) {
            let (current, upcoming) = budget.wants(fraction: settings.fraction)
            var asks: [(Int64, Double)] = []
            if let current { asks.append((budget.period, current)) }
            if let upcoming, let period = budget.upcomingPeriod { asks.append((period, upcoming)) }
            for (period, want) in asks {
                let granted = budgetPool.grant(budget.config.scope, period: period, limitUSD: budget.config.limitUSD, want: want)
                guard granted > 0 else { continue }
                let lease = BudgetLease(scope: budget.config.scope, period: period, usd: granted)
                if delay == 0 {
                    router.router.budgetLeaseChanged(lease)
                } else {
                    slicesComing.append(lease)
                    calendar.schedule(after: delay, to: id, kind: GatewayEvent.budgetLease.rawValue, payload: life)
                }
            }
        }
    }

    /// Another replica's breaker changed: its news reaches this router after the delay.
    func hear(_ notice: BreakerNotice) {
        guard !isDown else { return }
        inbox.append(notice)
        calendar.schedule(after: propagationDelay, to: id, kind: GatewayEvent.breakerNotice.rawValue, payload: life)
    }

    /// This replica's share of the rate limits the replicas share (with N replicas alive, 1/N).
    func setRateShare(_ share: Double) {
        router.router.setRateShare(share)
    }

    /// A slice of a shared budget granted or given back (replayed from a trace).
    func budgetLeaseChanged(_ lease: BudgetLease) {
        router.router.budgetLeaseChanged(lease)
    }

    /// The router is told of another replica's breaker change (delivered from ``inbox``, or
    /// replayed from a trace).
    func breakerChangedElsewhere(_ notice: BreakerNotice) {
        router.router.breakerChangedElsewhere(notice)
    }

    func setHealth(_ state: Int) {
        healthState = state
    }

    /// Decisions made so far.
    var decisions: Int { router.decisions }

    /// Every decision, when a decision log is wanted.
    var decisionLog: [DecisionRecord]? { router.decisionLog }

    /// Spend charged after the warm-up, earlier lives' included.
    var ledger: Ledger {
        let current = ledgerOfThisLife
        return earlierLives.map { $0.ledger.adding(current) } ?? current
    }

    /// Breaker openings after the warm-up, earlier lives' included.
    func breakerOpenings(of target: TargetID) -> Int {
        openingsOfThisLife(target) + (earlierLives?.openings[target.index] ?? 0)
    }

    /// This life's spend after the warm-up (none when it ended before the warm-up did).
    private var ledgerOfThisLife: Ledger {
        if isDown { return Ledger(teamCount: router.router.config.teams.count) }
        return ledgerAtWarmUp.map { router.router.ledger.subtracting($0) } ?? router.router.ledger
    }

    private func openingsOfThisLife(_ target: TargetID) -> Int {
        if isDown { return 0 }
        return router.router.breakerOpenings(of: target) - (target.index < openingsAtWarmUp.count ? openingsAtWarmUp[target.index] : 0)
    }

    /// A team is done (no more arrivals, nothing open). When every team is, the run ends with
    /// the horizon or with its last request, whichever is later: events after that — a
    /// provider finishing an attempt nobody waits for, a health change — are not delivered.
    func teamDrained() {
        if teams.allSatisfy({ $0.enter(()) { team, _ in team.isDrained } }) { calendar.stop(after: max(calendar.now, horizon)) }
    }

    /// Measures over `window`: spend and breaker openings count from the end of its warm-up,
    /// and the run ends no earlier than its horizon.
    func measure(_ window: MeasurementWindow) {
        horizon = window.horizon
        warmUp = window.warmUp
        if window.warmUp > 0 { calendar.schedule(at: window.warmUp, to: id, kind: GatewayEvent.warmUpEnds.rawValue, payload: 0) }
    }

    func routeIsBypass(_ route: RouteID) -> Bool { router.router.config.routes[route.index].mode == .bypass }

    // MARK: Requests

    func submit(_ request: RoutingRequest) {
        if !routeIsBypass(request.route) {
            // (The load balancer gives a replica that is down nothing.)
            // Fields are read in place: a copy of the state would retain its name.
            let errorProbability = healthStates[healthState].errorProbability
            let addedLatency = healthStates[healthState].addedLatencySeconds
            if errorProbability > 0 && errors.uniform() < errorProbability {
                tell(
                    request.team,
                    RequestEnd(
                        requestID: request.id, succeeded: false, servedByFallback: false, firstTokenAt: 0,
                        attempts: 0, hedged: false, failureLabel: TeamMetrics.gatewayFailure, sdkMayRetry: true))
                return
            }
            if addedLatency > 0 {
                admitting.insert(request, forKey: request.id)
                calendar.schedule(
                    after: SimulationInstant.nanoseconds(fromSeconds: addedLatency), to: id, kind: GatewayEvent.admit.rawValue,
                    payload: Int64(bitPattern: request.id))
                return
            }
        }
        route(request)
    }

    /// The decisions so far as decision records (the replay compares them with the trace's).
    func decisionRecords() -> [DecisionRecord] {
        router.decisionLog ?? []
    }

    func handle(_ event: Event) {
        guard let kind = GatewayEvent(rawValue: event.kind) else { preconditionFailure("Gateway: an event of unknown kind \(event.kind)") }
        let requestID = UInt64(bitPattern: event.payload)
        switch kind {
        case .admit:
            if let request = admitting.removeValue(forKey: requestID) { route(request) }
        case .resume:
            drive(requestID) { conduct, router, effects in conduct.backoffEnded(&router, into: &effects) }
        case .hedge:
            drive(requestID) { conduct, router, effects in conduct.hedgeTimerFired(&router, into: &effects) }
        case .firstByte:
            let now = calendar.now
            drive(AttemptTicket.requestID(ofKey: event.payload)) { conduct, router, effects in
                conduct.firstByte(of: AttemptTicket.attempt(ofKey: event.payload), at: now, &router, into: &effects)
            }
        case .attemptDeadline, .idleCut:
            limitPassed(key: event.payload, firstTokenOnly: false)
        case .malformedCut:
            limitPassed(key: event.payload, firstTokenOnly: false, cutAs: .serverError)
        case .firstTokenDeadline:
            limitPassed(key: event.payload, firstTokenOnly: true)
        case .breakerNotice:
            guard event.payload == life else { return }
            if let notice = inbox.popFirst() { breakerChangedElsewhere(notice) }
        case .budgetRenewal:
            // Until the run's end (the calendar stops delivering then), or this life's.
            guard event.payload == life, !isDown, let interval = budgetSharing?.settings.intervalSeconds else { return }
            renewBudgets(delay: propagationDelay)
            calendar.schedule(
                after: SimulationInstant.nanoseconds(fromSeconds: interval), to: id, kind: GatewayEvent.budgetRenewal.rawValue, payload: life)
        case .budgetLease:
            guard event.payload == life else { return }
            if let lease = slicesComing.popFirst() { budgetLeaseChanged(lease) }
        case .warmUpEnds:
            // A replica down now has nothing to count from; the life it starts later counts from its start.
            guard !isDown else { return }
            ledgerAtWarmUp = router.router.ledger
            openingsAtWarmUp = router.router.config.targetIDs.map { router.router.breakerOpenings(of: $0) }
        case .crash:
            crash(restartAfter: event.payload)
        case .restart:
            restart()
        case .recount:
            recount()
        }
    }

    // MARK: Crashes

    /// This replica crashes at `time` (calendar nanoseconds) and, with `restartAfter`, comes
    /// back that much later.
    func scheduleCrash(at time: Int64, restartAfter: Int64?) {
        calendar.schedule(at: time, to: id, kind: GatewayEvent.crash.rawValue, payload: restartAfter ?? 0)
    }

    /// The process is gone: every request it holds fails for its client as a broken
    /// connection, which the SDK may retry (the load balancer gives the retry to a replica
    /// up); the attempts' connections to upstreams close (cancelled there); slices of shared
    /// budgets it held stay granted (counted as spent, as the live database counts a dead
    /// replica's); breaker news and slices on their way to it are lost. What this life spent
    /// and opened after the warm-up stays in the books.
    private func crash(restartAfter: Int64) {
        guard !isDown, let replicas else { return }
        let now = calendar.now
        if now >= warmUp {
            let ledger = ledgerOfThisLife
            let openings = router.router.config.targetIDs.map(openingsOfThisLife)
            earlierLives =
                earlierLives.map { earlier in
                    (earlier.ledger.adding(ledger), zip(earlier.openings, openings).map(+))
                } ?? (ledger, openings)
        }
        isDown = true
        life += 1
        replicas.liveness.wentDown(Int(replica), at: now)
        // In request order: the table's order is its own.
        let held = live.storedKeys.sorted()
        for requestID in held {
            guard let entry = live.removeValue(forKey: requestID) else { continue }
            for (attempt, target) in entry.conduct.outstandingAttempts {
                let key = AttemptTicket.key(requestID: requestID, attempt: attempt)
                switch upstreams[target.index] {
                case .provider(let provider): provider.enter(key) { provider, key in provider.cancel(key: key) }
                case .pool(let pool): pool.enter(key) { pool, key in pool.cancel(key: key) }
                }
            }
            // A request already answered (its cancelled attempts settling) has told its team.
            guard !entry.conduct.isOver else { continue }
            brokenConnection(team: entry.conduct.routing.request.team, requestID: requestID)
        }
        for requestID in admitting.storedKeys.sorted() {
            guard let request = admitting.removeValue(forKey: requestID) else { continue }
            brokenConnection(team: request.team, requestID: requestID)
        }
        inbox.removeAll()
        slicesComing.removeAll()
        // The others count it out once its last mark is stale.
        let stale = SimulationInstant.nanoseconds(fromSeconds: Double(ReplicaCounting.windowSeconds))
        recountOthers(after: stale)
        if restartAfter > 0 { calendar.schedule(after: restartAfter, to: id, kind: GatewayEvent.restart.rawValue, payload: 0) }
    }

    /// A request the crash cut: the client's connection broke with no answer.
    private func brokenConnection(team: TeamID?, requestID: UInt64) {
        tell(
            team,
            RequestEnd(
                requestID: requestID, succeeded: false, servedByFallback: false, firstTokenAt: 0, attempts: 0, hedged: false,
                failureLabel: TeamMetrics.gatewayFailure, sdkMayRetry: true))
    }

    /// A new start: a new router (breakers closed, nothing learnt, its own random stream for
    /// this life), the first slices of shared budgets before any request, the replicas
    /// counted (this one among them) for its share of the rate limits; the others count it
    /// at their next mark.
    private func restart() {
        guard isDown, let replicas else { return }
        let clock = CalendarClock(calendar: calendar)
        do {
            var fresh = try Router(
                config: routerConfig, clock: clock, wallClock: OffsetWallClock(clock: clock, unixNanosecondsAtZero: unixNanosecondsAtStart),
                generator: GatewayStreams.router(seed: seed, replication: replication, replica: Int(replica), life: Int(life)))
            fresh.recordsRejectedAlternatives = router.router.recordsRejectedAlternatives
            fresh.replicaRank = router.router.replicaRank
            router.router = fresh
        } catch {
            preconditionFailure("Gateway: a router config that built once failed to build again: \(error)")
        }
        isDown = false
        replicas.liveness.cameUp(Int(replica))
        // Counted from its start when the warm-up is over, from the warm-up's end otherwise.
        ledgerAtWarmUp = nil
        openingsAtWarmUp = []
        if let (pool, settings) = budgetSharing { share(budgets: pool, settings: settings, propagationDelay: propagationDelay) }
        recount()
        recountOthers(after: SimulationInstant.nanoseconds(fromSeconds: Double(ReplicaCounting.beatSeconds)))
    }

    /// The other replicas up count the replicas again `delay` from now.
    private func recountOthers(after delay: Int64) {
        guard sharesRateLimits, let replicas else { return }
        for other in 0..<replicas.count where other != Int(replica) && replicas.liveness.isUp(other) {
            calendar.schedule(after: delay, to: replicas.id(of: UInt8(other)), kind: GatewayEvent.recount.rawValue, payload: 0)
        }
    }

    /// Counts the replicas alive (``ReplicaLiveness/counted(at:window:)``) for this one's share
    /// of the rate limits; the router notes a new share in its trace.
    private func recount() {
        guard sharesRateLimits, !isDown, let replicas else { return }
        let window = SimulationInstant.nanoseconds(fromSeconds: Double(ReplicaCounting.windowSeconds))
        setRateShare(1 / Double(replicas.liveness.counted(at: calendar.now, window: window)))
    }

    /// The router now, for a replay's snapshot (``TraceReplay/Snapshot``).
    func snapshot(at time: Int64) -> TraceReplay.Snapshot {
        let targets = router.router.config.targetIDs
        return TraceReplay.Snapshot(
            timeNanoseconds: time, ledger: router.router.ledger, breakers: targets.map { router.router.breakerState(of: $0) },
            openings: targets.map { router.router.breakerOpenings(of: $0) })
    }

    /// A replayed first byte (``TraceReplay``).
    func firstByteReached(requestID: UInt64, attempt: Int32) {
        let now = calendar.now
        drive(requestID) { conduct, router, effects in conduct.firstByte(of: attempt, at: now, &router, into: &effects) }
    }

    /// A replayed client that went away (``TraceReplay``).
    func clientWentAway(requestID: UInt64) {
        drive(requestID) { conduct, router, effects in conduct.clientWentAway(&router, into: &effects) }
    }

    /// A client-side limit has passed, or the stream's frames tripped a rule (`cutAs`: what a
    /// cut before the client's first byte is): the attempt is over for the gateway (the
    /// upstream, which does not know, keeps working on it and its answer will arrive late and
    /// be ignored). An attempt that has produced output by now meets its first-token limit,
    /// which then gives way to the total limit; one whose first byte has reached the client by
    /// now (its first token, or its hold's release) is cut after it: a failure after its first
    /// byte (the conduct classifies a total limit so). A whole answer has reached nobody before
    /// its end: its limit is a timeout.
    private func limitPassed(key: Int64, firstTokenOnly: Bool, cutAs: OutcomeClass = .timeout) {
        let requestID = AttemptTicket.requestID(ofKey: key)
        let attempt = AttemptTicket.attempt(ofKey: key)
        let watched = live.modify(requestID) { entry -> (target: TargetID, streamed: Bool)? in
            guard entry.conduct.isOutstanding(attempt), let target = entry.conduct.routing.attemptTarget(attempt) else { return nil }
            return (target, entry.conduct.routing.request.streamed)
        }
        guard let (target, streamed) = watched ?? nil else { return }
        guard streamed else {
            drive(requestID) { conduct, router, effects in
                conduct.attemptEnded(attempt, AttemptOutcome(outcome: .timeout, latencyNanoseconds: 0), &router, into: &effects)
            }
            return
        }
        let (firstToken, firstByte): (Int64?, Int64?)
        switch upstreams[target.index] {
        case .provider(let provider):
            (firstToken, firstByte) = provider.enter(key) { provider, key in (provider.firstTokenTime(of: key), provider.firstByteTime(of: key)) }
        case .pool(let pool): (firstToken, firstByte) = pool.enter(key) { pool, key in (pool.firstTokenTime(of: key), pool.firstByteTime(of: key)) }
        }
        var cut = AttemptOutcome(outcome: cutAs, latencyNanoseconds: 0)
        if let firstByte, firstByte <= calendar.now {
            // Learned now, happened then (no event is scheduled for unwatched attempts).
            drive(requestID) { conduct, router, effects in conduct.firstByte(of: attempt, at: firstByte, &router, into: &effects) }
            if cutAs != .timeout { cut.outcome = .failedAfterFirstByte }
        }
        if let firstToken, firstToken <= calendar.now {
            if firstTokenOnly {
                let deadline = live.modify(requestID) { $0.totalDeadlines[Int(attempt) % 8] } ?? 0
                if deadline > calendar.now {
                    calendar.schedule(at: deadline, to: id, kind: GatewayEvent.attemptDeadline.rawValue, payload: key)
                }
                return
            }
            // A stream cut after its first token is billed for what the gateway read of it (held or relayed).
            if case .provider(let provider) = upstreams[target.index] {
                (cut.inputTokens, cut.outputTokens) = provider.enter(key) { provider, key in provider.relayedTokens(of: key) }
            }
        }
        let ended = cut
        drive(requestID) { conduct, router, effects in conduct.attemptEnded(attempt, ended, &router, into: &effects) }
    }

    func attemptEnded(_ report: AttemptReport) {
        let now = calendar.now
        guard let streamed = live.modify(report.requestID, { $0.conduct.routing.request.streamed }) else { return }
        // A streamed attempt that produced output had its first byte reach the client when it
        // did; a whole answer reaches it now, at its end, if it is one. The first byte's effects
        // are carried out before the ending is driven: the conduct's answer to the ending does
        // not depend on them (they cancel other attempts, whose ends come as later events).
        let reachedClientAt = streamed ? report.firstByteAt : (report.outcome.outcome == .success ? now : 0)
        if reachedClientAt > 0 {
            drive(report.requestID) { conduct, router, effects in conduct.firstByte(of: report.attempt, at: reachedClientAt, &router, into: &effects)
            }
        }
        // A whole answer that did not arrive showed the gateway nothing to bill.
        var outcome = report.outcome
        if !streamed && outcome.outcome != .success { (outcome.inputTokens, outcome.outputTokens) = (0, 0) }
        let ended = outcome
        drive(report.requestID) { conduct, router, effects in conduct.attemptEnded(report.attempt, ended, &router, into: &effects) }
    }

    /// A request arrives: its conduct begins where the request is kept (its state is too
    /// large to build elsewhere and copy in).
    private func route(_ request: RoutingRequest) {
        var effects = ConductEffects()
        live.insert(Live(conduct: RequestConduct(unbegun: request)), forKey: request.id) { $0.conduct.begin(&router, into: &effects) }
        apply(effects, to: request.id)
    }

    /// Runs one event through the request's conduct and carries out its effects.
    private func drive(_ requestID: UInt64, _ body: (inout RequestConduct, inout GatewayRouterCalls, inout ConductEffects) -> Void) {
        var effects = ConductEffects()
        guard live.modify(requestID, { body(&$0.conduct, &router, &effects) }) != nil else { return }
        apply(effects, to: requestID)
        if !peers.isEmpty && !router.router.breakerNotices.isEmpty { tellPeers() }
    }

    /// Sends this replica's breaker changes to the other replicas.
    private func tellPeers() {
        for notice in router.router.takeBreakerNotices() {
            for peer in peers { peer.enter(notice) { peer, notice in peer.hear(notice) } }
        }
    }

    /// Carries out the conduct's effects, in their order. Upstreams answer through events,
    /// never synchronously: the request's entry is still current throughout.
    private func apply(_ effects: ConductEffects, to requestID: UInt64) {
        if !replaying {
            effects.cancellations.forEach { attempt, target in
                let key = AttemptTicket.key(requestID: requestID, attempt: attempt)
                switch upstreams[target.index] {
                case .provider(let provider): provider.enter(key) { provider, key in provider.cancel(key: key) }
                case .pool(let pool): pool.enter(key) { pool, key in pool.cancel(key: key) }
                }
            }
            // A disarmed hedge timer is left to fire: the conduct ignores it.
            if let order = effects.send { send(order, requestID: requestID) }
            if let hedgeAfter = effects.armHedgeTimerNanoseconds {
                calendar.schedule(after: hedgeAfter, to: id, kind: GatewayEvent.hedge.rawValue, payload: Int64(bitPattern: requestID))
            }
            if let backoff = effects.backoffNanoseconds {
                calendar.schedule(after: backoff, to: id, kind: GatewayEvent.resume.rawValue, payload: Int64(bitPattern: requestID))
            }
            if effects.endsRequest, let ending = effects.ending { tell(ending, requestID: requestID) }
        }
        if effects.forget { live.remove(requestID) }
    }

    private func send(_ order: AttemptOrder, requestID: UInt64) {
        guard
            var ticket = live.modify(
                requestID,
                { entry in
                    AttemptTicket(
                        requestID: requestID, attempt: order.attempt, inputTokens: entry.conduct.routing.request.inputTokens,
                        outputTokens: entry.conduct.routing.request.maxOutputTokens, watchesFirstByte: order.watchesFirstByte)
                })
        else { return }
        ticket.replica = replica
        // A stream's frames are judged by the rules of the route in force as they come (``GatewayEvent/streamCut``).
        if let idle = order.idleLimitNanoseconds { ticket.followStream(idleLimitNanoseconds: idle, streamRules[order.route.index]) }
        let projection: AttemptProjection?
        switch upstreams[order.target.index] {
        case .provider(let provider): projection = provider.enter(ticket) { provider, ticket in provider.start(ticket) }
        case .pool(let pool): projection = pool.enter(ticket) { pool, ticket in pool.start(ticket) }
        }
        armTimers(for: ticket.key, order: order, requestID: requestID, projection: projection)
    }

    /// The client-side limits of an attempt. When the upstream already knows how the attempt
    /// ends, a timer is set only if a limit fires first (usually none); otherwise one timer:
    /// the first-token check when it comes first (it then arms the total limit if the
    /// attempt goes on), else the total limit.
    private func armTimers(for key: Int64, order: AttemptOrder, requestID: UInt64, projection: AttemptProjection?) {
        let firstToken = order.firstTokenLimitNanoseconds ?? 0
        let total = order.attemptLimitNanoseconds ?? 0
        let now = calendar.now
        if let projection {
            let firstTokenLimit = SimulationInstant.adding(now, firstToken), totalLimit = SimulationInstant.adding(now, total)
            if firstToken > 0, projection.answerAt > firstTokenLimit, (projection.firstTokenAt ?? Int64.max) > firstTokenLimit {
                calendar.schedule(at: firstTokenLimit, to: id, kind: GatewayEvent.attemptDeadline.rawValue, payload: key)
            } else if total > 0, projection.answerAt > totalLimit {
                calendar.schedule(at: totalLimit, to: id, kind: GatewayEvent.attemptDeadline.rawValue, payload: key)
            }
            return
        }
        if firstToken > 0 && (total == 0 || firstToken < total) {
            live.modify(requestID) { $0.totalDeadlines[Int(order.attempt) % 8] = total > 0 ? SimulationInstant.adding(now, total) : 0 }
            calendar.schedule(after: firstToken, to: id, kind: GatewayEvent.firstTokenDeadline.rawValue, payload: key)
        } else if total > 0 {
            calendar.schedule(after: total, to: id, kind: GatewayEvent.attemptDeadline.rawValue, payload: key)
        }
    }

    private func tell(_ ending: RequestEnding, requestID: UInt64) {
        let fallback: Bool
        if let target = ending.winnerTarget, case .pool = upstreams[target.index] { fallback = true } else { fallback = false }
        tell(
            ending.team,
            RequestEnd(
                requestID: requestID, succeeded: ending.succeeded, servedByFallback: fallback,
                firstTokenAt: ending.succeeded ? ending.firstByteAt : 0, attempts: Int(ending.attempts), hedged: ending.hedged,
                failureLabel: ending.failureLabel, sdkMayRetry: ending.sdkMayRetry))
    }

    private func tell(_ team: TeamID?, _ end: RequestEnd) {
        guard let team, !replaying else { return }
        teams[team.index].enter(end) { team, end in team.requestEnded(end) }
    }
}

/// RoutingCore's clock, read from the replication's event calendar.
struct CalendarClock: RoutingClock {
    let calendar: EventCalendar

    var now: RoutingInstant { RoutingInstant(nanoseconds: calendar.now) }
}
