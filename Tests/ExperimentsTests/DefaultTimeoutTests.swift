import ConfigSchema
import Testing
@testable import Experiments
import GatewaySim
import RoutingCore
import SimulationKernel

/// No request waits forever in the simulator either: a route that writes no timeouts gets
/// RoutingCore's defaults, the same the production gateway applies. A provider whose first
/// token never comes (a hang far longer than any limit) is ended by them. Arrivals every 10 s
/// from 5 s and constant times: every request takes the same path, and the run's end (its
/// last request's) says exactly how long each waited (no tolerance needed).
@Suite("Default timeouts in the simulated gateway")
struct DefaultTimeoutTests {
    static func spec(retry: String) -> String {
        """
        name: default-timeouts
        run: {duration_s: 3000, warmup_s: 0, replications: 1, seed: 5}
        providers:
          silent: {concurrency: 1000, ttft_s: {constant: 100000}, output_tokens_per_s: {constant: 10}, hang_s: 100000,
                   input_usd_per_mtok: 1, output_usd_per_mtok: 1}
        routes:
          chat: {chain: [silent], retry: \(retry)}
        gateway: {breaker: none}
        teams:
          app: {route: chat, arrivals: {replay: {file: arrivals.csv}}, input_tokens: {constant: 100}, output_tokens: {constant: 10}, stream_share: 0.5}
        """
    }

    func run(retry: String) throws -> ReplicationResult {
        let arrivals = "timestamp_s\n" + stride(from: 5, to: 3_000, by: 10).map { "\($0)\n" }.joined()
        let directory = try specDirectory(["spec.yaml": Self.spec(retry: retry), "arrivals.csv": arrivals])
        let world = try ExperimentSpec(decoding: try SpecDocument.load(path: directory + "/spec.yaml", overrides: [])).world
        return try World.run(world, seed: 5, replication: 0)
    }

    @Test("one attempt: the default first-token limit (300 s) ends it as a timeout, streamed or whole")
    func firstTokenDefault() throws {
        let result = try run(retry: "{max_attempts: 1}")
        let team = result.teams[0]
        #expect(team.requests == 300 && team.failures == ["timeout": 300] && team.attempts.maximum == 1, "\(team.failures)")
        // The last request arrived at 2,995 s; the run ends when it does.
        #expect(result.endNanoseconds == (2_995 + 300) * 1_000_000_000)
    }

    @Test("retries without end in sight: the default overall limit (600 s) ends the request")
    func overallDefault() throws {
        let result = try run(retry: "{max_attempts: 5, backoff: {kind: none}}")
        let team = result.teams[0]
        #expect(team.failures.values.reduce(0, +) == 300, "\(team.failures)")
        #expect(team.attempts.maximum == 2 && team.attempts.minimum == 2, "two 300 s attempts fill the 600 s")
        #expect(result.endNanoseconds == (2_995 + 600) * 1_000_000_000)
    }
}
