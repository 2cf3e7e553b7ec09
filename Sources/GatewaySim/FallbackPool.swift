import DequeModule
import RoutingCore
import SimulationKernel
import Stochastics

/// A local GPU pool: `replicas × maxConcurrencyPerReplica` serving slots and a bounded queue.
/// A request's generation runs at the replica's knee throughput shared by its concurrency;
/// the GPU-seconds it is charged are its share of the replica's GPUs for its service time.
///
/// Autoscaling (when `maxReplicas > replicas`): a replica is started while the queue holds
/// `scaleUpQueue` requests and serves `spinUpSeconds` later; one is stopped after
/// `scaleDownIdleSeconds` in which the others could have carried the peak load.
actor FallbackPool: EventHandler {
    nonisolated let simulationExecutor: SimulationExecutor
    nonisolated var unownedExecutor: UnownedSerialExecutor { simulationExecutor.asUnownedSerialExecutor() }
    let id: HandlerID
    let spec: FallbackPoolSpec
    private let calendar: EventCalendar
    private unowned let gateway: Gateway
    private let latency: RandomStream
    // Stored state marked @exclusivity(unchecked): the actor runs on its replication's one
    // thread and never hands out overlapping accesses, so the dynamic check only costs time.
    @exclusivity(unchecked) private var busy = 0
    @exclusivity(unchecked) private var ready: Int
    @exclusivity(unchecked) private var starting = 0
    @exclusivity(unchecked) private var peakBusySinceCheck = 0
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
        self.ready = spec.replicas
        self.metrics = UpstreamMetrics(name: spec.name, capacity: spec.servers, stateCount: 1)
        metrics.replicasChanged(to: spec.replicas, at: 0)
    }

    static let finished: Int32 = 0
    static let replicaReady: Int32 = 1
    static let scaleDownCheck: Int32 = 2

    private var servers: Int { ready * spec.maxConcurrencyPerReplica }

    func start(_ ticket: AttemptTicket) {
        metrics.offered += 1
        if busy < servers {
            serve(ticket, waited: 0)
        } else if queue.count < spec.queueLimit {
            queue.append((ticket, calendar.now))
            metrics.queueChanged(to: queue.count, at: calendar.now)
            if queue.count >= spec.scaleUpQueue * (starting + 1) && ready + starting < spec.maxReplicas {
                starting += 1
                calendar.schedule(after: SimulationInstant.nanoseconds(fromSeconds: spec.spinUpSeconds), to: id, kind: FallbackPool.replicaReady)
            }
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
        switch event.kind {
        case FallbackPool.replicaReady:
            starting -= 1
            ready += 1
            metrics.replicasChanged(to: ready, at: calendar.now)
            if ready == spec.replicas + 1 { scheduleScaleDownCheck() }
            admitFromQueue()
            return
        case FallbackPool.scaleDownCheck:
            if ready > spec.replicas && peakBusySinceCheck <= (ready - 1) * spec.maxConcurrencyPerReplica && queue.isEmpty {
                ready -= 1
                metrics.replicasChanged(to: ready, at: calendar.now)
            }
            peakBusySinceCheck = busy
            if ready > spec.replicas { scheduleScaleDownCheck() }
            return
        default:
            break
        }
        guard let entry = inService.removeValue(forKey: event.payload) else { return }
        if entry.holdsServer { release() }
        gateway.enter(AttemptReport(requestID: entry.ticket.requestID, attempt: entry.ticket.attempt, outcome: entry.report, firstTokenSeconds: entry.firstTokenSeconds)) { gateway, report in
            gateway.attemptEnded(report)
        }
    }

    private func answerNow(_ ticket: AttemptTicket, _ outcome: AttemptOutcome) {
        inService[ticket.key] = UpstreamAttempt(ticket: ticket, report: outcome, firstTokenSeconds: 0, startedAt: calendar.now, holdsServer: false)
        calendar.schedule(after: 0, to: id, kind: FallbackPool.finished, payload: ticket.key)
    }

    private func scheduleScaleDownCheck() {
        calendar.schedule(after: SimulationInstant.nanoseconds(fromSeconds: spec.scaleDownIdleSeconds), to: id, kind: FallbackPool.scaleDownCheck)
    }

    private func serve(_ ticket: AttemptTicket, waited: Int64) {
        busy += 1
        peakBusySinceCheck = max(peakBusySinceCheck, busy)
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
        calendar.schedule(after: duration, to: id, kind: FallbackPool.finished, payload: ticket.key)
    }

    /// This request's share of its replica's GPUs over `nanoseconds`.
    private func gpuSeconds(for nanoseconds: Int64) -> Double {
        Double(nanoseconds) / 1e9 * Double(spec.gpusPerReplica) / Double(spec.maxConcurrencyPerReplica)
    }

    private func release() {
        busy -= 1
        metrics.busyChanged(to: busy, at: calendar.now)
        admitFromQueue()
    }

    private func admitFromQueue() {
        while busy < servers, let next = queue.popFirst() {
            metrics.queueChanged(to: queue.count, at: calendar.now)
            serve(next.ticket, waited: calendar.now - next.enqueuedAt)
        }
    }
}
