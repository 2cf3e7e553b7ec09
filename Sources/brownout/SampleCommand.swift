import ArgumentParser
import CommandLineSupport
import Foundation
import Experiments
import Stochastics

/// `brownout sample`: draw from a distribution as a model would, to check a calibration
/// (does `lognormal median=0.8 p99=4` give the tail I meant?) or to feed a notebook.
struct SampleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sample",
        abstract: "Draw from a distribution and summarise the draws (or write them as CSV).",
        discussion: """
            KIND is one of: constant value=V | uniform lower=A upper=B | exponential mean=M (or rate=R) | \
            normal mean=M sd=S [lower=L] [upper=U] | lognormal mu=M sigma=S (or median=M p99=P) | \
            gamma shape=K scale=T | weibull shape=K scale=L | pareto shape=A scale=X | beta alpha=A beta=B | \
            bernoulli p=P | empirical values=1,2,3 (or file=PATH column=NAME).

            Example: brownout sample lognormal median=0.8 p99=4 --count 100000
            """
    )

    @Argument(help: "The distribution kind, e.g. lognormal.")
    var kind: String

    @Argument(help: "Its parameters as name=value, e.g. median=0.8 p99=4.")
    var parameters: [String] = []

    @Option(help: "Number of draws (1 to 100000000).")
    var count: Int = 100_000

    @Option(help: "Master seed of the named stream the draws come from.")
    var seed: UInt64 = 1

    @Option(help: "Write the draws to this CSV file (one column, value) instead of summarising.")
    var out: String?

    func validate() throws {
        guard (1...100_000_000).contains(count) else {
            throw ValidationError("--count must be between 1 and 100000000, got \(count)")
        }
    }

    func run() throws {
        let distribution = try makeDistribution()
        let stream = RandomStream(name: "sample.\(kind)", seed: seed, replication: 0)
        var draws = [Double]()
        draws.reserveCapacity(count)
        for _ in 0..<count { draws.append(distribution.sample(stream)) }
        if let out {
            var csv = "value\n"
            for value in draws { csv += "\(value)\n" }
            let target = URL(fileURLWithPath: out)
            var isDirectory: ObjCBool = false
            let directory = target.deletingLastPathComponent().path
            guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
                throw CommandError("\(out): directory \(directory) does not exist")
            }
            do {
                try AtomicOutput.write(csv, to: target)
            } catch {
                throw CommandError("\(out): could not write (\(error.localizedDescription))")
            }
            return
        }
        draws.sort()
        let mean = draws.reduce(0, +) / Double(count)
        let variance = draws.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(max(count - 1, 1))
        func quantile(_ q: Double) -> Double { draws[min(count - 1, Int(q * Double(count)))] }
        print("distribution  \(distribution)")
        print("draws         \(count) (seed \(seed))")
        print("mean          \(format(mean))   (exact \(format(distribution.mean)))")
        print("sd            \(format(variance.squareRoot()))   (exact \(format(distribution.variance.squareRoot())))")
        print("p50 p90 p99   \(format(quantile(0.5)))  \(format(quantile(0.9)))  \(format(quantile(0.99)))")
        print("min max       \(format(draws[0]))  \(format(draws[count - 1]))")
    }

    private func makeDistribution() throws -> Distribution {
        var numbers: [String: Double] = [:]
        var texts: [String: String] = [:]
        for parameter in parameters {
            let parts = parameter.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, !parts[0].isEmpty else {
                throw CommandError("parameter '\(parameter)' is not name=value (e.g. median=0.8)")
            }
            guard texts[parts[0]] == nil else {
                throw CommandError("parameter '\(parts[0])' is given twice")
            }
            texts[parts[0]] = parts[1]
        }
        if kind == "empirical" {
            return try empirical(texts)
        }
        for (name, text) in texts {
            guard let value = Double(text) else {
                throw CommandError("\(kind): parameter '\(name)' must be a number, got '\(text)'")
            }
            numbers[name] = value
        }
        return try DistributionCatalog.make(kind: kind, parameters: numbers)
    }

    private func empirical(_ texts: [String: String]) throws -> Distribution {
        switch Set(texts.keys) {
        case ["values"]:
            let values = try texts["values"]!.split(separator: ",").map { item in
                guard let value = Double(item.trimmingCharacters(in: .whitespaces)) else {
                    throw CommandError("empirical: '\(item)' in values is not a number")
                }
                return value
            }
            return try .empirical(values: values)
        case ["file", "column"]:
            return try .empirical(csvFile: texts["file"]!, column: texts["column"]!)
        default:
            throw CommandError("empirical takes values=1,2,3 or file=PATH column=NAME, got \(texts.keys.sorted().joined(separator: ", "))")
        }
    }

    private func format(_ value: Double) -> String {
        value.isFinite ? String(format: "%.6g", value) : "\(value)"
    }
}

extension StochasticsError: LocalizedError {
    public var errorDescription: String? { message }
}
