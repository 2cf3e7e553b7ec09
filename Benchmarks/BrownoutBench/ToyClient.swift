import SimulationKernel
import Stochastics

/// The toy model's client: Poisson arrivals until the arrival horizon, each handed to the gateway.
actor ToyClient: EventHandler {
    nonisolated let simulationExecutor: SimulationExecutor
    nonisolated var unownedExecutor: UnownedSerialExecutor { simulationExecutor.asUnownedSerialExecutor() }
    private let id: HandlerID
    private let calendar: EventCalendar
    private let gateway: ToyGateway
    private let arrivals: RandomStream
    private let meanInterarrivalSeconds: Double
    private let horizon: Int64
    /// With the flagship's draws: each request's sizes, and the stream they are drawn from
    /// (the arrivals stay the toy's).
    private let sizes: (distributions: FlagshipDraws.Sizes, stream: RandomStream)?
    private(set) var requests: Int = 0
    /// With the flagship's draws: the input tokens drawn, summed.
    private(set) var inputTokens = 0

    static let arrival: Int32 = 0

    init(
        id: HandlerID, simulation: Simulation, gateway: ToyGateway, arrivals: RandomStream, ratePerSecond: Double, horizon: Int64,
        sizes: (distributions: FlagshipDraws.Sizes, stream: RandomStream)? = nil
    ) {
        self.simulationExecutor = simulation.executor
        self.id = id
        self.calendar = simulation.calendar
        self.gateway = gateway
        self.arrivals = arrivals
        self.meanInterarrivalSeconds = 1 / ratePerSecond
        self.horizon = horizon
        self.sizes = sizes
    }

    /// Schedules the first arrival.
    func start() {
        scheduleNextArrival()
    }

    func handle(_ event: Event) {
        requests += 1
        var request = ToyRequest(number: requests, outputTokens: 0)
        if let (distributions, stream) = sizes {
            inputTokens += Int(max(1, NearestInteger.of(distributions.input.sample(stream))))
            request.outputTokens = Int(max(1, NearestInteger.of(distributions.output.sample(stream))))
        }
        gateway.enter(request) { gateway, request in gateway.submit(request: request) }
        scheduleNextArrival()
    }

    private func scheduleNextArrival() {
        let gap = SimulationInstant.nanoseconds(fromSeconds: arrivals.exponential(mean: meanInterarrivalSeconds))
        let time = calendar.now + gap
        if time < horizon {
            calendar.schedule(at: time, to: id, kind: ToyClient.arrival)
        }
    }
}
