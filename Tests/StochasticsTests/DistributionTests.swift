import Foundation
import Testing
@testable import Stochastics

@Suite("Distributions sampled through GSL")
struct DistributionTests {
    static let cases: [(String, Distribution)] = [
        ("uniform", try! .uniform(lower: 2, upper: 5)),
        ("exponential", try! .exponential(mean: 0.7)),
        ("normal", try! .normal(mean: 3, standardDeviation: 2)),
        ("normal truncated at 0", try! .normal(mean: 0.5, standardDeviation: 1, lower: 0)),
        ("normal truncated to [1, 4] above the mean", try! .normal(mean: -1, standardDeviation: 1.5, lower: 1, upper: 4)),
        ("lognormal", try! .lognormal(mu: -0.5, sigma: 0.5)),
        ("gamma", try! .gamma(shape: 2.5, scale: 0.4)),
        ("weibull", try! .weibull(shape: 1.5, scale: 2)),
        ("pareto", try! .pareto(shape: 5, scale: 1)),
        ("beta", try! .beta(alpha: 2, beta: 5)),
        ("bernoulli", try! .bernoulli(p: 0.05)),
        ("empirical", try! .empirical(values: [1, 2, 2, 3, 10])),
    ]

    // 200,000 draws per case. The tolerance is 5 standard errors of each estimate (computed
    // from the sample itself); a correct sampler exceeds it with probability < 1e-6, and the
    // fixed seed makes the test deterministic.
    @Test("sample mean and variance match the closed forms within 5 standard errors", arguments: 0..<cases.count)
    func momentsMatchClosedForms(index: Int) {
        let (name, distribution) = Self.cases[index]
        let stream = testStream("distribution.\(name)")
        let moments = SampleMoments((0..<200_000).map { _ in distribution.sample(stream) })
        #expect(abs(moments.mean - distribution.mean) <= 5 * moments.meanError, "\(name): mean \(moments.mean) vs \(distribution.mean)")
        #expect(
            abs(moments.variance - distribution.variance) <= 5 * moments.varianceError,
            "\(name): variance \(moments.variance) vs \(distribution.variance)")
    }

    @Test("a constant is constant")
    func constant() throws {
        let constant = try Distribution.constant(1.25)
        let stream = testStream("constant")
        #expect((0..<10).allSatisfy { _ in constant.sample(stream) == 1.25 })
        #expect(constant.mean == 1.25 && constant.variance == 0)
    }

    @Test("a truncated normal never leaves its bounds")
    func truncatedNormalStaysInBounds() throws {
        let distribution = try Distribution.normal(mean: 0.2, standardDeviation: 1, lower: 0, upper: 0.5)
        let stream = testStream("truncated")
        #expect((0..<50_000).allSatisfy { _ in (0...0.5).contains(distribution.sample(stream)) })
    }

    // 200,000 draws: the sample quantile's standard error at p99 is about
    // √(0.99·0.01/n)/f(q) ≈ 0.4% of q here, so 3% is a wide, deterministic band.
    @Test("lognormal by median and p99 reproduces both quantiles")
    func lognormalByQuantiles() throws {
        let distribution = try Distribution.lognormal(median: 0.8, p99: 4.0)
        let stream = testStream("lognormal-quantiles")
        let sorted = (0..<200_000).map { _ in distribution.sample(stream) }.sorted()
        let median = sorted[100_000]
        let p99 = sorted[198_000]
        #expect(abs(median / 0.8 - 1) < 0.03)
        #expect(abs(p99 / 4.0 - 1) < 0.03)
    }

    @Test("impossible parameters are rejected with a message naming the parameter and the value")
    func invalidParameters() {
        let cases: [(() throws(StochasticsError) -> Distribution, String)] = [
            ({ () throws(StochasticsError) in try .exponential(mean: -1) }, "exponential: mean must be a finite number > 0, got -1.0"),
            ({ () throws(StochasticsError) in try .uniform(lower: 3, upper: 1) }, "uniform: lower must be < upper, got lower 3.0, upper 1.0"),
            ({ () throws(StochasticsError) in try .lognormal(mu: 0, sigma: 0) }, "lognormal: sigma must be a finite number > 0, got 0.0"),
            ({ () throws(StochasticsError) in try .lognormal(median: 2, p99: 1) }, "lognormal: p99 must be > median, got median 2.0, p99 1.0"),
            ({ () throws(StochasticsError) in try .gamma(shape: .nan, scale: 1) }, "gamma: shape must be a finite number > 0, got nan"),
            ({ () throws(StochasticsError) in try .bernoulli(p: 1.5) }, "bernoulli: p must be a probability in [0, 1], got 1.5"),
            ({ () throws(StochasticsError) in try .beta(alpha: 1, beta: -2) }, "beta: beta must be a finite number > 0, got -2.0"),
            ({ () throws(StochasticsError) in try .empirical(values: []) }, "empirical: needs at least one value, got none"),
            (
                { () throws(StochasticsError) in try .weibull(shape: 0.005, scale: 1) },
                "weibull: shape 0.005 is too small, its moments cannot be computed (gamma function at 201.0 failed: overflow (GSL status 16)); use a shape ≥ 0.02"
            ),
            (
                { () throws(StochasticsError) in try .normal(mean: 0, standardDeviation: 1, lower: 40, upper: 41) },
                "normal: truncation interval [40.0, 41.0] holds almost no probability (< 1e-12) for mean 0.0, standard deviation 1.0"
            ),
        ]
        for (make, message) in cases {
            #expect(throws: StochasticsError(message)) { try make() }
        }
    }

    @Test("empirical from a CSV column resamples exactly the column's values")
    func empiricalFromCSV() throws {
        let path = try temporaryFile("latency_s,model\n0.5,a\n1.5,\"b, with comma\"\n\n2.5,c\n")
        let distribution = try Distribution.empirical(csvFile: path, column: "latency_s")
        let stream = testStream("empirical-csv")
        let draws = Set((0..<1000).map { _ in distribution.sample(stream) })
        #expect(draws == [0.5, 1.5, 2.5])
    }

    @Test("a bad CSV gets file:line and what is valid")
    func csvErrors() throws {
        let path = try temporaryFile("latency_s,model\n0.5,a\nfast,b\n")
        #expect(throws: StochasticsError("\(path):3: column 'latency_s' holds 'fast', expected a finite number")) {
            try Distribution.empirical(csvFile: path, column: "latency_s")
        }
        #expect(throws: StochasticsError("\(path):1: no column 'latency'; columns are 'latency_s', 'model'")) {
            try Distribution.empirical(csvFile: path, column: "latency")
        }
        #expect(throws: StochasticsError("/nonexistent/trace.csv: file not found or not readable")) {
            try Distribution.empirical(csvFile: "/nonexistent/trace.csv", column: "t")
        }
    }
}

func temporaryFile(_ contents: String) throws -> String {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("brownout-test-\(UUID().uuidString).csv")
    try contents.write(to: url, atomically: true, encoding: .utf8)
    return url.path
}
