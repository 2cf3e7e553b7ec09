import GatewaySim
import RoutingCore
import Stochastics
import Testing
@testable import Twin

/// The live upstream model decides like the simulated provider: limits first, then a free
/// server, then the queue, then 529. These tests steer it by health state, not by waiting,
/// so that no outcome depends on how fast the machine is.
@Suite("Live upstream: the simulated provider's admission, served in real time")
struct LiveUpstreamTests {
    /// Two servers; in `half` one is left. Service takes 1,000 s of model time at scale 1, so
    /// nothing is released while a test runs.
    static func provider(limits: RateLimit? = nil) throws -> ProviderSpec {
        ProviderSpec(
            name: "alpha", concurrency: 2, queueLimit: 1, timeToFirstTokenSeconds: try .constant(500),
            outputTokensPerSecond: try .constant(0.02), inputPricePerMillion: 1, outputPricePerMillion: 1, limits: limits,
            states: [.healthy, HealthStateSpec(name: "half", capacityFraction: 0.5, retryAfterSeconds: 7)])
    }

    static let clock = ScaledClock()

    @Test("a free server serves, a full one queues, a full queue answers 529 with the state's Retry-After; more capacity admits the queue")
    func admission() async throws {
        let upstream = LiveUpstream(.provider(try Self.provider()), clock: Self.clock, seed: 1, replication: 0)
        upstream.setHealth(1)
        guard case .served(let plan, _) = await upstream.answer(inputTokens: 10, outputTokens: 10) else {
            Issue.record("the first attempt is served")
            return
        }
        #expect(plan.outcome == .success && abs(plan.firstTokenSeconds - 500) < 1e-9 && abs(plan.seconds - 1_000) < 1e-6)
        let queued = Task { await upstream.answer(inputTokens: 10, outputTokens: 10) }
        while upstream.counts.maxQueued < 1 { await Task.yield() }
        guard case .refused(let outcome, let after, let retryAfter) = await upstream.answer(inputTokens: 10, outputTokens: 10) else {
            Issue.record("the third attempt finds the queue full")
            return
        }
        #expect(outcome == .overloaded && after == ProviderSpec.overloadSeconds && retryAfter == 7)
        upstream.setHealth(0)
        guard case .served = await queued.value else {
            Issue.record("the queued attempt is served once a server is usable")
            return
        }
        #expect(upstream.counts == LiveUpstreamCounts(attempts: 3, served: 2, refused: 1, maxBusy: 2, maxQueued: 1, maxReplicas: 0))
    }

    /// One request a minute: the burst is one, so the second is refused with the time to
    /// the next token, just under 60 s (the clock moved a little between the two).
    @Test("over the organisation's limit: 429 with the time until the bucket refills")
    func rateLimit() async throws {
        let upstream = LiveUpstream(
            .provider(try Self.provider(limits: RateLimit(requestsPerMinute: 1, tokensPerMinute: nil))),
            clock: Self.clock, seed: 1, replication: 0)
        guard case .served = await upstream.answer(inputTokens: 10, outputTokens: 10) else {
            Issue.record("the first attempt is within the limit")
            return
        }
        guard case .refused(let outcome, _, let retryAfter?) = await upstream.answer(inputTokens: 10, outputTokens: 10) else {
            Issue.record("the second attempt is over the limit")
            return
        }
        #expect(outcome == .rateLimited && retryAfter > 50 && retryAfter <= 60)
    }

    @Test("a pool serves replicas × concurrency at once and its queue, then refuses at once")
    func pool() async throws {
        let spec = FallbackPoolSpec(
            name: "gpu", replicas: 1, maxConcurrencyPerReplica: 1, queueLimit: 0, replicaOutputTokensPerSecond: 0.01,
            timeToFirstTokenSeconds: try .constant(1_000), gpusPerReplica: 4, gpuPricePerHour: 1)
        let upstream = LiveUpstream(.pool(spec), clock: Self.clock, seed: 1, replication: 0)
        guard case .served(let plan, _) = await upstream.answer(inputTokens: 10, outputTokens: 10) else {
            Issue.record("the pool serves its first attempt")
            return
        }
        #expect(abs(plan.gpuSeconds! - plan.seconds * 4) < 1e-6, "one request a replica: all four GPUs for its whole service")
        guard case .refused(.overloaded, let after, nil) = await upstream.answer(inputTokens: 10, outputTokens: 10) else {
            Issue.record("a full pool refuses")
            return
        }
        #expect(after == 0)
    }
}
