import RoutingCore
import SimulationKernel
import Stochastics

/// The gateway: every decision is RoutingCore's; this actor only carries them out — sends
/// attempts to providers and pools, waits, fires hedge timers, cancels losers — and tells
/// teams how their requests ended. It can itself degrade (added latency, errors, down).
actor Gateway: EventHandler {
    nonisolated let simulationExecutor: SimulationExecutor
    nonisolated var unownedExecutor: UnownedSerialExecutor { simulationExecutor.asUnownedSerialExecutor() }
    let id: HandlerID
    private let calendar: EventCalendar
    // Stored state marked @exclusivity(unchecked): the actor runs on its replication's one
    // thread and never hands out overlapping accesses, so the dynamic check only costs time.
    @exclusivity(unchecked) private var router: Router
    @exclusivity(unchecked) private var upstreams: [Upstream] = []
    @exclusivity(unchecked) private var teams: [PeerReference<Team>] = []
    private let healthStates: [GatewayHealthSpec]
    private let errors: RandomStream
    @exclusivity(unchecked) private(set) var healthState = 0
    @exclusivity(unchecked) private var live = IntegerKeyTable<Live>()
    @exclusivity(unchecked) private var admitting = IntegerKeyTable<RoutingRequest>()
    /// Every decision, when a decision log is wanted.
    @exclusivity(unchecked) private(set) var decisionLog: [Decision]?
    @exclusivity(unchecked) private(set) var decisions = 0
    /// The ledger and breaker openings when the warm-up ended: what came before is not counted.
    private var ledgerAtWarmUp: Ledger?
    private var openingsAtWarmUp: [Int] = []
    /// When arrivals stop (set by ``measure(_:)``).
    private var horizon = Int64.max
    /// Replaying a recorded trace (`TraceReplay`): the calls arrive from the trace — requests,
    /// attempt outcomes, timer firings at the times they happened — so the gateway sends
    /// nothing to upstreams, arms no timers and tells no team; it only calls the router.
    private let replaying: Bool

    /// Where attempts go. Peer references: the calendar keeps the actors alive, and entering
    /// one costs no retain and release.
    enum Upstream {
        case provider(PeerReference<Provider>)
        case pool(PeerReference<FallbackPool>)
    }

    struct Live {
        var state: RequestState
        var firstTokenAt: Int64 = 0
        var hedged = false
        /// Absolute total limits of attempts whose first-token timer is armed, by attempt
        /// number modulo 8 (attempts in flight at once are at most two); 0: none.
        var totalDeadlines = InlineArray<8, Int64>(repeating: 0)
    }

    /// What the team is told when a request ends, read from its entry in place (copying the
    /// whole entry out of the table costs more than the rest of the ending).
    struct Ending {
        let team: TeamID?
        let firstTokenAt: Int64
        let attempts: Int
        let hedged: Bool
        /// Where the attempt being cancelled went.
        let cancelledTarget: TargetID?

        init(_ entry: Live, cancelling attempt: Int32?) {
            team = entry.state.request.team
            firstTokenAt = entry.firstTokenAt
            attempts = Int(entry.state.attemptsSent)
            hedged = entry.hedged
            cancelledTarget = attempt.flatMap { entry.state.attemptTarget($0) }
        }
    }

    static let admit: Int32 = 0
    static let resume: Int32 = 1
    static let hedge: Int32 = 2
    /// An attempt's total time limit has passed.
    static let attemptDeadline: Int32 = 3
    /// An attempt's first-token limit has passed.
    static let firstTokenDeadline: Int32 = 4
    /// The warm-up ends: counting starts.
    static let warmUpEnds: Int32 = 5

    /// `routerConfig` must validate without errors (``World`` checks it first).
    /// `routerGenerator`: the router's randomness when it is not the replication's own stream
    /// (a replay uses the recorded gateway's); `replaying`: see ``replaying``.
    init(id: HandlerID, simulation: Simulation, routerConfig: RouterConfig, healthStates: [GatewayHealthSpec],
         unixNanosecondsAtStart: Int64, seed: UInt64, replication: Int, keepDecisionLog: Bool,
         routerGenerator: (any RandomNumberGenerator)? = nil, replaying: Bool = false) {
        self.id = id
        self.simulationExecutor = simulation.executor
        self.calendar = simulation.calendar
        self.replaying = replaying
        do {
            let clock = CalendarClock(calendar: simulation.calendar)
            self.router = try Router(config: routerConfig, clock: clock, wallClock: OffsetWallClock(clock: clock, unixNanosecondsAtZero: unixNanosecondsAtStart),
                                     generator: routerGenerator ?? RandomStream(name: "gateway.router", seed: seed, replication: replication))
        } catch {
            preconditionFailure("Gateway: router config was not validated before building the world: \(error)")
        }
        router.recordsRejectedAlternatives = keepDecisionLog
        self.healthStates = healthStates.isEmpty ? [.healthy] : healthStates
        self.errors = RandomStream(name: "gateway.errors", seed: seed, replication: replication)
        self.decisionLog = keepDecisionLog ? [] : nil
    }

    /// Wires the gateway to its upstreams and teams, all registered with the same calendar.
    func connect(upstreams: [Upstream], teams: [Team]) {
        self.upstreams = upstreams
        self.teams = teams.map(PeerReference.init)
    }

    func setHealth(_ state: Int) {
        healthState = state
    }

    /// Spend charged after the warm-up.
    var ledger: Ledger { ledgerAtWarmUp.map { router.ledger.subtracting($0) } ?? router.ledger }

    /// Breaker openings after the warm-up.
    func breakerOpenings(of target: TargetID) -> Int {
        router.breakerOpenings(of: target) - (target.index < openingsAtWarmUp.count ? openingsAtWarmUp[target.index] : 0)
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
        if window.warmUp > 0 { calendar.schedule(at: window.warmUp, to: id, kind: Gateway.warmUpEnds, payload: 0) }
    }

    func routeIsBypass(_ route: RouteID) -> Bool { router.config.routes[route.index].mode == .bypass }

    // MARK: Requests

    func submit(_ request: RoutingRequest) {
        if !routeIsBypass(request.route) {
            // Fields are read in place: a copy of the state would retain its name.
            let errorProbability = healthStates[healthState].errorProbability
            let addedLatency = healthStates[healthState].addedLatencySeconds
            if errorProbability > 0 && errors.uniform() < errorProbability {
                tell(request.team, RequestEnd(requestID: request.id, succeeded: false, servedByFallback: false, firstTokenAt: 0,
                                              attempts: 0, hedged: false, failureLabel: TeamMetrics.gatewayFailure, sdkMayRetry: true))
                return
            }
            if addedLatency > 0 {
                admitting.insert(request, forKey: request.id)
                calendar.schedule(after: SimulationInstant.nanoseconds(fromSeconds: addedLatency), to: id, kind: Gateway.admit, payload: Int64(bitPattern: request.id))
                return
            }
        }
        route(request)
    }

    /// The decisions so far as decision records (the replay compares them with the trace's).
    func decisionRecords() -> [DecisionRecord] {
        (decisionLog ?? []).map { router.record($0) }
    }

    func handle(_ event: Event) {
        let requestID = UInt64(bitPattern: event.payload)
        switch event.kind {
        case Gateway.admit:
            if let request = admitting.removeValue(forKey: requestID) { route(request) }
        case Gateway.resume:
            guard let decision = live.modify(requestID, { router.resume(&$0.state) }) else { return }
            act(on: decision)
        case Gateway.hedge:
            guard let decision = live.modify(requestID, { router.hedgeDue(&$0.state) }) else { return }
            act(on: decision)
        case Gateway.warmUpEnds:
            ledgerAtWarmUp = router.ledger
            openingsAtWarmUp = router.config.targetIDs.map { router.breakerOpenings(of: $0) }
        default:
            timerFired(key: event.payload, firstTokenOnly: event.kind == Gateway.firstTokenDeadline)
        }
    }

    /// A client-side timeout: the attempt is over for the gateway (the upstream, which does
    /// not know, keeps working on it and its answer will arrive late and be ignored). A limit
    /// that fires after the first token reached the client cuts the stream: the attempt
    /// failed after its first byte, which nothing retries (the production gateway's rule).
    private func timerFired(key: Int64, firstTokenOnly: Bool) {
        let requestID = UInt64(bitPattern: key) >> 8
        let attempt = Int32(key & 0xFF)
        guard let entry = live[requestID], !entry.state.finished else { return }
        guard let target = entry.state.attemptTarget(attempt) else { return }
        let firstToken: Int64?
        switch upstreams[target.index] {
        case .provider(let provider): firstToken = provider.enter(key) { provider, key in provider.firstTokenTime(of: key) }
        case .pool(let pool): firstToken = pool.enter(key) { pool, key in pool.firstTokenTime(of: key) }
        }
        let streaming = firstToken.map { $0 <= calendar.now } ?? false
        if firstTokenOnly && streaming {
            let deadline = entry.totalDeadlines[Int(attempt) % 8]
            if deadline > calendar.now {
                calendar.schedule(at: deadline, to: id, kind: Gateway.attemptDeadline, payload: key)
            }
            return
        }
        let started = entry.state.attemptStartedAt(attempt) ?? calendar.now
        let outcome = AttemptOutcome(outcome: streaming ? .failedAfterFirstByte : .timeout, latencyNanoseconds: calendar.now - started)
        guard let decision = live.modify(requestID, { router.attemptFinished(&$0.state, attempt: attempt, outcome) }) else { return }
        act(on: decision)
    }

    func attemptEnded(_ report: AttemptReport) {
        let decision = live.modify(report.requestID) { entry -> Decision? in
            // An answer to an attempt the gateway already timed out: nobody is listening.
            if entry.state.attemptTarget(report.attempt) == nil && report.outcome.outcome != .cancelled { return nil }
            if report.outcome.outcome == .success, report.firstTokenAt > 0, entry.firstTokenAt == 0 {
                entry.firstTokenAt = report.firstTokenAt
            }
            // The router learns what a real gateway measures: from send to answer, queueing
            // at the upstream included, not the upstream's own service time.
            var outcome = report.outcome
            if let started = entry.state.attemptStartedAt(report.attempt) { outcome.latencyNanoseconds = calendar.now - started }
            return router.attemptFinished(&entry.state, attempt: report.attempt, outcome)
        }
        guard let decision = decision ?? nil else { return }
        act(on: decision)
    }

    private func route(_ request: RoutingRequest) {
        let (state, decision) = router.begin(request)
        live.insert(Live(state: state), forKey: request.id)
        act(on: decision)
    }

    private func act(on decision: Decision) {
        decisions += 1
        decisionLog?.append(decision)
        let requestID = decision.requestID
        switch decision.action {
        case .send, .hedge:
            let isHedge = decision.action == .hedge
            guard let ticket = live.modify(requestID, { entry -> AttemptTicket in
                if isHedge { entry.hedged = true }
                return AttemptTicket(requestID: requestID, attempt: decision.attempt, inputTokens: entry.state.request.inputTokens,
                                     outputTokens: entry.state.request.maxOutputTokens)
            }) else { return }
            if replaying { return }
            let projection: AttemptProjection?
            switch upstreams[decision.target!.index] {
            case .provider(let provider): projection = provider.enter(ticket) { provider, ticket in provider.start(ticket) }
            case .pool(let pool): projection = pool.enter(ticket) { pool, ticket in pool.start(ticket) }
            }
            // Upstreams answer through events, never synchronously: the entry is still current.
            armTimers(for: ticket.key, decision: decision, projection: projection)
            if let hedgeAfter = decision.hedgeAfterNanoseconds {
                calendar.schedule(after: hedgeAfter, to: id, kind: Gateway.hedge, payload: Int64(bitPattern: requestID))
            }
        case .wait:
            if replaying { return }
            calendar.schedule(after: decision.delayNanoseconds, to: id, kind: Gateway.resume, payload: Int64(bitPattern: requestID))
        case .none:
            // A cancelled loser has now reported: the request can be forgotten once it is over.
            if live.modify(requestID, { $0.state.finished && $0.state.attemptsInFlight == 0 }) == true {
                live.remove(requestID)
            }
        case .complete:
            guard let entry = live.modify(requestID, { Ending($0, cancelling: decision.cancelAttempt) }) else { return }
            if decision.cancelAttempt != nil && replaying {
                // The loser's report comes from the trace.
            } else if let cancelled = decision.cancelAttempt, let cancelledTarget = entry.cancelledTarget {
                let key = AttemptTicket(requestID: requestID, attempt: cancelled, inputTokens: 0, outputTokens: 0).key
                switch upstreams[cancelledTarget.index] {
                case .provider(let provider): provider.enter(key) { provider, key in provider.cancel(key: key) }
                case .pool(let pool): pool.enter(key) { pool, key in pool.cancel(key: key) }
                }
            } else {
                live.remove(requestID)
            }
            let fallback: Bool
            if !replaying, let target = decision.target, case .pool = upstreams[target.index] { fallback = true } else { fallback = false }
            tell(entry.team, RequestEnd(requestID: requestID, succeeded: true, servedByFallback: fallback, firstTokenAt: entry.firstTokenAt,
                                        attempts: entry.attempts, hedged: entry.hedged, failureLabel: "", sdkMayRetry: false))
        case .fail, .reject:
            guard let entry = live.modify(requestID, { Ending($0, cancelling: nil) }) else { return }
            live.remove(requestID)
            let sdkMayRetry: Bool
            if let outcome = decision.outcome, decision.action == .fail, !decision.reasons.contains(.budgetExhausted) {
                sdkMayRetry = RetryPolicy.defaultRetryable.contains(outcome)
            } else {
                sdkMayRetry = decision.reasons.contains(.noTargetAvailable)
            }
            tell(entry.team, RequestEnd(requestID: requestID, succeeded: false, servedByFallback: false, firstTokenAt: 0,
                                        attempts: entry.attempts, hedged: entry.hedged, failureLabel: decision.failureLabel, sdkMayRetry: sdkMayRetry))
        }
    }

    /// The client-side limits of an attempt. When the upstream already knows how the attempt
    /// ends, a timer is set only if a limit fires first (usually none); otherwise one timer:
    /// the first-token check when it comes first (it then arms the total limit if the
    /// attempt goes on), else the total limit.
    private func armTimers(for key: Int64, decision: Decision, projection: AttemptProjection?) {
        let firstToken = decision.firstTokenTimeoutNanoseconds ?? 0
        let total = decision.attemptTimeoutNanoseconds ?? 0
        let now = calendar.now
        if let projection {
            let firstTokenLimit = SimulationInstant.adding(now, firstToken), totalLimit = SimulationInstant.adding(now, total)
            if firstToken > 0, projection.answerAt > firstTokenLimit, (projection.firstTokenAt ?? Int64.max) > firstTokenLimit {
                calendar.schedule(at: firstTokenLimit, to: id, kind: Gateway.attemptDeadline, payload: key)
            } else if total > 0, projection.answerAt > totalLimit {
                calendar.schedule(at: totalLimit, to: id, kind: Gateway.attemptDeadline, payload: key)
            }
            return
        }
        if firstToken > 0 && (total == 0 || firstToken < total) {
            live.modify(decision.requestID) { $0.totalDeadlines[Int(decision.attempt) % 8] = total > 0 ? SimulationInstant.adding(now, total) : 0 }
            calendar.schedule(after: firstToken, to: id, kind: Gateway.firstTokenDeadline, payload: key)
        } else if total > 0 {
            calendar.schedule(after: total, to: id, kind: Gateway.attemptDeadline, payload: key)
        }
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
