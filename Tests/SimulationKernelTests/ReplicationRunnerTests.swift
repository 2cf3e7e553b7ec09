import Testing
@testable import SimulationKernel
import Stochastics

/// A small M/M/1-like model for determinism tests: Poisson arrivals to one server with
/// exponential service; returns a fingerprint of everything that happened.
actor SingleServer: EventHandler {
    nonisolated let simulationExecutor: SimulationExecutor
    nonisolated var unownedExecutor: UnownedSerialExecutor { simulationExecutor.asUnownedSerialExecutor() }
    let id: HandlerID
    let calendar: EventCalendar
    let arrivals: RandomStream
    let service: RandomStream
    var queue = 0
    var busy = false
    var served = 0
    var fingerprint: UInt64 = 1469598103934665603
    var waiting = Tally()

    static let arrival: Int32 = 0
    static let departure: Int32 = 1

    init(id: HandlerID, simulation: Simulation, seed: UInt64, replication: Int) {
        self.id = id
        self.simulationExecutor = simulation.executor
        self.calendar = simulation.calendar
        self.arrivals = RandomStream(name: "arrivals", seed: seed, replication: replication)
        self.service = RandomStream(name: "service", seed: seed, replication: replication)
    }

    func handle(_ event: Event) {
        fingerprint = (fingerprint ^ UInt64(bitPattern: calendar.now)) &* 1099511628211
        switch event.kind {
        case SingleServer.arrival:
            if busy { queue += 1 } else { startService() }
            if calendar.now < 200_000_000_000 {
                calendar.schedule(
                    after: SimulationInstant.nanoseconds(fromSeconds: arrivals.exponential(mean: 1 / 0.8)), to: id, kind: SingleServer.arrival)
            }
        default:
            served += 1
            if queue > 0 { queue -= 1; startService() } else { busy = false }
        }
    }

    private func startService() {
        busy = true
        calendar.schedule(after: SimulationInstant.nanoseconds(fromSeconds: service.exponential(mean: 1)), to: id, kind: SingleServer.departure)
    }
}

struct ReplicationFingerprint: Sendable, Equatable {
    var served: Int
    var fingerprint: UInt64
}

func runSingleServer(seed: UInt64, replication: Int) -> ReplicationFingerprint {
    let executor = SimulationExecutor()
    return executor.run {
        let simulation = Simulation(executor: executor)
        let server = simulation.calendar.register { SingleServer(id: $0, simulation: simulation, seed: seed, replication: replication) }
        simulation.calendar.schedule(at: 0, to: server.id, kind: SingleServer.arrival)
        await simulation.run()
        return ReplicationFingerprint(served: await server.served, fingerprint: await server.fingerprint)
    }
}

@Suite("Parallel replications")
struct ReplicationRunnerTests {
    @Test("the same seed gives the same replication, event for event")
    func sameSeedSameRun() {
        #expect(runSingleServer(seed: 9, replication: 3) == runSingleServer(seed: 9, replication: 3))
        #expect(runSingleServer(seed: 9, replication: 3) != runSingleServer(seed: 9, replication: 4))
    }

    @Test("replications on two threads give exactly what a serial run gives, in replication order")
    func parallelEqualsSerial() {
        let serial = ReplicationRunner.run(count: 12, jobs: 1) { runSingleServer(seed: 5, replication: $0) }
        let parallel = ReplicationRunner.run(count: 12, jobs: 2) { runSingleServer(seed: 5, replication: $0) }
        let oversubscribed = ReplicationRunner.run(count: 12, jobs: 5) { runSingleServer(seed: 5, replication: $0) }
        #expect(serial.count == 12)
        #expect(parallel == serial)
        #expect(oversubscribed == serial)
        #expect(Set(serial.map(\.fingerprint)).count == 12)
    }
}
