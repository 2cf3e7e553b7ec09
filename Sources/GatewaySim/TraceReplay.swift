import RoutingCore
import SimulationKernel

/// `brownout replay`: drives the simulator's gateway actor — and through it the request
/// conduct both gateways share — through a recorded production trace: each request arrives,
/// each attempt ends, each first byte reaches the client and each timer fires at the
/// nanosecond the production gateway saw it, and every decision, the sends the conduct
/// withheld included, is compared with the recorded one (`docs/parity.md`). Upstreams and
/// teams are not simulated: their behaviour is the trace.
public enum TraceReplay {
    /// Where replay and production first disagree.
    public struct Divergence: Sendable {
        /// The position of the entry in the trace (0-based, header not counted).
        public let index: Int
        /// The position of the decision among the trace's decisions (0-based).
        public let decision: Int
        public let recorded: DecisionRecord
        /// Nil when the simulated gateway made no router call for the entry.
        public let replayed: DecisionRecord?
    }

    /// The replayed router at one instant: its ledger (chargeback as the gateway computed it),
    /// and by target its breaker's state and openings so far (nil and 0: no breaker).
    public struct Snapshot: Sendable {
        public let timeNanoseconds: Int64
        public let ledger: Ledger
        public let breakers: [CircuitBreaker.State?]
        public let openings: [Int]
    }

    public struct Report: Sendable {
        /// The router at each time asked for (``run(config:header:entries:snapshotsAt:)``), in order.
        public var snapshots: [Snapshot] = []
        /// Decisions compared (the trace's router calls).
        public let decisions: Int
        /// The first decision that differs, if one does.
        public let divergence: Divergence?
        /// How many differ in all (a replay does not follow the recorded decisions, so one
        /// edited decision differs alone).
        public let differing: Int
    }

    /// Replays `entries` (recorded with `header`) through a gateway running `config`.
    /// `snapshotsAt`: router times (nanoseconds, ascending) at which to look at the replayed
    /// router, after the entries of that instant (`brownout incident`'s chargeback and breakers).
    public static func run(config: RouterConfig, header: RouterTrace.Header, entries: [RouterTrace.Entry], snapshotsAt times: [Int64] = []) -> Report
    {
        let executor = SimulationExecutor()
        let (replayed, snapshots) = executor.run {
            await simulate(config: config, header: header, entries: entries, snapshotsAt: times, executor: executor)
        }
        // The entries that carry a decision, in order: the n-th decision replayed is compared
        // with the n-th recorded.
        let deciding = entries.indices.filter { entries[$0].decision != nil }
        var first: Divergence?
        var differing = 0
        for index in 0..<max(deciding.count, replayed.count) {
            let recorded = index < deciding.count ? entries[deciding[index]].decision : nil
            let mine = index < replayed.count ? replayed[index] : nil
            guard recorded != mine else { continue }
            differing += 1
            // A decision the trace does not have (the simulated gateway called the router
            // more often) is shown against itself, at the end of the trace.
            if first == nil {
                first = Divergence(
                    index: index < deciding.count ? deciding[index] : entries.count, decision: index, recorded: recorded ?? mine!, replayed: mine)
            }
        }
        var report = Report(decisions: deciding.count, divergence: first, differing: differing)
        report.snapshots = snapshots
        return report
    }

    private static func simulate(
        config: RouterConfig, header: RouterTrace.Header, entries: [RouterTrace.Entry], snapshotsAt times: [Int64], executor: SimulationExecutor
    ) async -> ([DecisionRecord], [Snapshot]) {
        let simulation = Simulation(executor: executor)
        let calendar = simulation.calendar
        let gateway = calendar.register { id in
            Gateway(
                id: id, simulation: simulation, routerConfig: config, healthStates: [], unixNanosecondsAtStart: header.unixNanosecondsAtZero,
                seed: header.seed, replication: 0, keepDecisionLog: true, routerGenerator: SplitMix64(seed: header.seed), replaying: true,
                replicaRank: header.replicaRank ?? 0, leasesBudgets: header.budgetLeases ?? false)
        }
        let driver = calendar.register { id in
            TraceDriver(id: id, simulation: simulation, gateway: gateway, entries: entries, snapshotTimes: times)
        }
        await driver.start()
        await simulation.run()
        let records = await gateway.decisionRecords()
        let snapshots = await driver.snapshots
        await simulation.finish()
        return (records, snapshots)
    }
}

/// Delivers a trace's calls to the gateway at their recorded times, in trace order (the
/// calendar keeps events of the same instant in the order they were scheduled).
actor TraceDriver: EventHandler {
    nonisolated let simulationExecutor: SimulationExecutor
    nonisolated var unownedExecutor: UnownedSerialExecutor { simulationExecutor.asUnownedSerialExecutor() }
    let id: HandlerID
    private let calendar: EventCalendar
    private let gateway: PeerReference<Gateway>
    private let gatewayID: HandlerID
    private let entries: [RouterTrace.Entry]
    private let snapshotTimes: [Int64]
    private(set) var snapshots: [TraceReplay.Snapshot] = []

    init(id: HandlerID, simulation: Simulation, gateway: Gateway, entries: [RouterTrace.Entry], snapshotTimes: [Int64] = []) {
        self.simulationExecutor = simulation.executor
        self.id = id
        self.calendar = simulation.calendar
        self.gateway = PeerReference(gateway)
        self.gatewayID = gateway.id
        self.entries = entries
        self.snapshotTimes = snapshotTimes
    }

    func start() {
        for (index, entry) in entries.enumerated() {
            calendar.schedule(at: entry.timeNanoseconds, to: id, kind: 0, payload: Int64(index))
        }
        // After the entries of their instant (ties are delivered in the order scheduled).
        for time in snapshotTimes { calendar.schedule(at: max(0, time), to: id, kind: 1, payload: time) }
    }

    func handle(_ event: Event) {
        if event.kind == 1 {
            let time = event.payload
            snapshots.append(gateway.enter(()) { gateway, _ in gateway.snapshot(at: time) })
            return
        }
        let entry = entries[Int(event.payload)]
        switch entry.call {
        case .begin(let request):
            gateway.enter(request) { gateway, request in gateway.submit(request) }
        case .attemptFinished(let requestID, let attempt, let outcome):
            let report = AttemptReport(requestID: requestID, attempt: attempt, outcome: outcome, firstByteAt: 0)
            gateway.enter(report) { gateway, report in gateway.attemptEnded(report) }
        case .resume(let requestID):
            let event = Event(
                time: calendar.now, sequence: 0, target: gatewayID, kind: GatewayEvent.resume.rawValue, payload: Int64(bitPattern: requestID))
            gateway.enter(event) { gateway, event in gateway.handle(event) }
        case .hedgeDue(let requestID):
            let event = Event(
                time: calendar.now, sequence: 0, target: gatewayID, kind: GatewayEvent.hedge.rawValue, payload: Int64(bitPattern: requestID))
            gateway.enter(event) { gateway, event in gateway.handle(event) }
        case .firstByte(let requestID, let attempt):
            gateway.enter((requestID, attempt)) { gateway, event in gateway.firstByteReached(requestID: event.0, attempt: event.1) }
        case .clientGone(let requestID):
            gateway.enter(requestID) { gateway, requestID in gateway.clientWentAway(requestID: requestID) }
        case .attemptWithheld:
            // The conduct withholds the send itself, at the event that made it.
            break
        case .breakerShared(let notice):
            gateway.enter(notice) { gateway, notice in gateway.breakerChangedElsewhere(notice) }
        case .budgetLease(let lease):
            gateway.enter(lease) { gateway, lease in gateway.budgetLeaseChanged(lease) }
        case .rateShare(let share):
            gateway.enter(share) { gateway, share in gateway.setRateShare(share) }
        }
    }
}
