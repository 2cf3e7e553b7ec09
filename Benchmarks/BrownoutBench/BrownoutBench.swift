import ArgumentParser
import Experiments
import Foundation
import GatewaySim
import SimulationKernel

@main
struct BrownoutBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "brownout-bench",
        abstract: "Speed harness for Brownout: the kernel, RoutingCore, allocation counts, and random specs for the twin.",
        subcommands: [KernelToyCommand.self, RoutingCoreCommand.self, AllocationsCommand.self, TwinSpecCommand.self]
    )
}

struct KernelToyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kernel-toy",
        abstract: "Run the reference toy model (Poisson 1000 req/s, three providers in sequence) and print one JSON object."
    )

    @Option(help: "Simulated seconds of arrivals; in-flight work drains afterwards.")
    var duration: Double = 1000

    @Option(help: "Master seed.")
    var seed: UInt64 = 1

    @Option(help: "Independent replications (1 to 10000); counts are summed over them.")
    var replications: Int = 1

    @Option(help: "Threads running replications in parallel (1 to 256), one executor each.")
    var jobs: Int = 1

    /// What each request draws.
    enum Draws: String, ExpressibleByArgument, CaseIterable {
        case toy, flagship
    }

    @Option(
        help: """
            toy: one lognormal latency per attempt. flagship: the flagship's draws instead (each request's input and \
            output tokens, each attempt's time to first token and output rate), with none of its routing: the floor \
            of the flagship's cost per request.
            """)
    var draws: Draws = .toy

    @Option(help: "With --draws flagship: the spec whose first team's sizes and providers' service are drawn.")
    var spec = "experiments/april-correlated-529.yaml"

    func validate() throws {
        guard duration.isFinite, duration > 0, duration <= 1e7 else {
            throw ValidationError("--duration must be a number of seconds in (0, 10000000], got \(duration)")
        }
        guard (1...10_000).contains(replications) else {
            throw ValidationError("--replications must be between 1 and 10000, got \(replications)")
        }
        guard (1...256).contains(jobs) else {
            throw ValidationError("--jobs must be between 1 and 256, got \(jobs)")
        }
    }

    func run() throws {
        var toy = KernelToy(durationSeconds: duration, seed: seed)
        if draws == .flagship {
            let world: WorldSpec
            do {
                world = try Experiment.load(path: spec, overrides: []).1.world
            } catch {
                throw ValidationError(error.description)
            }
            guard let flagship = FlagshipDraws(world) else { throw ValidationError("\(spec): no team or no provider to draw from") }
            toy.flagshipDraws = flagship
        }
        let model = toy
        let clock = ContinuousClock()
        let start = clock.now
        let results = ReplicationRunner.run(count: replications, jobs: jobs) { model.run(replication: $0) }
        let result = results.reduce(into: KernelToy.Result()) { total, one in
            total.requests += one.requests
            total.succeeded += one.succeeded
            total.failed += one.failed
            total.attempts += one.attempts
            total.events += one.events
        }
        let elapsed = start.duration(to: clock.now)
        let wall = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        let peakMiB = Double(usage.ru_maxrss) / 1024
        let rate = Double(result.requests) / wall
        print(
            """
            {"requests": \(result.requests), "ok": \(result.succeeded), "failed": \(result.failed), \
            "attempts": \(result.attempts), "events": \(result.events), \
            "wall_seconds": \(String(format: "%.4f", wall)), "requests_per_second": \(String(format: "%.0f", rate)), \
            "peak_rss_mib": \(String(format: "%.1f", peakMiB)), "replications": \(replications), "jobs": \(jobs), \
            "draws": "\(draws.rawValue)"}
            """
        )
    }
}
