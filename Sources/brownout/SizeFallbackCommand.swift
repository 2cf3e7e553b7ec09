import ArgumentParser
import CommandLineSupport
import Experiments
import Foundation

/// `brownout size-fallback`: the smallest (or cheapest) local pool that holds the SLOs.
struct SizeFallbackCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "size-fallback",
        abstract: "Find the smallest local pool that meets every SLO at a confidence level; writes sizing.csv.",
        discussion:
            "Example: brownout size-fallback experiments/april-correlated-529.yaml --pool h100-llama-70b --slo 'search.availability>=0.995' --slo 'search.latency_p99_s<=20'"
    )

    @OptionGroup var options: SpecOptions

    @Option(help: "The pool to size (a key of pools: in the spec).")
    var pool: String

    @Option(help: ArgumentHelp("An SLO, team.metric>=value or team.metric<=value; team may be 'all' (repeatable).", valueName: "team.metric>=value"))
    var slo: [String] = []

    @Option(help: "Largest pool to consider, in replicas (default: 16, or 4× the current size).")
    var max: Int?

    @Option(help: "Confidence of the interval whose bound must meet each SLO (0 to 1).")
    var confidence: Double = 0.95

    @Option(help: "smallest: fewest replicas; cheapest: least pool GPU cost plus spend over the run among sizes that meet the SLOs.")
    var objective: String = "smallest"

    @Option(help: "Output directory (default: out/<spec name>-sizing).")
    var out: String?

    @OptionGroup var parallel: JobsOption

    func validate() throws {
        guard FallbackSizing.Goal(rawValue: objective) != nil else {
            throw ValidationError("--objective must be smallest or cheapest, got '\(objective)'")
        }
        if let max, max < 1 { throw ValidationError("--max must be ≥ 1, got \(max)") }
    }

    func run() throws {
        let progress = ProgressBar(label: "replications (current size)")
        let name = URL(fileURLWithPath: options.spec).deletingPathExtension().lastPathComponent
        let answer: String
        do {
            answer = try FallbackSizing.run(
                path: options.spec, overrides: options.overrides, pool: pool, slos: slo, maxReplicas: max,
                confidence: confidence, goal: FallbackSizing.Goal(rawValue: objective)!,
                directory: out ?? "out/\(name)-sizing", jobs: parallel.jobs, progress: progress.callback)
        } catch {
            progress.finish()
            throw CommandError(error.description)
        }
        progress.finish()
        print(answer)
    }
}
