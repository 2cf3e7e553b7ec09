import RoutingCore
import SimulationKernel

/// `brownout replay`: drives the simulator's gateway actor through a recorded production
/// trace — each request arrives, each attempt ends and each timer fires at the nanosecond the
/// production router saw it — and compares every decision with the recorded one
/// (`docs/parity.md`). Upstreams and teams are not simulated: their behaviour is the trace.
public enum TraceReplay {
    /// Where replay and production first disagree.
    public struct Divergence: Sendable {
        /// The position of the call in the trace (0-based, header not counted).
        public let index: Int
        public let recorded: DecisionRecord
        /// Nil when the simulated gateway made no router call for the entry.
        public let replayed: DecisionRecord?
    }

    public struct Report: Sendable {
        /// Decisions compared (the trace's calls).
        public let decisions: Int
        /// The first decision that differs, if one does.
        public let divergence: Divergence?
        /// How many differ in all (a replay does not follow the recorded decisions, so one
        /// edited decision differs alone).
        public let differing: Int
    }

    /// Replays `entries` (recorded with `header`) through a gateway running `config`.
    public static func run(config: RouterConfig, header: RouterTrace.Header, entries: [RouterTrace.Entry]) -> Report {
        let executor = SimulationExecutor()
        let replayed = executor.run {
            await simulate(config: config, header: header, entries: entries, executor: executor)
        }
        var first: Divergence?
        var differing = 0
        for index in 0..<max(entries.count, replayed.count) {
            let recorded = index < entries.count ? entries[index].decision : nil
            let mine = index < replayed.count ? replayed[index] : nil
            guard recorded != mine else { continue }
            differing += 1
            // A decision the trace does not have (the simulated gateway called the router
            // more often) is shown against itself, at the end of the trace.
            if first == nil { first = Divergence(index: index, recorded: recorded ?? mine!, replayed: mine) }
        }
        return Report(decisions: entries.count, divergence: first, differing: differing)
    }

    private static func simulate(config: RouterConfig, header: RouterTrace.Header, entries: [RouterTrace.Entry], executor: SimulationExecutor) async -> [DecisionRecord] {
        let simulation = Simulation(executor: executor)
        let calendar = simulation.calendar
        let gateway = calendar.register { id in
            Gateway(id: id, simulation: simulation, routerConfig: config, healthStates: [], unixNanosecondsAtStart: header.unixNanosecondsAtZero,
                    seed: header.seed, replication: 0, keepDecisionLog: true, routerGenerator: SplitMix64(seed: header.seed), replaying: true)
        }
        let driver = calendar.register { id in TraceDriver(id: id, simulation: simulation, gateway: gateway, entries: entries) }
        await driver.start()
        await simulation.run()
        let records = await gateway.decisionRecords()
        await simulation.finish()
        return records
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

    init(id: HandlerID, simulation: Simulation, gateway: Gateway, entries: [RouterTrace.Entry]) {
        self.simulationExecutor = simulation.executor
        self.id = id
        self.calendar = simulation.calendar
        self.gateway = PeerReference(gateway)
        self.gatewayID = gateway.id
        self.entries = entries
    }

    func start() {
        for (index, entry) in entries.enumerated() {
            calendar.schedule(at: entry.timeNanoseconds, to: id, kind: 0, payload: Int64(index))
        }
    }

    func handle(_ event: Event) {
        let entry = entries[Int(event.payload)]
        switch entry.call {
        case .begin(let request):
            gateway.enter(request) { gateway, request in gateway.submit(request) }
        case .attemptFinished(let requestID, let attempt, let outcome):
            let report = AttemptReport(requestID: requestID, attempt: attempt, outcome: outcome, firstTokenAt: 0)
            gateway.enter(report) { gateway, report in gateway.attemptEnded(report) }
        case .resume(let requestID):
            let event = Event(time: calendar.now, sequence: 0, target: gatewayID, kind: Gateway.resume, payload: Int64(bitPattern: requestID))
            gateway.enter(event) { gateway, event in gateway.handle(event) }
        case .hedgeDue(let requestID):
            let event = Event(time: calendar.now, sequence: 0, target: gatewayID, kind: Gateway.hedge, payload: Int64(bitPattern: requestID))
            gateway.enter(event) { gateway, event in gateway.handle(event) }
        }
    }
}
