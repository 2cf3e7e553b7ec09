import DequeModule
import RoutingCore
import SimulationKernel
import Stochastics

/// A local GPU pool: `replicas × maxConcurrencyPerReplica` serving slots and a bounded queue.
/// A request's generation runs at the replica's knee throughput shared by its concurrency;
/// the GPU-seconds it is charged are its share of the replica's GPUs for its service time.
actor FallbackPool: EventHandler {
    nonisolated let simulationExecutor: SimulationExecutor
    // Stored state marked @exclusivity(unchecked): the actor runs on its replication's one
    // thread and never hands out overlapping accesses, so the dynamic check only costs time.
    nonisolated var unownedExecutor: UnownedSerialExecutor { simulationExecutor.asUnownedSerialExecutor() }
    let id: HandlerID
    let spec: FallbackPoolSpec
    private let calendar: EventCalendar
    private unowned let gateway: Gateway
    private let latency: RandomStream
    @exclusivity(unchecked) private var busy = 0
    @exclusivity(unchecked) private var queue = Deque<(ticket: AttemptTicket, enqueuedAt: Int64)>()
    @exclusivity(unchecked) private var inService: [Int64: UpstreamAttempt] = [:]
    @exclusivity(unchecked) private(set) var metrics: UpstreamMetrics

    init(id: HandlerID, spec: FallbackPoolSpec, simulation: Simulation, gateway: Gateway, seed: UInt64, replication: Int) {
        self.id = id
        self.spec = spec
        self.simulationExecutor = simulation.executor
        self.calendar = simulation.calendar
        self.gateway = gateway
        self.latency = RandomStream(name: "pool.\(spec.name).latency", seed: seed, replication: replication)
        self.metrics = UpstreamMetrics(name: spec.name, capacity: spec.servers, stateCount: 1)
    }

    func start(_ ticket: AttemptTicket) {
        metrics.offered += 1
        if busy < spec.servers {
            serve(ticket, waited: 0)
        } else if queue.count < spec.queueLimit {
            queue.append((ticket, calendar.now))
            metrics.queueChanged(to: queue.count, at: calendar.now)
        } else {
            metrics.recordError(.overloaded)
            answerNow(ticket, AttemptOutcome(outcome: .overloaded, latencyNanoseconds: 0))
        }
    }

    /// See ``Provider/cancel(key:)``: answered `cancelled` through the event queue.
    func cancel(key: Int64) {
        if let index = queue.firstIndex(where: { $0.ticket.key == key }) {
            let ticket = queue.remove(at: index).ticket
            metrics.queueChanged(to: queue.count, at: calendar.now)
            answerNow(ticket, AttemptOutcome(outcome: .cancelled, latencyNanoseconds: 0))
            return
        }
        guard let entry = inService.removeValue(forKey: key), entry.holdsServer else { return }
        let elapsed = calendar.now - entry.startedAt
        release()
        answerNow(entry.ticket, AttemptOutcome(outcome: .cancelled, latencyNanoseconds: elapsed, gpuSeconds: gpuSeconds(for: elapsed)))
    }

    /// See ``Provider/firstTokenTime(of:)``.
    func firstTokenTime(of key: Int64) -> Int64? {
        inService[key]?.firstTokenAt
    }

    func handle(_ event: Event) {
        guard let entry = inService.removeValue(forKey: event.payload) else { return }
        if entry.holdsServer { release() }
        gateway.enter(AttemptReport(requestID: entry.ticket.requestID, attempt: entry.ticket.attempt, outcome: entry.report, firstTokenSeconds: entry.firstTokenSeconds)) { gateway, report in
            gateway.attemptEnded(report)
        }
    }

    private func answerNow(_ ticket: AttemptTicket, _ outcome: AttemptOutcome) {
        inService[ticket.key] = UpstreamAttempt(ticket: ticket, report: outcome, firstTokenSeconds: 0, startedAt: calendar.now, holdsServer: false)
        calendar.schedule(after: 0, to: id, kind: 0, payload: ticket.key)
    }

    private func serve(_ ticket: AttemptTicket, waited: Int64) {
        busy += 1
        metrics.busyChanged(to: busy, at: calendar.now)
        metrics.accepted += 1
        metrics.recordWait(waited)
        let ttft = spec.timeToFirstTokenSeconds.sample(latency)
        let perRequestRate = spec.replicaOutputTokensPerSecond / Double(spec.maxConcurrencyPerReplica)
        let duration = SimulationInstant.nanoseconds(fromSeconds: ttft + Double(ticket.outputTokens) / perRequestRate)
        let outcome = OutcomeClass.success
        let report = AttemptOutcome(outcome: outcome, latencyNanoseconds: duration, inputTokens: ticket.inputTokens,
                                    outputTokens: outcome == .success ? ticket.outputTokens : 0, gpuSeconds: gpuSeconds(for: duration))
        inService[ticket.key] = UpstreamAttempt(ticket: ticket, report: report, firstTokenSeconds: ttft, startedAt: calendar.now, holdsServer: true)
        calendar.schedule(after: duration, to: id, kind: 0, payload: ticket.key)
    }

    /// This request's share of its replica's GPUs over `nanoseconds`.
    private func gpuSeconds(for nanoseconds: Int64) -> Double {
        Double(nanoseconds) / 1e9 * Double(spec.gpusPerReplica) / Double(spec.maxConcurrencyPerReplica)
    }

    private func release() {
        busy -= 1
        metrics.busyChanged(to: busy, at: calendar.now)
        while busy < spec.servers, let next = queue.popFirst() {
            metrics.queueChanged(to: queue.count, at: calendar.now)
            serve(next.ticket, waited: calendar.now - next.enqueuedAt)
        }
    }
}
