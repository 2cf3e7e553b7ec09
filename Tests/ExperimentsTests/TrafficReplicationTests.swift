import ConfigSchema
import Testing
@testable import Experiments
import GatewaySim
import RoutingCore
import SimulationKernel

/// The live twin sends one replication's traffic; the simulator's replications it compares
/// with send that same traffic (``WorldSpec/trafficReplication``) and draw everything else
/// (upstream latencies, errors) afresh.
@Suite("Traffic replication: every replication sends the pinned replication's requests")
struct TrafficReplicationTests {
    /// Every request succeeds at its first attempt (no errors, no queue), so the spend is a
    /// function of the requests' sizes alone; latencies are random at the provider.
    static let spec = """
        name: pinned-traffic
        run: {duration_s: 600, replications: 1, seed: 23}
        providers:
          solo: {concurrency: 1000, ttft_s: {lognormal: {median: 0.5, p99: 3}}, output_tokens_per_s: {normal: {mean: 100, sd: 20, lower: 20}},
                 input_usd_per_mtok: 3, output_usd_per_mtok: 15}
        routes:
          chat: {chain: [solo]}
        teams:
          app: {route: chat, arrivals: {poisson: {rate_per_s: 5}}, input_tokens: {lognormal: {median: 1500, p99: 12000}},
                output_tokens: {lognormal: {median: 350, p99: 2000}}}
        """

    @Test("requests and spend are the pinned replication's in every replication; latencies are not")
    func trafficIsPinned() throws {
        let directory = try specDirectory(["spec.yaml": Self.spec])
        var world = try ExperimentSpec(decoding: try SpecDocument.load(path: directory + "/spec.yaml", overrides: [])).world
        let own = try World.run(world, seed: 23, replication: 3)
        let other = try World.run(world, seed: 23, replication: 5)
        #expect(own.teams[0].requests != other.teams[0].requests, "unpinned, replications send different traffic")

        world.trafficReplication = 3
        for replication in [0, 5, 9] {
            let pinned = try World.run(world, seed: 23, replication: replication)
            #expect(pinned.teams[0].requests == own.teams[0].requests, "replication \(replication)")
            // The same sizes, each billed once: the same spend, to rounding in the sum.
            #expect(
                abs(pinned.ledger.teams[0].totalUSD - own.ledger.teams[0].totalUSD) < 1e-9 * own.ledger.teams[0].totalUSD,
                "replication \(replication)")
            #expect(
                pinned.teams[0].totalLatency.seconds(atPercentile: 50) != own.teams[0].totalLatency.seconds(atPercentile: 50),
                "replication \(replication) draws its own latencies")
        }
    }
}
