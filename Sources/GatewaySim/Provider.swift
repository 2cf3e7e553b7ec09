import RoutingCore
import SimulationKernel
import Stochastics

/// A frontier provider: a concurrency-limited server with a bounded queue, its own rate
/// limits, and a health state (set by the degradation profile) that decides the error mix,
/// latency and capacity left.
actor Provider: EventHandler {
    nonisolated let simulationExecutor: SimulationExecutor
    nonisolated var unownedExecutor: UnownedSerialExecutor { simulationExecutor.asUnownedSerialExecutor() }
    let id: HandlerID
    let spec: ProviderSpec
    private let calendar: EventCalendar
    private let gateways: GatewayReplicas
    private let effects: [HealthEffect]
    private let latency: RandomStream
    private let errors: RandomStream
    // Stored state marked @exclusivity(unchecked): the actor runs on its replication's one
    // thread and never hands out overlapping accesses, so the dynamic check only costs time.
    @exclusivity(unchecked) private var limits: ProviderLimits
    @exclusivity(unchecked) private(set) var state = 0
    @exclusivity(unchecked) private var servers: UpstreamServers

    /// A provider's only event: an attempt finished (payload: its key).
    enum EventKind: Int32 {
        case finished
    }

    init(
        id: HandlerID, spec: ProviderSpec, simulation: Simulation, gateways: GatewayReplicas, seed: UInt64, replication: Int,
        window: MeasurementWindow
    ) {
        self.id = id
        self.spec = spec
        self.simulationExecutor = simulation.executor
        self.calendar = simulation.calendar
        self.gateways = gateways
        self.effects = spec.states.map { HealthEffect($0, concurrency: spec.concurrency) }
        self.latency = spec.latencyStream(seed: seed, replication: replication)
        self.errors = spec.errorStream(seed: seed, replication: replication)
        self.limits = ProviderLimits(spec)
        servers = UpstreamServers(
            metrics: UpstreamMetrics(name: spec.name, capacity: spec.concurrency, stateCount: spec.states.count, window: window))
    }

    var metrics: UpstreamMetrics { servers.metrics }

    private var now: RoutingInstant { RoutingInstant(nanoseconds: calendar.now) }

    /// The servers usable in the current health state.
    private var effectiveCapacity: Int { effects[state].capacity }

    func setHealth(_ newState: Int) {
        servers.recordHealth(newState, at: calendar.now)
        state = newState
        admitFromQueue()
    }

    /// An attempt arrives; returns how it ends when that is already known (nil while it waits).
    func start(_ ticket: AttemptTicket) -> AttemptProjection? {
        servers.offer(now: calendar.now)
        // A prompt longer than the model's context window is refused at once (400).
        if let window = spec.contextWindowTokens, ticket.inputTokens > window {
            return reply(ticket, .clientError, after: ProviderSpec.refusalSeconds, retryAfter: nil, contextWindowExceeded: true)
        }
        // The organisation's own limits at the provider: 429 with the time to refill.
        if let retryAfter = limits.admit(inputTokens: ticket.inputTokens, outputTokens: ticket.outputTokens, at: now) {
            return reply(ticket, .rateLimited, after: ProviderSpec.refusalSeconds, retryAfter: retryAfter)
        }
        switch servers.arrive(ticket, capacity: effectiveCapacity, queueLimit: spec.queueLimit, now: calendar.now) {
        case .serve: return serve(ticket, waited: 0)
        case .queued: return nil
        case .full:
            let health = effects[state]
            return reply(ticket, .overloaded, after: ProviderSpec.overloadSeconds * health.latencyMultiplier, retryAfter: health.retryAfterSeconds)
        }
    }

    /// The gateway cancelled an attempt: it frees its server and is answered `cancelled`
    /// (billed for the input and the output generated so far) through the event queue, so
    /// the gateway is never re-entered while it acts.
    func cancel(key: Int64) {
        switch servers.cancel(key: key, now: calendar.now) {
        case .waiting(let ticket)?:
            answerNow(ticket, AttemptOutcome(outcome: .cancelled, latencyNanoseconds: 0))
        case .serving(let entry)?:
            let relayed = entry.relayedTokens(at: calendar.now)
            admitFromQueue()
            answerNow(
                entry.ticket,
                AttemptOutcome(
                    outcome: .cancelled, latencyNanoseconds: calendar.now - entry.startedAt,
                    inputTokens: relayed.input, outputTokens: relayed.output))
        case nil:
            return
        }
    }

    private func answerNow(_ ticket: AttemptTicket, _ outcome: AttemptOutcome) {
        servers.schedule(UpstreamAttempt(ticket: ticket, report: outcome, firstTokenSeconds: 0, startedAt: calendar.now, holdsServer: false))
        calendar.schedule(after: 0, to: id, kind: EventKind.finished.rawValue, payload: ticket.key)
    }

    /// When attempt `key`'s first token appears (nil while it waits in the queue or when
    /// it will not produce one): what the gateway's first-token timer checks.
    func firstTokenTime(of key: Int64) -> Int64? {
        servers.firstTokenAt(key: key)
    }

    /// When attempt `key`'s first byte reaches the client (its first token, or the release of
    /// the route's hold; nil: not while it is out).
    func firstByteTime(of key: Int64) -> Int64? {
        servers.attempt(key: key)?.firstByteAt
    }

    /// What a gateway relaying attempt `key` as a stream has seen of it by now.
    func relayedTokens(of key: Int64) -> (input: Int, output: Int) {
        servers.attempt(key: key)?.relayedTokens(at: calendar.now) ?? (0, 0)
    }

    func handle(_ event: Event) {
        guard EventKind(rawValue: event.kind) == .finished else { preconditionFailure("Provider: an event of unknown kind \(event.kind)") }
        guard let completion = servers.complete(key: event.payload, now: calendar.now) else { return }
        if completion.freedServer { admitFromQueue() }
        deliver(completion.report, to: completion.replica)
    }

    @discardableResult
    private func serve(_ ticket: AttemptTicket, waited: Int64) -> AttemptProjection {
        servers.occupy(waited: waited, now: calendar.now)
        let plan = spec.plan(
            state: state, effect: effects[state], inputTokens: ticket.inputTokens, outputTokens: ticket.outputTokens,
            latency: latency, errors: errors)
        let seconds = plan.seconds
        var outcome = AttemptOutcome(
            outcome: plan.outcome, latencyNanoseconds: 0, inputTokens: plan.inputTokens, outputTokens: plan.outputTokens,
            retryAfterSeconds: plan.retryAfterSeconds)
        let firstToken = plan.firstTokenSeconds
        // The provider does not know when the client gives up: it does all the work it
        // took on, even for attempts the gateway has already timed out (wasted work).
        let duration = SimulationInstant.nanoseconds(fromSeconds: seconds)
        outcome.latencyNanoseconds = duration
        var attempt = UpstreamAttempt(ticket: ticket, report: outcome, firstTokenSeconds: firstToken, startedAt: calendar.now, holdsServer: true)
        attempt.stallsAtSeconds = plan.stallsAtSeconds ?? 0
        attempt.carryOutStream(plan, calendar: calendar, gateway: gateways.id(of: ticket.replica))
        let projection = AttemptProjection(answerAt: SimulationInstant.adding(calendar.now, duration), firstTokenAt: attempt.firstTokenAt)
        servers.schedule(attempt)
        calendar.schedule(after: duration, to: id, kind: EventKind.finished.rawValue, payload: ticket.key)
        return projection
    }

    private func admitFromQueue() {
        while let next = servers.nextWaiting(capacity: effectiveCapacity, now: calendar.now) {
            serve(next.ticket, waited: next.waited)
        }
    }

    /// An immediate answer without service (rate limit, overload).
    private func reply(
        _ ticket: AttemptTicket, _ outcome: OutcomeClass, after seconds: Double, retryAfter: Double?,
        contextWindowExceeded: Bool = false
    ) -> AttemptProjection {
        servers.recordRefusal(outcome, now: calendar.now)
        let duration = SimulationInstant.nanoseconds(fromSeconds: seconds)
        servers.schedule(
            UpstreamAttempt(
                ticket: ticket,
                report: AttemptOutcome(
                    outcome: outcome, latencyNanoseconds: duration, retryAfterSeconds: retryAfter,
                    contextWindowExceeded: contextWindowExceeded),
                firstTokenSeconds: 0, startedAt: calendar.now, holdsServer: false))
        calendar.schedule(after: duration, to: id, kind: EventKind.finished.rawValue, payload: ticket.key)
        return AttemptProjection(answerAt: SimulationInstant.adding(calendar.now, duration), firstTokenAt: nil)
    }

    private func deliver(_ report: AttemptReport, to replica: UInt8) {
        gateways[replica].enter(report) { gateway, report in gateway.attemptEnded(report) }
    }
}
