import ConfigSchema
import Foundation
import GatewaySim
import SimulationKernel

/// A failure a user can act on: bad spec, world that does not fit, outputs that cannot be written.
public struct ExperimentFailure: Error, Sendable, CustomStringConvertible {
    public let description: String

    public init(_ description: String) {
        self.description = description
    }
}

/// What `brownout run` and `brownout validate` do, so the CLI stays a thin parser.
public enum Experiment {
    /// Loads and checks a spec and its variants; returns the resolved document, the
    /// baseline spec and the variants.
    public static func load(path: String, overrides: [String]) throws(ExperimentFailure) -> (SpecValue, ExperimentSpec, [Variant]) {
        do throws(SpecError) {
            let document = try SpecDocument.load(path: path, overrides: overrides)
            let (base, variantDocuments) = try VariantsParser.variants(of: document)
            let spec = try ExperimentSpec(decoding: base)
            var variants: [Variant] = []
            for (name, variantDocument) in variantDocuments {
                do throws(SpecError) {
                    variants.append(Variant(name: name, spec: try ExperimentSpec(decoding: variantDocument)))
                } catch {
                    throw SpecError(error.location, error.path, "in variant '\(name)': \(error.message)")
                }
            }
            return (document, spec, variants)
        } catch {
            throw ExperimentFailure(error.description)
        }
    }

    /// One line describing what a spec would run.
    public static func overview(_ spec: ExperimentSpec, variants: [Variant] = []) -> String {
        let world = spec.world
        func count(_ n: Int, _ one: String, _ many: String) -> String { "\(n) \(n == 1 ? one : many)" }
        var text =
            count(world.providers.count, "provider", "providers") + ", " + count(world.pools.count, "pool", "pools") + ", "
            + count(world.teams.count, "team", "teams") + ", " + count(world.degradation.count, "degradation process", "degradation processes") + ", "
            + count(spec.replications, "replication", "replications") + " of \(Int(world.durationSeconds)) s"
        if !variants.isEmpty { text += ", variants: baseline, " + variants.map(\.name).joined(separator: ", ") }
        return text
    }

    /// Runs every variant's replications (`jobs` threads over all of them).
    public static func simulate(
        _ specs: [ExperimentSpec], jobs: Int, progress: (@Sendable (Int, Int) -> Void)?
    ) throws(ExperimentFailure) -> [[ReplicationResult]] {
        let counts = specs.map(\.replications)
        let offsets = counts.indices.map { counts[..<$0].reduce(0, +) }
        let total = counts.reduce(0, +)
        let outcomes = ReplicationRunner.run(count: total, jobs: jobs, progress: progress) { index -> Result<ReplicationResult, WorldError> in
            let variant = offsets.lastIndex { $0 <= index }!
            let spec = specs[variant]
            return Result { () throws(WorldError) in try World.run(spec.world, seed: spec.seed, replication: index - offsets[variant]) }
        }
        var grouped: [[ReplicationResult]] = []
        for (variant, offset) in offsets.enumerated() {
            var results: [ReplicationResult] = []
            for outcome in outcomes[offset..<(offset + counts[variant])] {
                do { results.append(try outcome.get()) } catch { throw ExperimentFailure(error.description) }
            }
            grouped.append(results)
        }
        return grouped
    }

    /// Runs replications `range` of one spec (`jobs` threads): replication i gives the same
    /// result whichever others run with it, so a caller that wants more of a spec runs only
    /// the new ones.
    public static func simulate(
        _ spec: ExperimentSpec, replications range: Range<Int>, jobs: Int,
        progress: (@Sendable (Int, Int) -> Void)?
    ) throws(ExperimentFailure) -> [ReplicationResult] {
        try simulate(spec, replications: Array(range), jobs: jobs, progress: progress) { $0 }
    }

    /// Runs replications `indices` of one spec and keeps of each only `summary` of it,
    /// computed on the thread that simulated it (a caller that reads a few figures of many
    /// replications neither holds every result nor reads them one after another).
    public static func simulate<Summary: Sendable>(
        _ spec: ExperimentSpec, replications indices: [Int], jobs: Int,
        progress: (@Sendable (Int, Int) -> Void)?, summary: @escaping @Sendable (ReplicationResult) -> Summary
    ) throws(ExperimentFailure) -> [Summary] {
        let outcomes = ReplicationRunner.run(count: indices.count, jobs: jobs, progress: progress) { index -> Result<Summary, WorldError> in
            Result { () throws(WorldError) in summary(try World.run(spec.world, seed: spec.seed, replication: indices[index])) }
        }
        var summaries: [Summary] = []
        for outcome in outcomes {
            do { summaries.append(try outcome.get()) } catch { throw ExperimentFailure(error.description) }
        }
        return summaries
    }

    /// Runs the spec (and its variants) and writes its tables into `directory` (default
    /// `out/<name>`); nothing is written unless every replication ran. Returns the
    /// plain-language summary and the directory.
    public static func run(
        path: String, overrides: [String], directory: String?, jobs: Int,
        progress: (@Sendable (Int, Int) -> Void)?
    ) throws(ExperimentFailure) -> (summary: String, directory: String, files: [String]) {
        let (document, spec, variants) = try load(path: path, overrides: overrides)
        let clock = ContinuousClock()
        let started = clock.now
        let specs = [spec] + variants.map(\.spec)
        let names = ["baseline"] + variants.map(\.name)
        let grouped = try simulate(specs, jobs: jobs, progress: progress)
        let elapsed = started.duration(to: clock.now)
        let wall = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let labels = ExperimentReport.failureLabels(in: grouped.flatMap { $0 })
        let reports = zip(specs, zip(names, grouped)).map { ExperimentReport(spec: $0, results: $1.1, variant: $1.0, failureLabels: labels) }
        let tables = RunTables(reports: reports)
        let manifest = RunManifest(
            spec: spec, specPath: path, document: document, jobs: jobs, wallSeconds: wall,
            events: grouped.joined().reduce(0) { $0 + $1.events }, variants: names)
        var files: [(String, String)] = [
            ("summary.csv", tables.summaryCSV),
            ("per_team.csv", tables.perTeamCSV),
            ("per_provider.csv", tables.perProviderCSV),
            ("timeseries.csv", tables.timeSeriesCSV),
            ("provider_timeseries.csv", tables.providerTimeSeriesCSV),
        ]
        if !variants.isEmpty { files.append(("compare.csv", tables.compareCSV)) }
        files.append(("run.json", manifest.json()))
        let path = directory ?? "out/\(spec.name)"
        let url = URL(fileURLWithPath: path)
        try AtomicOutput.write(files, into: url)
        return (reports.map { $0.plainSummary() }.joined(separator: "\n"), path, files.map(\.0))
    }
}
