import ConfigSchema
import Foundation
import Testing
@testable import Experiments
import GatewaySim
import RoutingCore
import SimulationKernel
import Stochastics

@Suite("What a review reads: intervals, means, providers, the day's clock")
struct ReportOutputTests {
    func spec(_ text: String) throws -> ExperimentSpec {
        let directory = try specDirectory(["models/alpha.yaml": minimalProvider, "spec.yaml": text])
        return try ExperimentSpec(decoding: try SpecDocument.load(path: directory + "/spec.yaml", overrides: []))
    }

    @Test("an interval for a proportion stays in [0, 1]; other intervals are the Student-t interval")
    func boundedIntervals() {
        // Replication availabilities like the flagship's: 98.2% ± 4.2 points reaches 102.4%.
        let values = [1.0, 1.0, 1.0, 0.93, 1.0, 0.95, 1.0, 0.98]
        let t = MeanInterval(values)
        #expect(t.upper > 1)
        let bounded = t.bounded(to: 0...1)
        #expect(bounded.mean == t.mean && bounded.lower == t.lower && bounded.upper == 1)
        #expect(MeanInterval([0.0, 0.01, 0.0]).bounded(to: 0...1).lower == 0)
        let inside = MeanInterval([0.4, 0.5, 0.6])
        #expect(inside.bounded(to: 0...1) == inside, "an interval inside the range is unchanged")
    }

    @Test("summary.csv: availability intervals within [0, 1], mean latencies, provider and pool scopes")
    func summaryRows() throws {
        let experiment = try spec(
            minimalSpec + """

                degradation:
                  - name: outage
                    script: [{provider: alpha, from: 10, to: 30, state: down}]
                """)
        let results = try (0..<2).map { try World.run(experiment.world, seed: 3, replication: $0) }
        let report = ExperimentReport(spec: experiment, results: results)
        let rows = report.summary()
        for row in rows where ExperimentReport.proportionMetrics.contains(row.metric) {
            #expect(row.interval.lower >= 0 && row.interval.upper <= 1, "\(row.scope) \(row.metric)")
        }
        let latencyMean = try #require(rows.first { $0.scope == "app" && $0.metric == "latency_mean_s" })
        let expected = results.map { $0.teams[0].totalLatency.meanSeconds }.reduce(0, +) / 2
        #expect(abs(latencyMean.interval.mean - expected) < 1e-12)
        #expect(latencyMean.interval.mean > 0.5 && latencyMean.interval.mean < 5, "0.5 s to the first token, 50 tokens at 100/s, retries")
        #expect(rows.contains { $0.scope == "app" && $0.metric == "first_token_mean_s" })
        let degraded = try #require(rows.first { $0.scope == "provider:alpha" && $0.metric == "degraded_time_share" })
        // Down 20 s of the run, which ends when its last request drains, a little after 60 s.
        let share = results.map { 20e9 / Double($0.measuredNanoseconds) }.reduce(0, +) / 2
        #expect(abs(degraded.interval.mean - share) < 1e-9 && share < 1.0 / 3)
        #expect(rows.contains { $0.scope == "provider:alpha" && $0.metric == "errors_server_error_5xx" && $0.interval.mean > 0 })
    }

    @Test("start_time: script times are the day's, and the summary names the worst window by the day's clock")
    func startTime() throws {
        let experiment = try spec(
            minimalSpec.replacingOccurrences(
                of: "run: {duration_s: 60, replications: 2, seed: 4}",
                with: "run: {duration_s: 3600, replications: 1, seed: 4, bucket_s: 300, start_time: \"11:00\"}") + """

                    degradation:
                      - name: afternoon
                        script: [{provider: alpha, from: "11:20", to: "11:30", state: down}]
                    """)
        #expect(experiment.startOfDaySeconds == 39_600)
        let run = try World.run(experiment.world, seed: 4, replication: 0)
        #expect(run.upstreams[0].timeInState[1] == 600_000_000_000, "down from run time 20:00 to 30:00")
        let summary = ExperimentReport(spec: experiment, results: [run]).plainSummary()
        // The bucket from 11:20 still answers requests sent before the outage; 11:25 answers none.
        #expect(summary.contains("The worst 300-second window began at 11:25, with 0.0% of requests answered."), "\(summary)")
        // Without start_time the same script is run time: 11:20 after the start, beyond the run.
        let bad = try? spec(minimalSpec + "\ndegradation:\n  - {name: x, script: [{provider: alpha, from: \"25:00\", to: \"26:00\", state: down}]}\n")
        #expect(bad != nil, "run time may pass 24:00 without a start_time")
        #expect(throws: SpecError.self) {
            try spec(minimalSpec.replacingOccurrences(of: "seed: 4}", with: "seed: 4, start_time: \"25:00\"}"))
        }
    }

    @Test("a state whose capacity leaves no server is linted: it is a full outage")
    func capacityLint() throws {
        let oneServer = minimalSpec + "\nproviders:\n  alpha:\n    concurrency: 1\n    states:\n      half: {capacity: 0.5}\n"
        let experiment = try spec(oneServer)
        #expect(
            experiment.warnings.contains(
                "providers.alpha.states.half.capacity: 0.5 of 1 server rounds down to none: in this state the provider serves nothing (its queue waits for the state to end)"
            ))
        #expect(try spec(minimalSpec).warnings.allSatisfy { !$0.contains(".capacity:") }, "10 servers at the default capacity: no finding")
    }

    @Test("more than 64 providers and pools: one clear error at the providers")
    func targetLimit() throws {
        var text = "name: many\nrun: {duration_s: 60}\nproviders:\n"
        for index in 0..<65 {
            text +=
                "  p\(index): {concurrency: 1, ttft_s: {constant: 1}, output_tokens_per_s: {constant: 10}, input_usd_per_mtok: 1, output_usd_per_mtok: 1}\n"
        }
        text +=
            "routes:\n  chat: {chain: [[p0]]}\nteams:\n  app: {route: chat, arrivals: {poisson: {rate_per_s: 1}}, input_tokens: {constant: 1}, output_tokens: {constant: 1}}\n"
        let directory = try specDirectory(["spec.yaml": text])
        #expect(throws: SpecError.self) { try ExperimentSpec(decoding: try SpecDocument.load(path: directory + "/spec.yaml")) }
        do {
            _ = try ExperimentSpec(decoding: try SpecDocument.load(path: directory + "/spec.yaml"))
        } catch {
            #expect(
                error.description.hasSuffix(
                    "spec.yaml:4:3: providers: at most 64 providers and pools together (the router keeps the targets a request has tried in a 64-bit mask), got 65: 65 providers and 0 pools"
                ), "\(error.description)")
        }
    }
}
