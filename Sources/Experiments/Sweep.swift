import Foundation
import Stochastics

/// A grid of what-ifs: every combination of the `--vary` values, run like a spec each, as
/// one tidy table (`sweep.csv`). Shards (`--shard i/n`) take the points whose index is i
/// modulo n; `merge` joins shards back into exactly the bytes of the unsharded run.
public enum Sweep {
    public struct Dimension: Sendable, Equatable, Codable {
        public let path: String
        public let values: [String]
    }

    public struct Shard: Sendable, Equatable {
        public let index: Int
        public let count: Int

        /// Parses `i/n` with 0 ≤ i < n (the completion index of a Kubernetes Indexed Job or a
        /// Slurm array task id).
        public init(parsing text: String) throws(ExperimentFailure) {
            let parts = text.split(separator: "/", omittingEmptySubsequences: false)
            guard parts.count == 2, let index = Int(parts[0]), let count = Int(parts[1]), count >= 1, index >= 0, index < count else {
                throw ExperimentFailure("--shard must be i/n with 0 ≤ i < n (e.g. 0/4 … 3/4), got '\(text)'")
            }
            self.index = index
            self.count = count
        }
    }

    /// `path=v1,v2,…` → a dimension.
    public static func dimension(parsing text: String) throws(ExperimentFailure) -> Dimension {
        guard let equals = text.firstIndex(of: "="), equals != text.startIndex else {
            throw ExperimentFailure("--vary must be path=v1,v2,… (e.g. pools.h100-llama-70b.replicas=1,2,4), got '\(text)'")
        }
        let values = text[text.index(after: equals)...].split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        guard !values.isEmpty, !values.contains(where: \.isEmpty) else {
            throw ExperimentFailure("--vary \(text): give at least one value, separated by commas")
        }
        return Dimension(path: String(text[..<equals]), values: values)
    }

    /// Every combination, the first dimension varying slowest.
    static func points(_ dimensions: [Dimension]) -> [[String]] {
        dimensions.reduce([[]]) { partial, dimension in partial.flatMap { prefix in dimension.values.map { prefix + [$0] } } }
    }

    static func header(_ dimensions: [Dimension]) -> [String] {
        ["point"] + dimensions.map(\.path) + ["scope", "metric", "mean", "ci95_low", "ci95_high", "n"]
    }

    /// Runs the points of `shard` (all when nil) and writes `sweep.csv` and `sweep.json` into
    /// `directory`. Returns the number of points run.
    public static func run(
        path: String, overrides: [String], dimensions: [Dimension], shard: Shard?, directory: String, jobs: Int,
        progress: (@Sendable (Int, Int) -> Void)?
    ) throws(ExperimentFailure) -> Int {
        guard !dimensions.isEmpty else { throw ExperimentFailure("give at least one --vary path=v1,v2,…") }
        let grid = points(dimensions)
        let selected = grid.indices.filter { shard == nil || $0 % shard!.count == shard!.index }
        let (document, base, _) = try Experiment.load(path: path, overrides: overrides)
        // Check every point's spec before running any.
        var specs: [ExperimentSpec] = []
        for index in selected {
            let assignments = zip(dimensions, grid[index]).map { "\($0.path)=\($1)" }
            specs.append(try Experiment.load(path: path, overrides: overrides + assignments).1)
        }
        let grouped = try Experiment.simulate(specs, jobs: jobs, progress: progress)
        var table = CSVTable(header: header(dimensions))
        for (position, index) in selected.enumerated() {
            let report = ExperimentReport(spec: specs[position], results: grouped[position], variant: "point")
            for row in report.summaryRows() {
                table.append([String(index)] + grid[index] + Array(row.dropFirst()))
            }
        }
        let manifest = SweepManifest(
            name: base.name, specHash: RunManifest.hash(document), seed: base.seed, replications: base.replications,
            dimensions: dimensions, points: grid.count, shard: shard.map { "\($0.index)/\($0.count)" }, version: RunManifest.version)
        let url = URL(fileURLWithPath: directory)
        try AtomicOutput.write([("sweep.csv", table.text), ("sweep.json", manifest.json())], into: url)
        return selected.count
    }

    /// Joins shard directories into one: the same bytes the unsharded sweep writes.
    public static func merge(_ directories: [String], into output: String) throws(ExperimentFailure) -> Int {
        guard !directories.isEmpty else { throw ExperimentFailure("give the shard directories to merge") }
        var manifest: SweepManifest?
        var header: String?
        var rows: [(point: Int, order: Int, line: String)] = []
        var covered: Set<Int> = []
        for directory in directories {
            let base = URL(fileURLWithPath: directory)
            guard let manifestData = FileManager.default.contents(atPath: base.appendingPathComponent("sweep.json").path),
                let shardManifest = try? JSONDecoder().decode(SweepManifest.self, from: manifestData)
            else {
                throw ExperimentFailure("\(directory): no sweep.json (is it the --out of a sweep?)")
            }
            if let manifest, manifest.withoutShard != shardManifest.withoutShard {
                throw ExperimentFailure("\(directory): a shard of a different sweep (spec, --vary or version differ from \(directories[0]))")
            }
            manifest = manifest ?? shardManifest
            guard let text = try? String(contentsOf: base.appendingPathComponent("sweep.csv"), encoding: .utf8) else {
                throw ExperimentFailure("\(directory): no readable sweep.csv")
            }
            var lines = text.components(separatedBy: "\r\n")
            if lines.last == "" { lines.removeLast() }
            guard let first = lines.first else { throw ExperimentFailure("\(directory)/sweep.csv: empty") }
            if let header, header != first { throw ExperimentFailure("\(directory)/sweep.csv: header differs from the other shards") }
            header = first
            var points: Set<Int> = []
            for (order, line) in lines.dropFirst().enumerated() {
                guard let point = Int(line.prefix { $0 != "," }) else {
                    throw ExperimentFailure("\(directory)/sweep.csv:\(order + 2): no point index")
                }
                points.insert(point)
                rows.append((point, order, line))
            }
            if !covered.isDisjoint(with: points) {
                throw ExperimentFailure(
                    "\(directory): points \(covered.intersection(points).sorted().prefix(5).map(String.init).joined(separator: ", ")) are in two shards"
                )
            }
            covered.formUnion(points)
        }
        guard let manifest, let header else { throw ExperimentFailure("nothing to merge") }
        let missing = Set(0..<manifest.points).subtracting(covered)
        guard missing.isEmpty else {
            throw ExperimentFailure(
                "points \(missing.sorted().prefix(10).map(String.init).joined(separator: ", ")) are in no shard; merge every shard of the sweep")
        }
        rows.sort { ($0.point, $0.order) < ($1.point, $1.order) }
        let text = ([header] + rows.map(\.line)).map { $0 + "\r\n" }.joined()
        let url = URL(fileURLWithPath: output)
        try AtomicOutput.write([("sweep.csv", text), ("sweep.json", manifest.withoutShard.json())], into: url)
        return manifest.points
    }
}

/// `sweep.json`: which sweep (spec hash, dimensions) and which shard of it a directory holds.
/// No wall time: merged shards and the unsharded run write the same bytes.
struct SweepManifest: Codable, Equatable {
    let name: String
    let specHash: String
    /// The base spec's seed and replications per point (a dimension may vary them).
    let seed: UInt64
    let replications: Int
    let dimensions: [Sweep.Dimension]
    let points: Int
    let shard: String?
    let version: String

    enum CodingKeys: String, CodingKey { case name, specHash = "spec_hash", seed, replications, dimensions, points, shard, version }

    var withoutShard: SweepManifest {
        SweepManifest(
            name: name, specHash: specHash, seed: seed, replications: replications, dimensions: dimensions, points: points, shard: nil,
            version: version)
    }

    func json() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: (try? encoder.encode(self)) ?? Data(), as: UTF8.self) + "\n"
    }
}
