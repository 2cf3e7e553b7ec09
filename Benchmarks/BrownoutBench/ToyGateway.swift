import SimulationKernel

/// The toy model's gateway: tries providers 0 → 1 → 2 in order; a request fails after the third failure.
actor ToyGateway: ReplicationActor {
    nonisolated let simulationExecutor: SimulationExecutor
    nonisolated var unownedExecutor: UnownedSerialExecutor { simulationExecutor.asUnownedSerialExecutor() }
    /// Unretained, as in the simulated world: the calendar keeps the providers alive, and the
    /// providers hold this gateway, so strong references both ways would be a cycle.
    private var providers: [PeerReference<ToyProvider>] = []
    private(set) var succeeded = 0
    private(set) var failed = 0

    init(simulation: Simulation) {
        self.simulationExecutor = simulation.executor
    }

    func connect(_ providers: [ToyProvider]) {
        self.providers = providers.map(PeerReference.init)
    }

    func submit(request: ToyRequest) {
        providers[0].enter(request.payload) { provider, request in provider.start(request: request) }
    }

    func attemptFinished(request: Int64, provider: Int, succeeded attemptSucceeded: Bool) {
        if attemptSucceeded {
            succeeded += 1
        } else if provider + 1 < providers.count {
            providers[provider + 1].enter(request) { provider, request in provider.start(request: request) }
        } else {
            failed += 1
        }
    }
}
