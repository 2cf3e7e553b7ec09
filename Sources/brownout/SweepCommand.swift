import ArgumentParser
import CommandLineSupport
import Experiments
import Foundation

/// `brownout sweep`: run a grid of what-ifs as one tidy table, optionally one shard of it.
struct SweepCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sweep",
        abstract: "Run every combination of --vary values and write sweep.csv (one row per point and metric).",
        discussion:
            "Example: brownout sweep experiments/april-correlated-529.yaml --vary pools.h100-llama-70b.replicas=1,2,4 --vary teams.search.sdk_retries=0,2 --out out/sweep"
    )

    @OptionGroup var options: SpecOptions

    @Option(
        help: ArgumentHelp(
            "A field and its values, e.g. --vary pools.h100-llama-70b.replicas=1,2,4 (repeatable; the first varies slowest).",
            valueName: "path=v1,v2,…"))
    var vary: [String] = []

    @Option(help: "Output directory.")
    var out: String

    @Option(
        help: ArgumentHelp(
            "Run only the points whose index is i modulo n (0 ≤ i < n), for a batch array job; join shards with `brownout merge`.", valueName: "i/n"))
    var shard: String?

    @OptionGroup var parallel: JobsOption

    func validate() throws {
        guard !vary.isEmpty else { throw ValidationError("give at least one --vary path=v1,v2,…") }
    }

    func run() throws {
        let progress = ProgressBar(label: "replications")
        let points: Int
        do {
            let dimensions = try vary.map { (text) throws(ExperimentFailure) in try Sweep.dimension(parsing: text) }
            let slice = try shard.map { (text) throws(ExperimentFailure) in try Sweep.Shard(parsing: text) }
            points = try Sweep.run(
                path: options.spec, overrides: options.overrides, dimensions: dimensions, shard: slice,
                directory: out, jobs: parallel.jobs, progress: progress.callback)
        } catch {
            progress.finish()
            throw CommandError(error.description)
        }
        progress.finish()
        print("Ran \(points) point(s)\(shard.map { " (shard \($0))" } ?? ""); wrote sweep.csv and sweep.json to \(out)/")
    }
}
