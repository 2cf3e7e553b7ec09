import ConfigSchema
import Foundation
import Testing
@testable import Experiments
import GatewaySim
import RoutingCore

/// The live twin's mock providers follow ``HealthTimeline``; the simulator's replications,
/// conditioned on the same history, play it through their ``HealthDriver``. Both must be
/// the same history, to the nanosecond.
@Suite("Health timeline: the history the twin follows is the one the simulation plays")
struct HealthTimelineTests {
    /// Three providers under overlapping processes: random outages on two, a shared regime
    /// on two, a scripted incident on one; two states beyond healthy, so "the worst wins"
    /// matters. No warm-up, so the simulation records every nanosecond from zero.
    static let spec = """
        name: overlapping-health
        run: {duration_s: 3600, replications: 1, seed: 11, bucket_s: 60}
        providers:
          alpha: {concurrency: 4, ttft_s: {constant: 0.5}, output_tokens_per_s: {constant: 100}, input_usd_per_mtok: 1, output_usd_per_mtok: 1,
                  states: {slow: {latency_x: 2}, down: {errors: {server_error_5xx: 1}}}}
          beta: {concurrency: 4, ttft_s: {constant: 0.5}, output_tokens_per_s: {constant: 100}, input_usd_per_mtok: 1, output_usd_per_mtok: 1,
                 states: {slow: {latency_x: 2}, down: {errors: {server_error_5xx: 1}}}}
          gamma: {concurrency: 4, ttft_s: {constant: 0.5}, output_tokens_per_s: {constant: 100}, input_usd_per_mtok: 1, output_usd_per_mtok: 1,
                  states: {slow: {latency_x: 2}, down: {errors: {server_error_5xx: 1}}}}
        routes:
          chat: {chain: [[alpha, beta, gamma]]}
        teams:
          app: {route: chat, arrivals: {poisson: {rate_per_s: 0.5}}, input_tokens: {constant: 10}, output_tokens: {constant: 10}}
        degradation:
          - name: alpha-outages
            two_state: {provider: alpha, mtbf_s: 600, mttr_s: 120, down_state: down}
          - name: beta-outages
            two_state: {provider: beta, mtbf_s: 900, mttr_s: 200, down_state: down}
          - name: regime
            shared_regime:
              regimes: [normal, squeeze]
              mean_sojourn_s: [500, 300]
              initial: normal
              targets: {alpha: [healthy, slow], gamma: [healthy, slow]}
          - name: afternoon
            script: [{provider: gamma, from: 1000, to: 1500, state: down}]
        """

    func load() throws -> ExperimentSpec {
        let directory = try specDirectory(["spec.yaml": Self.spec])
        return try ExperimentSpec(decoding: try SpecDocument.load(path: directory + "/spec.yaml", overrides: []))
    }

    /// Nanoseconds outside the healthy state per bucket up to the horizon, from a timeline.
    func degradedPerBucket(_ changes: [HealthTimeline.Change], horizon: Int64, bucket: Int64) -> [Int64] {
        var buckets: [Int64] = []
        for (index, change) in changes.enumerated() where change.state != 0 {
            let end = min(horizon, index + 1 < changes.count ? changes[index + 1].nanoseconds : horizon)
            var from = change.nanoseconds
            while from < end {
                let slot = Int(from / bucket)
                let until = min(end, (Int64(slot) + 1) * bucket)
                if buckets.count <= slot { buckets += Array(repeating: 0, count: slot + 1 - buckets.count) }
                buckets[slot] += until - from
                from = until
            }
        }
        return buckets
    }

    @Test("each provider's degraded time per bucket is the simulation's, for several pinned histories")
    func timelineIsTheSimulationsHistory() throws {
        var world = try load().world
        let horizon = Seconds.nanoseconds(world.durationSeconds), bucket = Seconds.nanoseconds(world.bucketSeconds)
        var histories: [[[Int64]]] = []
        for history in 0..<3 {
            let timeline = try HealthTimeline.play(world, seed: 11, replication: history)
            #expect(timeline.providers.allSatisfy { $0.first?.nanoseconds == 0 })
            #expect(
                timeline.providers.allSatisfy { changes in
                    zip(changes, changes.dropFirst()).allSatisfy { $0.nanoseconds < $1.nanoseconds && $0.state != $1.state }
                })
            #expect(timeline.providers[1].contains { $0.state == 2 }, "beta goes down in 3,600 s (mean time between failures 900 s)")
            world.healthReplication = history
            // Another replication's arrivals and draws, the pinned history's health.
            let result = try World.run(world, seed: 11, replication: 7)
            let expected = timeline.providers.map { degradedPerBucket($0, horizon: horizon, bucket: bucket) }
            for (index, upstream) in result.upstreams.prefix(3).enumerated() {
                let simulated = upstream.degradedPerBucket
                let count = max(simulated.count, expected[index].count)
                #expect(
                    simulated + Array(repeating: 0, count: count - simulated.count)
                        == expected[index] + Array(repeating: 0, count: count - expected[index].count), "\(upstream.name), history \(history)")
            }
            histories.append(expected)
        }
        #expect(histories[0] != histories[1] && histories[1] != histories[2], "different replications, different histories")
    }

    @Test("the scripted incident and the worst state win where processes overlap")
    func scriptAndWorstState() throws {
        let world = try load().world
        let timeline = try HealthTimeline.play(world, seed: 11, replication: 0)
        let gamma = timeline.providers[2]
        func state(at seconds: Int64) -> Int { gamma.last { $0.nanoseconds <= seconds * 1_000_000_000 }!.state }
        // Down (2) throughout the script, whatever the regime says (slow, 1, at most).
        for second in stride(from: Int64(1000), to: 1500, by: 10) { #expect(state(at: second) == 2) }
        #expect(state(at: 1500) != 2)
    }
}
