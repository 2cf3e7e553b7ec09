import CGSL
import SimulationKernel
import Stochastics

/// The toy model's provider: an attempt takes lognormal(μ, σ) seconds, then fails with a fixed probability.
actor ToyProvider: EventHandler {
    nonisolated let simulationExecutor: SimulationExecutor
    nonisolated var unownedExecutor: UnownedSerialExecutor { simulationExecutor.asUnownedSerialExecutor() }
    private let id: HandlerID
    private let index: Int
    private let calendar: EventCalendar
    private let gateway: ToyGateway
    private let latency: RandomStream
    private let failures: RandomStream
    private let mu: Double
    private let sigma: Double
    private let failureProbability: Double
    private let service: Service
    private(set) var attempts = 0

    /// How an attempt's duration is drawn: the toy's one lognormal, or the flagship's draws.
    enum Service: Sendable {
        case toy
        case flagship(FlagshipDraws.Service)
    }

    static let attemptFinished: Int32 = 0

    init(
        id: HandlerID, index: Int, simulation: Simulation, gateway: ToyGateway,
        latency: RandomStream, failures: RandomStream, mu: Double, sigma: Double, failureProbability: Double,
        service: Service = .toy
    ) {
        self.simulationExecutor = simulation.executor
        self.id = id
        self.index = index
        self.calendar = simulation.calendar
        self.gateway = gateway
        self.latency = latency
        self.failures = failures
        self.mu = mu
        self.sigma = sigma
        self.failureProbability = failureProbability
        self.service = service
    }

    func start(request: Int64) {
        attempts += 1
        let seconds: Double
        switch service {
        case .toy:
            seconds = gsl_ran_lognormal(latency.gslGenerator, mu, sigma)
        case .flagship(let draws):
            let firstToken = draws.timeToFirstToken.sample(latency)
            let rate = max(1e-3, draws.outputTokensPerSecond.sample(latency))
            seconds = firstToken + Double(ToyRequest(payload: request).outputTokens) / rate
        }
        calendar.schedule(after: SimulationInstant.nanoseconds(fromSeconds: seconds), to: id, kind: ToyProvider.attemptFinished, payload: request)
    }

    func handle(_ event: Event) {
        let succeeded = !failures.bernoulli(failureProbability)
        gateway.enter((event.payload, index, succeeded)) { gateway, outcome in
            gateway.attemptFinished(request: outcome.0, provider: outcome.1, succeeded: outcome.2)
        }
    }
}
