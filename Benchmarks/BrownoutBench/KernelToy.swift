import SimulationKernel
import Stochastics

/// The reference toy model of DESIGN.md, built on the kernel: one client, one gateway and
/// three providers as actors on one replication's executor.
struct KernelToy {
    struct Result: Sendable, Equatable {
        var requests = 0
        var succeeded = 0
        var failed = 0
        var attempts = 0
        var events: UInt64 = 0
    }

    var durationSeconds: Double
    var ratePerSecond = 1000.0
    var mu = -0.5
    var sigma = 0.5
    var failureProbability = 0.05
    var providerCount = 3
    var seed: UInt64 = 1
    /// The flagship's random draws in place of the toy's one latency draw (nil: the toy's): each
    /// request's input and output tokens (rounded), and each attempt's time to first token and
    /// output rate, the attempt lasting the first token plus the output at that rate. What the
    /// flagship draws per request, with none of its routing or bookkeeping: the floor of its
    /// cost per request while its output, which those draws decide, stays the same.
    var flagshipDraws: FlagshipDraws?

    func run(replication: Int = 0) -> Result {
        let executor = SimulationExecutor()
        let model = self
        return executor.run {
            await model.simulate(executor: executor, replication: replication)
        }
    }

    private func simulate(executor: SimulationExecutor, replication: Int) async -> Result {
        let simulation = Simulation(executor: executor)
        let calendar = simulation.calendar
        let gateway = ToyGateway(simulation: simulation)
        let horizon = SimulationInstant.nanoseconds(fromSeconds: durationSeconds)
        let providers = (0..<providerCount).map { index in
            calendar.register { id in
                ToyProvider(
                    id: id, index: index, simulation: simulation, gateway: gateway,
                    latency: RandomStream(name: "provider.\(index).latency", seed: seed, replication: replication),
                    failures: RandomStream(name: "provider.\(index).failure", seed: seed, replication: replication),
                    mu: mu, sigma: sigma, failureProbability: failureProbability,
                    service: flagshipDraws.map { .flagship($0.service(index)) } ?? .toy
                )
            }
        }
        await gateway.connect(providers)
        let client = calendar.register { id in
            ToyClient(
                id: id, simulation: simulation, gateway: gateway,
                arrivals: RandomStream(name: "client.arrivals", seed: seed, replication: replication),
                ratePerSecond: ratePerSecond, horizon: horizon,
                sizes: flagshipDraws.map { ($0.sizes, RandomStream(name: "client.sizes", seed: seed, replication: replication)) }
            )
        }
        await client.start()
        await simulation.run()
        var result = Result()
        result.requests = await client.requests
        result.succeeded = await gateway.succeeded
        result.failed = await gateway.failed
        for provider in providers {
            result.attempts += await provider.attempts
        }
        result.events = await simulation.deliveredEvents
        await simulation.finish()
        return result
    }
}
