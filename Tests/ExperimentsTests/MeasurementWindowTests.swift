import ConfigSchema
import Foundation
import Testing
@testable import Experiments
import GatewaySim
import RoutingCore
import SimulationKernel

/// The measured window is [end of warm-up, end of run], the end of the run being the horizon
/// (`run.duration_s`) or the end of the drain if that comes later — never the last event.
@Suite("Warm-up and horizon: one measured window for every table")
struct MeasurementWindowTests {
    let pool = """

        pools:
          gpu: {replicas: 2, concurrency_per_replica: 4, queue: 8, replica_output_tokens_per_s: 1000, ttft_s: {constant: 0.2}, gpus_per_replica: 1, gpu_usd_per_hour: 3.6}
        """

    func spec(_ text: String) throws -> ExperimentSpec {
        let directory = try specDirectory(["models/alpha.yaml": minimalProvider, "spec.yaml": text])
        return try ExperimentSpec(decoding: try SpecDocument.load(path: directory + "/spec.yaml", overrides: []))
    }

    /// Traffic only in the first 200 s of 1,000; alpha is down from 300 s to 700 s, when no
    /// request is left. Exactly: alpha was degraded 40% of the run, and the two one-GPU
    /// replicas of the pool were online for 2 × 1,000 s = 0.5556 GPU-hours, $2.00 at $3.60 an
    /// hour. Integrating only to the last event (about 200 s) gives 0% and a fifth of the cost.
    @Test("time averages run to the end of the run when traffic stops early")
    func quietNight() throws {
        let experiment = try spec(
            """
            name: quiet-night
            include: [models/alpha.yaml]
            run: {duration_s: 1000, replications: 1, seed: 4, bucket_s: 100}
            routes:
              chat: {chain: [[alpha]], fallback: {pools: [gpu]}}
            teams:
              app:
                route: chat
                arrivals: {diurnal: {segments: [{duration_s: 200, rate_per_s: 2}, {duration_s: 800, rate_per_s: 0}], repeat: false}}
                input_tokens: {constant: 100}
                output_tokens: {constant: 50}
            degradation:
              - name: night-outage
                script: [{provider: alpha, from: 300, to: 700, state: down}]
            """ + pool)
        let run = try World.run(experiment.world, seed: 4, replication: 0)
        #expect(run.endNanoseconds == 1_000_000_000_000)
        let report = ExperimentReport(spec: experiment, results: [run])
        let rows = report.perProviderRows()
        let header = ExperimentReport.perProviderHeader
        func value(_ upstream: String, _ column: String) -> Double? {
            rows.first { $0[1] == upstream }.flatMap { Double($0[header.firstIndex(of: column)!]) }
        }
        #expect(value("alpha", "degraded_time_share") == 0.4)
        #expect(value("gpu", "gpu_hours").map { abs($0 - 2_000.0 / 3_600) < 1e-8 } == true, "\(String(describing: value("gpu", "gpu_hours")))")
        #expect(value("gpu", "gpu_usd").map { abs($0 - 2) < 1e-7 } == true)
        #expect(value("gpu", "replicas_mean") == 2)
        // Buckets 3 to 6 are the outage, whole; the provider's time series says so.
        let series = report.providerTimeSeriesRows().filter { $0[2] == "alpha" }.map { Double($0[4])! }
        #expect(series == [0, 0, 0, 1, 1, 1, 1, 0, 0, 0])
        #expect(report.plainSummary().contains("Keeping the local pools online cost $2.00 in GPU time"))
    }

    /// 1,000 s at 2 requests a second, the first 500 s warm-up, one attempt per request sent at
    /// once: the provider's counts cover exactly the requests the team counts. Spend is charged
    /// when a request settles, so a request still in flight when the warm-up ends (1 s of
    /// service; about 2 of them) is charged after it: the spend is within those of
    /// requests × $0.00105 (100 input tokens at $3, 50 output at $15 per million).
    @Test("upstreams, spend and breakers leave out the warm-up as the teams do")
    func warmUp() throws {
        let experiment = try spec(
            minimalSpec.replacingOccurrences(
                of: "run: {duration_s: 60, replications: 2, seed: 4}",
                with: "run: {duration_s: 1000, warmup_s: 500, replications: 1, seed: 4}"))
        let run = try World.run(experiment.world, seed: 4, replication: 0)
        let team = run.teams[0], alpha = run.upstreams[0]
        #expect(team.requests > 900 && team.requests < 1_100, "about 1,000 requests after the warm-up: \(team.requests)")
        #expect(alpha.offered == team.requests)
        #expect(alpha.accepted == team.requests)
        let charged = run.ledger.teams[0].totalUSD / 0.001_05
        #expect(charged >= Double(team.requests) - 1e-6 && charged <= Double(team.requests) + 10, "\(charged) requests' worth for \(team.requests)")
        let busy = alpha.busy.average(at: run.endNanoseconds)
        #expect(busy > 1.8 && busy < 2.2, "2/s × 1 s of service: 2 busy servers on average over the measured half: \(busy)")
    }
}
