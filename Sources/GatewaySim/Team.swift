import RoutingCore
import SimulationKernel
import Stochastics

/// A team's clients: arrivals until the horizon, each request handed to the gateway, and
/// the SDK's own retries when the gateway gives up.
actor Team: EventHandler {
    nonisolated let simulationExecutor: SimulationExecutor
    nonisolated var unownedExecutor: UnownedSerialExecutor { simulationExecutor.asUnownedSerialExecutor() }
    let id: HandlerID
    let index: TeamID
    let spec: TeamSpec
    private let route: RouteID
    private let calendar: EventCalendar
    private let gateways: GatewayReplicas
    /// The replica the load balancer hands the next request to (each replica up, in turn).
    @exclusivity(unchecked) private var nextReplica: UInt8 = 0
    // Stored state marked @exclusivity(unchecked): the actor runs on its replication's one
    // thread and never hands out overlapping accesses, so the dynamic check only costs time.
    @exclusivity(unchecked) private var arrivals: any ArrivalProcess & Sendable
    private let arrivalStream: RandomStream
    private let sizeStream: RandomStream
    private let streamChoice: RandomStream
    private let sdkStream: RandomStream
    private let horizon: Int64
    private let warmUp: Int64
    @exclusivity(unchecked) private var counter: UInt64 = 0
    @exclusivity(unchecked) private var live = IntegerKeyTable<Logical>()
    /// The arrival process has passed the horizon: no new request will come.
    private var arrivalsEnded = false
    @exclusivity(unchecked) private(set) var metrics: TeamMetrics
    @exclusivity(unchecked) private(set) var buckets: TimeBuckets

    /// One request as the user sees it, across SDK retries.
    struct Logical {
        let arrivedAt: Int64
        let inputTokens: Int
        let outputTokens: Int
        let streamed: Bool
        var sdkTry: Int
        var attempts: Int
        var hedges: Int
    }

    /// What a team's event is: the next arrival, or a request's SDK retry (payload: its id).
    enum EventKind: Int32 {
        case arrival
        case sdkRetry
    }

    init(
        id: HandlerID, index: TeamID, route: RouteID, spec: TeamSpec, simulation: Simulation, gateways: GatewayReplicas,
        window: MeasurementWindow, seed: UInt64, replication: Int, trafficReplication: Int
    ) {
        self.id = id
        self.index = index
        self.route = route
        self.spec = spec
        self.simulationExecutor = simulation.executor
        self.calendar = simulation.calendar
        self.gateways = gateways
        self.arrivals = spec.arrivals
        self.arrivalStream = spec.arrivalStream(seed: seed, replication: trafficReplication)
        self.sizeStream = spec.sizeStream(seed: seed, replication: trafficReplication)
        self.streamChoice = spec.streamChoiceStream(seed: seed, replication: trafficReplication)
        self.sdkStream = spec.sdkStream(seed: seed, replication: replication)
        self.horizon = window.horizon
        self.warmUp = window.warmUp
        self.metrics = TeamMetrics(name: spec.name)
        self.buckets = TimeBuckets(window: window)
    }

    func start() {
        scheduleArrival(after: 0)
    }

    func handle(_ event: Event) {
        guard let kind = EventKind(rawValue: event.kind) else { preconditionFailure("Team: an event of unknown kind \(event.kind)") }
        switch kind {
        case .arrival:
            let logical = Logical(
                arrivedAt: calendar.now,
                inputTokens: max(1, Int(NearestInteger.of(spec.inputTokens.sample(sizeStream)))),
                outputTokens: max(1, Int(NearestInteger.of(spec.outputTokens.sample(sizeStream)))),
                streamed: spec.nextRequestStreams(streamChoice), sdkTry: 0, attempts: 0, hedges: 0)
            if calendar.now >= warmUp {
                metrics.requests += 1
                buckets.record(at: calendar.now, arrived: true)
            }
            submit(logical)
            scheduleArrival(after: calendar.now)
        case .sdkRetry:
            guard let logical = live.removeValue(forKey: UInt64(event.payload)) else { return }
            submit(logical)
        }
    }

    /// The gateway's final word on one request id.
    func requestEnded(_ end: RequestEnd) {
        record(end)
        reportIfDrained()
    }

    /// Whether this team is done: no more arrivals, and no request open.
    var isDrained: Bool { arrivalsEnded && live.count == 0 }

    /// Tells the gateway when this team is done, so the run can end with its last request.
    private func reportIfDrained() {
        if isDrained { gateways[0].enter(()) { gateway, _ in gateway.teamDrained() } }
    }

    private func record(_ end: RequestEnd) {
        guard var logical = live.removeValue(forKey: end.requestID) else { return }
        logical.attempts += end.attempts
        logical.hedges += end.hedged ? 1 : 0
        let counted = logical.arrivedAt >= warmUp
        if end.succeeded {
            guard counted else { return }
            if end.servedByFallback { metrics.succeededFallback += 1 } else { metrics.succeededFrontier += 1 }
            metrics.totalLatency.record(nanoseconds: calendar.now - logical.arrivedAt)
            if end.firstTokenAt > 0 { metrics.firstTokenLatency.record(nanoseconds: end.firstTokenAt - logical.arrivedAt) }
            metrics.attempts.record(Double(logical.attempts))
            metrics.hedges += logical.hedges
            buckets.record(at: calendar.now, succeeded: true, fallback: end.servedByFallback)
            return
        }
        var generator = sdkStream
        if let delay = spec.sdkRetryDelay(afterTry: logical.sdkTry, mayRetry: end.sdkMayRetry, using: &generator) {
            logical.sdkTry += 1
            if counted { metrics.sdkRetries += 1 }
            counter += 1
            let nextID = UInt64(index.index) << 40 | counter
            live.insert(logical, forKey: nextID)
            calendar.schedule(after: delay, to: id, kind: EventKind.sdkRetry.rawValue, payload: Int64(nextID))
            return
        }
        guard counted else { return }
        metrics.failures[end.failureLabel, default: 0] += 1
        metrics.attempts.record(Double(logical.attempts))
        metrics.hedges += logical.hedges
        buckets.record(at: calendar.now, failed: true)
    }

    /// Closes the books: requests still live at the end are unfinished.
    func close() {
        metrics.unfinished = live.storedValues.filter { $0.arrivedAt >= warmUp }.count
    }

    private func submit(_ logical: Logical) {
        counter += 1
        let requestID = UInt64(index.index) << 40 | counter
        live.insert(logical, forKey: requestID)
        let request = RoutingRequest(
            id: requestID, route: route, team: index, inputTokens: logical.inputTokens, maxOutputTokens: logical.outputTokens,
            streamed: logical.streamed, apiProtocol: spec.apiProtocol)
        var replica = nextReplica
        if gateways.count > 1 {
            guard let up = gateways.liveness.nextUp(from: Int(replica)) else { return refused(requestID) }
            replica = UInt8(up)
            nextReplica = up + 1 == gateways.count ? 0 : replica + 1
        } else if !gateways.liveness.isUp(0) {
            return refused(requestID)
        }
        gateways[replica].enter(request) { gateway, request in gateway.submit(request) }
    }

    /// No replica is up (``ReplicaCrash``): the connection is refused, a failure of the
    /// gateway's that the SDK may retry.
    private func refused(_ requestID: UInt64) {
        requestEnded(
            RequestEnd(
                requestID: requestID, succeeded: false, servedByFallback: false, firstTokenAt: 0, attempts: 0, hedged: false,
                failureLabel: TeamMetrics.gatewayFailure, sdkMayRetry: true))
    }

    private func scheduleArrival(after time: Int64) {
        if let next = arrivals.nextArrival(after: time, stream: arrivalStream), next < horizon {
            calendar.schedule(at: max(next, calendar.now), to: id, kind: EventKind.arrival.rawValue)
        } else {
            arrivalsEnded = true
            reportIfDrained()
        }
    }
}

/// How a request id ended, as the gateway tells its team.
struct RequestEnd: Sendable {
    let requestID: UInt64
    let succeeded: Bool
    let servedByFallback: Bool
    /// Absolute time of the first token of the winning attempt (0: none).
    let firstTokenAt: Int64
    let attempts: Int
    let hedged: Bool
    let failureLabel: String
    /// Whether a client SDK would retry this failure (overload, 5xx, timeouts before the first
    /// byte; not refusals, nor a stream that broke after it).
    let sdkMayRetry: Bool
}
