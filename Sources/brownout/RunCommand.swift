import ArgumentParser
import CommandLineSupport
import Experiments
import Foundation

/// `brownout run`: simulate an experiment's replications and write its tables.
struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run an experiment and write summary.csv, per_team.csv, per_provider.csv, timeseries.csv, provider_timeseries.csv and run.json."
    )

    @OptionGroup var options: SpecOptions

    @Option(help: "Output directory (default: out/<spec name>).")
    var out: String?

    @Option(help: "Master seed (overrides run.seed).")
    var seed: UInt64?

    @Option(help: "Replications (overrides run.replications).")
    var replications: Int?

    @OptionGroup var parallel: JobsOption

    func validate() throws {
        if let replications, !(1...100_000).contains(replications) {
            throw ValidationError("--replications must be between 1 and 100000, got \(replications)")
        }
    }

    func run() throws {
        var overrides = options.overrides
        if let seed { overrides.append("run.seed=\(seed)") }
        if let replications { overrides.append("run.replications=\(replications)") }
        let progress = ProgressBar(label: "replications")
        let outcome: (summary: String, directory: String, files: [String])
        do {
            outcome = try Experiment.run(path: options.spec, overrides: overrides, directory: out, jobs: parallel.jobs, progress: progress.callback)
        } catch {
            progress.finish()
            throw CommandError(error.description)
        }
        progress.finish()
        print(outcome.summary)
        print("Wrote \(outcome.files.joined(separator: ", ")) to \(outcome.directory)/")
    }
}
