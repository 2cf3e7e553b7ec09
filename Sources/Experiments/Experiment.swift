import Foundation
import GatewaySim

/// A failure a user can act on: bad spec, world that does not fit, outputs that cannot be written.
public struct ExperimentFailure: Error, Sendable, CustomStringConvertible {
    public let description: String

    public init(_ description: String) {
        self.description = description
    }
}

/// What `brownout run` and `brownout validate` do, so the CLI stays a thin parser.
public enum Experiment {
    /// Loads and checks a spec; returns it with its resolved document.
    public static func load(path: String, overrides: [String]) throws(ExperimentFailure) -> (SpecValue, ExperimentSpec) {
        do {
            let document = try SpecDocument.load(path: path, overrides: overrides)
            return (document, try ExperimentSpecParser.parse(document))
        } catch {
            throw ExperimentFailure(error.description)
        }
    }

    /// One line describing what a spec would run.
    public static func overview(_ spec: ExperimentSpec) -> String {
        let world = spec.world
        return "\(world.providers.count) providers, \(world.pools.count) pools, \(world.teams.count) teams, \(world.degradation.count) degradation processes, "
            + "\(spec.replications) replications of \(Int(world.durationSeconds)) s"
    }

    /// Runs the spec and writes its tables into `directory` (default `out/<name>`); nothing
    /// is written unless every replication ran. Returns the plain-language summary and
    /// the directory.
    public static func run(path: String, overrides: [String], directory: String?, jobs: Int,
                           progress: (@Sendable (Int, Int) -> Void)?) throws(ExperimentFailure) -> (summary: String, directory: String, files: [String]) {
        let (document, spec) = try load(path: path, overrides: overrides)
        let clock = ContinuousClock()
        let started = clock.now
        let results: [ReplicationResult]
        do {
            results = try ExperimentRunner.run(spec, jobs: jobs, progress: progress)
        } catch {
            throw ExperimentFailure(error.description)
        }
        let elapsed = started.duration(to: clock.now)
        let wall = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let report = ExperimentReport(spec: spec, results: results)
        let manifest = RunManifest(spec: spec, specPath: path, document: document, jobs: jobs, wallSeconds: wall, events: results.reduce(0) { $0 + $1.events })
        let files: [(String, String)] = [
            ("summary.csv", report.summaryCSV()),
            ("per_team.csv", report.perTeamCSV()),
            ("per_provider.csv", report.perProviderCSV()),
            ("timeseries.csv", report.timeSeriesCSV()),
            ("run.json", manifest.json()),
        ]
        let path = directory ?? "out/\(spec.name)"
        let url = URL(fileURLWithPath: path)
        do {
            try AtomicOutput.prepare(directory: url)
            for (name, text) in files { try AtomicOutput.write(text, to: url.appendingPathComponent(name)) }
        } catch {
            throw ExperimentFailure("\(url.path): could not write outputs (\(error.localizedDescription))")
        }
        return (report.plainSummary(), path, files.map(\.0))
    }
}
