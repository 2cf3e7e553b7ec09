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
    private let gateways: GatewayReplicas
    private let latency: RandomStream
    // Stored state marked @exclusivity(unchecked): the actor runs on its replication's one
    // thread and never hands out overlapping accesses, so the dynamic check only costs time.
    @exclusivity(unchecked) private var servers: UpstreamServers
    @exclusivity(unchecked) private var ready: Int
    @exclusivity(unchecked) private var starting = 0
    @exclusivity(unchecked) private var peakBusySinceCheck = 0

    init(
        id: HandlerID, spec: FallbackPoolSpec, simulation: Simulation, gateways: GatewayReplicas, seed: UInt64, replication: Int,
        window: MeasurementWindow
    ) {
        self.id = id
        self.spec = spec
        self.simulationExecutor = simulation.executor
        self.calendar = simulation.calendar
        self.gateways = gateways
        self.latency = spec.latencyStream(seed: seed, replication: replication)
        self.ready = spec.replicas
        self.servers = UpstreamServers(metrics: UpstreamMetrics(name: spec.name, capacity: spec.servers, stateCount: 1, window: window))
        servers.recordReplicas(spec.replicas, at: 0)
    }

    var metrics: UpstreamMetrics { servers.metrics }

    /// What a pool's event is: an attempt finished (payload: its key), a replica done
    /// spinning up, or the autoscaler's idle check.
    enum EventKind: Int32 {
        case finished
        case replicaReady
        case scaleDownCheck
    }

    private var capacity: Int { ready * spec.maxConcurrencyPerReplica }

    /// See ``Provider/start(_:)``.
    func start(_ ticket: AttemptTicket) -> AttemptProjection? {
        servers.offer(now: calendar.now)
        // A prompt longer than the model's context window is refused at once (400).
        if let window = spec.contextWindowTokens, ticket.inputTokens > window {
            servers.recordRefusal(.clientError, now: calendar.now)
            answerNow(ticket, AttemptOutcome(outcome: .clientError, latencyNanoseconds: 0, contextWindowExceeded: true))
            return AttemptProjection(answerAt: calendar.now, firstTokenAt: nil)
        }
        switch servers.arrive(ticket, capacity: capacity, queueLimit: spec.queueLimit, now: calendar.now) {
        case .serve:
            return serve(ticket, waited: 0)
        case .queued:
            if servers.waitingCount >= spec.scaleUpQueue * (starting + 1) && ready + starting < spec.maxReplicas {
                starting += 1
                calendar.schedule(
                    after: SimulationInstant.nanoseconds(fromSeconds: spec.spinUpSeconds), to: id, kind: EventKind.replicaReady.rawValue)
            }
            return nil
        case .full:
            servers.recordRefusal(.overloaded, now: calendar.now)
            answerNow(ticket, AttemptOutcome(outcome: .overloaded, latencyNanoseconds: 0))
            return AttemptProjection(answerAt: calendar.now, firstTokenAt: nil)
        }
    }

    /// See ``Provider/cancel(key:)``: answered `cancelled` through the event queue.
    func cancel(key: Int64) {
        switch servers.cancel(key: key, now: calendar.now) {
        case .waiting(let ticket)?:
            answerNow(ticket, AttemptOutcome(outcome: .cancelled, latencyNanoseconds: 0))
        case .serving(let entry)?:
            let elapsed = calendar.now - entry.startedAt
            admitFromQueue()
            answerNow(entry.ticket, AttemptOutcome(outcome: .cancelled, latencyNanoseconds: elapsed, gpuSeconds: gpuSeconds(for: elapsed)))
        case nil:
            return
        }
    }

    /// See ``Provider/firstTokenTime(of:)``.
    func firstTokenTime(of key: Int64) -> Int64? {
        servers.firstTokenAt(key: key)
    }

    /// See ``Provider/firstByteTime(of:)``.
    func firstByteTime(of key: Int64) -> Int64? {
        servers.attempt(key: key)?.firstByteAt
    }

    func handle(_ event: Event) {
        guard let kind = EventKind(rawValue: event.kind) else { preconditionFailure("FallbackPool: an event of unknown kind \(event.kind)") }
        switch kind {
        case .replicaReady:
            starting -= 1
            ready += 1
            servers.recordReplicas(ready, at: calendar.now)
            if ready == spec.replicas + 1 { scheduleScaleDownCheck() }
            admitFromQueue()
            return
        case .scaleDownCheck:
            if ready > spec.replicas && peakBusySinceCheck <= (ready - 1) * spec.maxConcurrencyPerReplica && servers.waitingCount == 0 {
                ready -= 1
                servers.recordReplicas(ready, at: calendar.now)
            }
            peakBusySinceCheck = servers.busy
            if ready > spec.replicas { scheduleScaleDownCheck() }
            return
        case .finished:
            break
        }
        guard let completion = servers.complete(key: event.payload, now: calendar.now) else { return }
        if completion.freedServer { admitFromQueue() }
        gateways[completion.replica].enter(completion.report) { gateway, report in gateway.attemptEnded(report) }
    }

    private func answerNow(_ ticket: AttemptTicket, _ outcome: AttemptOutcome) {
        servers.schedule(UpstreamAttempt(ticket: ticket, report: outcome, firstTokenSeconds: 0, startedAt: calendar.now, holdsServer: false))
        calendar.schedule(after: 0, to: id, kind: EventKind.finished.rawValue, payload: ticket.key)
    }

    private func scheduleScaleDownCheck() {
        calendar.schedule(
            after: SimulationInstant.nanoseconds(fromSeconds: spec.scaleDownIdleSeconds), to: id, kind: EventKind.scaleDownCheck.rawValue)
    }

    @discardableResult
    private func serve(_ ticket: AttemptTicket, waited: Int64) -> AttemptProjection {
        servers.occupy(waited: waited, now: calendar.now)
        peakBusySinceCheck = max(peakBusySinceCheck, servers.busy)
        let plan = spec.plan(inputTokens: ticket.inputTokens, outputTokens: ticket.outputTokens, latency: latency)
        let duration = SimulationInstant.nanoseconds(fromSeconds: plan.seconds)
        let report = AttemptOutcome(
            outcome: .success, latencyNanoseconds: duration, inputTokens: ticket.inputTokens,
            outputTokens: ticket.outputTokens, gpuSeconds: gpuSeconds(for: duration))
        var attempt = UpstreamAttempt(
            ticket: ticket, report: report, firstTokenSeconds: plan.firstTokenSeconds, startedAt: calendar.now, holdsServer: true)
        attempt.carryOutStream(plan, calendar: calendar, gateway: gateways.id(of: ticket.replica))
        let projection = AttemptProjection(answerAt: SimulationInstant.adding(calendar.now, duration), firstTokenAt: attempt.firstTokenAt)
        servers.schedule(attempt)
        calendar.schedule(after: duration, to: id, kind: EventKind.finished.rawValue, payload: ticket.key)
        return projection
    }

    /// This request's share of its replica's GPUs over `nanoseconds`.
    private func gpuSeconds(for nanoseconds: Int64) -> Double {
        spec.gpuSeconds(forSeconds: Double(nanoseconds) / 1e9)
    }

    private func admitFromQueue() {
        while let next = servers.nextWaiting(capacity: capacity, now: calendar.now) {
            serve(next.ticket, waited: next.waited)
        }
    }
}
