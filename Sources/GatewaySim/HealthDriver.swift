import SimulationKernel
import Stochastics

/// Plays the degradation processes: at each change it sets the health state of the
/// providers and the gateway (the worst state asked for by any process).
actor HealthDriver: EventHandler {
    nonisolated let simulationExecutor: SimulationExecutor
    nonisolated var unownedExecutor: UnownedSerialExecutor { simulationExecutor.asUnownedSerialExecutor() }
    let id: HandlerID
    private let calendar: EventCalendar
    private let bindings: [DegradationBinding]
    private var processes: [any DegradationProcess]
    private var pending: [HealthChange?]
    private var requests: HealthRequests
    private let providers: [Provider]
    private let gateways: [PeerReference<Gateway>]
    private let horizon: Int64

    /// The bindings must have been validated (``World/validate(_:seed:)``): building their
    /// processes cannot fail then.
    init(
        id: HandlerID, simulation: Simulation, bindings: [DegradationBinding], seed: UInt64, replication: Int,
        providers: [Provider], gateways: [Gateway], horizon: Int64
    ) {
        let processes = bindings.map { binding in
            do {
                return try binding.process(seed: seed, replication: replication)
            } catch {
                preconditionFailure("HealthDriver: degradation '\(binding.name)' was not validated: \(error)")
            }
        }
        self.id = id
        self.simulationExecutor = simulation.executor
        self.calendar = simulation.calendar
        self.bindings = bindings
        self.providers = providers
        self.gateways = gateways.map(PeerReference.init)
        self.horizon = horizon
        self.pending = Array(repeating: nil, count: bindings.count)
        self.requests = HealthRequests(bindings: bindings, initialStates: processes.map(\.initialStates))
        self.processes = processes
    }

    func start() {
        for index in bindings.indices {
            for target in bindings[index].targets.indices { apply(bindings[index].targets[target]) }
            scheduleNext(index)
        }
    }

    func handle(_ event: Event) {
        let index = Int(event.payload)
        guard let change = pending[index] else { return }
        requests.set(binding: index, target: change.target, processState: change.state)
        apply(bindings[index].targets[change.target])
        scheduleNext(index)
    }

    /// Plays the process's next change. Before the horizon, every change; after it, while the
    /// run drains, only while the process asks for something worse than healthy: an outage that
    /// outlasts the horizon ends when the process says (work waiting on a provider left with no
    /// capacity is served), and no new incident starts. The run itself ends with its last
    /// request (``Gateway/teamDrained()``), so no change after that is delivered.
    private func scheduleNext(_ index: Int) {
        let next = processes[index].nextChange()
        pending[index] = next
        guard let next else { return }
        if next.time < horizon || requests.asksForDegradation(binding: index) {
            calendar.schedule(at: max(next.time, calendar.now), to: id, kind: 0, payload: Int64(index))
        }
    }

    /// Sets `target` to the worst state any binding asks for it.
    private func apply(_ target: HealthTarget) {
        let worst = requests.worst(for: target)
        switch target {
        case .provider(let index):
            providers[index].enter(worst) { provider, state in provider.setHealth(state) }
        case .gateway:
            // Every replica runs on the same degraded infrastructure.
            for gateway in gateways { gateway.enter(worst) { gateway, state in gateway.setHealth(state) } }
        }
    }
}
