import ArgumentParser
import Foundation

@main
struct BrownoutBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "brownout-bench",
        abstract: "Speed harness for Brownout's simulation kernel.",
        subcommands: [KernelToyCommand.self]
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

    func validate() throws {
        guard duration.isFinite, duration > 0, duration <= 1e7 else {
            throw ValidationError("--duration must be a number of seconds in (0, 10000000], got \(duration)")
        }
    }

    func run() throws {
        let model = KernelToy(durationSeconds: duration, seed: seed)
        let clock = ContinuousClock()
        let start = clock.now
        let result = model.run()
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
            "peak_rss_mib": \(String(format: "%.1f", peakMiB))}
            """
        )
    }
}
