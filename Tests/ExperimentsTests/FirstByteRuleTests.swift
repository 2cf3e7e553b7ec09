import ConfigSchema
import Testing
@testable import Experiments
import GatewaySim
import RoutingCore
import SimulationKernel

/// Failover stops at the first byte: an attempt limit that fires after a stream's first token
/// reached the client cuts the answer, which neither the gateway nor the client's SDK tries
/// again. Before the first token the same limit is a timeout, which both retry. Constant
/// times, so every request takes the same path (no tolerance needed).
@Suite("The first-byte rule in the simulated gateway")
struct FirstByteRuleTests {
    /// 100 output tokens at 10 a second: each answer streams for 10 s after its first token;
    /// the route allows 2 s a try, 3 tries; the SDK would try twice more. No breaker, so
    /// every failure is the attempt limit's.
    static func spec(firstTokenSeconds: Double) -> String {
        """
        name: first-byte
        run: {duration_s: 300, replications: 1, seed: 3}
        providers:
          solo: {concurrency: 1000, ttft_s: {constant: \(firstTokenSeconds)}, output_tokens_per_s: {constant: 10},
                 input_usd_per_mtok: 1, output_usd_per_mtok: 1}
        routes:
          chat: {chain: [solo], retry: {max_attempts: 3, backoff: {kind: none}}, timeouts: {per_try_s: 2}}
        gateway: {breaker: none}
        teams:
          app: {route: chat, arrivals: {poisson: {rate_per_s: 1}}, input_tokens: {constant: 100}, output_tokens: {constant: 100}, sdk_retries: 2}
        """
    }

    func run(firstTokenSeconds: Double) throws -> TeamMetrics {
        let directory = try specDirectory(["spec.yaml": Self.spec(firstTokenSeconds: firstTokenSeconds)])
        let world = try ExperimentSpec(decoding: try SpecDocument.load(path: directory + "/spec.yaml", overrides: [])).world
        return try World.run(world, seed: 3, replication: 0).teams[0]
    }

    @Test("a limit after the first token: failed_after_first_byte, one attempt, no SDK retry")
    func cutAfterTheFirstByte() throws {
        let team = try run(firstTokenSeconds: 0.2)
        #expect(team.requests > 200)
        #expect(team.failures == ["failed_after_first_byte": team.requests])
        #expect(team.attempts.mean == 1 && team.attempts.maximum == 1)
        #expect(team.sdkRetries == 0)
    }

    @Test("a limit before the first token: timeout, every gateway attempt and every SDK try")
    func timeoutBeforeTheFirstByte() throws {
        let team = try run(firstTokenSeconds: 3)
        #expect(team.failures == ["timeout": team.requests])
        #expect(team.attempts.mean == 9 && team.attempts.minimum == 9, "3 gateway attempts in each of 3 SDK tries")
        #expect(team.sdkRetries == 2 * team.requests)
    }

    /// Two providers, a hedge after 2.5 s, answers that stream for 10 s after a first token at
    /// `firstTokenSeconds`: what the production gateway's conduct does with each request.
    static func hedgingSpec(firstTokenSeconds: Double, streamShare: Double = 1) -> String {
        """
        name: hedged-streams
        run: {duration_s: 300, replications: 1, seed: 3}
        providers:
          first: {concurrency: 1000, ttft_s: {constant: \(firstTokenSeconds)}, output_tokens_per_s: {constant: 10},
                  input_usd_per_mtok: 1, output_usd_per_mtok: 1}
          second: {concurrency: 1000, ttft_s: {constant: \(firstTokenSeconds)}, output_tokens_per_s: {constant: 10},
                   input_usd_per_mtok: 1, output_usd_per_mtok: 1}
        routes:
          chat: {chain: [first, second], retry: {max_attempts: 3, backoff: {kind: none}}, hedging: {after_s: 2.5}}
        gateway: {breaker: none}
        teams:
          app: {route: chat, arrivals: {poisson: {rate_per_s: 1}}, input_tokens: {constant: 100}, output_tokens: {constant: 100}, stream_share: \(streamShare)}
        """
    }

    func runHedging(firstTokenSeconds: Double, streamShare: Double = 1) throws -> TeamMetrics {
        let directory = try specDirectory(["spec.yaml": Self.hedgingSpec(firstTokenSeconds: firstTokenSeconds, streamShare: streamShare)])
        let world = try ExperimentSpec(decoding: try SpecDocument.load(path: directory + "/spec.yaml", overrides: [])).world
        return try World.run(world, seed: 3, replication: 0).teams[0]
    }

    @Test("a stream whose first byte reached the client before the hedge delay is never hedged: one attempt per request")
    func noHedgeAfterTheFirstByte() throws {
        let team = try runHedging(firstTokenSeconds: 0.8)
        #expect(team.requests > 200)
        #expect(team.hedges == 0)
        #expect(team.attempts.mean == 1 && team.attempts.maximum == 1)
        #expect(team.failed == 0)
    }

    @Test("a hedge sent before any first byte races the first attempt: the first byte takes the client, the other is cancelled")
    func hedgeBeforeTheFirstByte() throws {
        let team = try runHedging(firstTokenSeconds: 3)
        #expect(team.hedges == team.requests)
        #expect(team.attempts.mean == 2 && team.attempts.minimum == 2)
        #expect(team.failed == 0)
    }

    @Test("a whole answer reaches the client only at its end: a first token at 0.8 s does not stop the hedge at 2.5 s")
    func wholeAnswersAreHedged() throws {
        let team = try runHedging(firstTokenSeconds: 0.8, streamShare: 0)
        #expect(team.requests > 200)
        #expect(team.hedges == team.requests)
        #expect(team.attempts.mean == 2 && team.attempts.minimum == 2)
        #expect(team.failed == 0)
        // The client's first byte is the end: 0.8 s + 10 s of output from the first attempt.
        #expect(team.firstTokenLatency.seconds(atPercentile: 50) >= 10.7)
    }

    @Test("half the requests whole: those, and only those, are hedged (each request's choice drawn from its team's own stream)")
    func mixedStreamsAndWholeAnswers() throws {
        let team = try runHedging(firstTokenSeconds: 0.8, streamShare: 0.5)
        // A binomial share over about 300 requests: the standard error is under 0.03, and 0.3
        // to 0.7 is more than 6 of them either side; the seed is fixed, so it cannot flake.
        let share = Double(team.hedges) / Double(team.requests)
        #expect(share > 0.3 && share < 0.7, "\(share)")
        #expect(team.attempts.maximum == 2 && team.attempts.minimum == 1)
    }
}
