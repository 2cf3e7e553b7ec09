import Testing
import GatewaySim
import RoutingCore
import SimulationKernel
import Stochastics

/// The simulated gateway carries out the stream rules the production gateway does — the idle
/// limit, the route's choice about malformed events, a stream complete without `[DONE]` — and
/// the context-window fallback, on upstreams whose health states commit the faults. Every
/// expectation here is exact: the upstreams are deterministic (constant first-token time,
/// output rate and sizes), so each request's fate and timing follow from the rules alone.
@Suite("The simulated gateway under stream faults")
struct StreamConductTests {
    /// 0.5 s to the first token, then `tokens` tokens at `rate` a second.
    func upstream(_ name: String, rate: Double = 10, states: [HealthStateSpec] = [.healthy], contextWindow: Int? = nil) throws -> ProviderSpec {
        var spec = ProviderSpec(
            name: name, concurrency: 1_000, timeToFirstTokenSeconds: try .constant(0.5), outputTokensPerSecond: try .constant(rate),
            inputPricePerMillion: 3, outputPricePerMillion: 15, states: states)
        spec.contextWindowTokens = contextWindow
        return spec
    }

    /// One team sending 2 requests a second for 60 s, each of 100 tokens in and 20 out (2 s of
    /// output at 10 a second), over route `chat` to `alpha` (and `big`, a larger model).
    func world(alpha: ProviderSpec, big: ProviderSpec? = nil, route: RouteConfig, streamShare: Double = 1) throws -> WorldSpec {
        let providers = [alpha] + (big.map { [$0] } ?? [])
        let router = RouterConfig(
            targets: providers.map { TargetConfig(name: $0.name, inputPricePerMillion: 3, outputPricePerMillion: 15) },
            routes: [route], teams: [TeamConfig(name: "search", tier: 0)], health: HealthConfig(breaker: nil))
        var team = TeamSpec(
            name: "search", arrivals: try PoissonArrivals(ratePerSecond: 2), inputTokens: try .constant(100), outputTokens: try .constant(20),
            route: "chat")
        team.streamShare = streamShare
        return WorldSpec(
            providers: providers, pools: [], router: router, teams: [team], degradation: [], durationSeconds: 60, warmUpSeconds: 0, bucketSeconds: 60)
    }

    func route(idle: Double? = nil, onMalformedEvent: MalformedEventPolicy = .drop, contextFallbacks: [String] = []) -> RouteConfig {
        RouteConfig(
            name: "chat", chain: [TierConfig(targets: ["alpha"])], retry: RetryPolicy(maxAttempts: 1), timeouts: Timeouts(idleSeconds: idle),
            contextWindowFallbacks: contextFallbacks, onMalformedEvent: onMalformedEvent)
    }

    @Test("a stream that stalls is cut at the stall plus the idle limit (a failure after its first byte), not at the request's 600 s")
    func stallCutAtIdle() throws {
        let stalling = HealthStateSpec(name: "stalling", streamFaultMix: [(.stall, 1)])
        let cut = try World.run(try world(alpha: try upstream("alpha", states: [stalling]), route: route(idle: 1)), seed: 3, replication: 0)
        let team = try #require(cut.teams.first)
        #expect(team.requests > 90 && team.succeeded == 0 && team.failures == ["failed_after_first_byte": team.requests], "\(team.failures)")
        // The last request arrives before 60 s; it stalls by 0.5 + 2 s and is cut 1 s later.
        #expect(cut.endNanoseconds <= 63_500_000_000, "\(cut.endNanoseconds)")
        // Without an idle limit in reach, the stall lasts until the overall limit (600 s).
        let held = try World.run(try world(alpha: try upstream("alpha", states: [stalling]), route: route(idle: 10_000)), seed: 3, replication: 0)
        #expect(held.endNanoseconds >= 600_000_000_000 && held.teams[0].failures == ["failed_after_first_byte": held.teams[0].requests])
    }

    @Test("frames further apart than the idle limit: cut at the first token plus the limit; closer: never")
    func gapsBetweenFrames() throws {
        // 0.2 tokens a second: a frame every 5 s.
        let slow = try upstream("alpha", rate: 0.2)
        let cut = try World.run(try world(alpha: slow, route: route(idle: 4)), seed: 4, replication: 0)
        #expect(cut.teams[0].succeeded == 0 && cut.teams[0].failures == ["failed_after_first_byte": cut.teams[0].requests])
        #expect(cut.endNanoseconds <= 64_500_000_000)
        let kept = try World.run(try world(alpha: slow, route: route(idle: 6)), seed: 4, replication: 0)
        #expect(kept.teams[0].failed == 0 && kept.teams[0].succeeded == kept.teams[0].requests)
        // A whole answer shows no frames: never cut by the idle limit.
        let whole = try World.run(try world(alpha: slow, route: route(idle: 4), streamShare: 0), seed: 4, replication: 0)
        #expect(whole.teams[0].failed == 0)
    }

    @Test("a malformed event amid a good stream: harmless where the route drops it, a cut where it fails on it; an unterminated stream is a success")
    func malformedAndUnterminated() throws {
        let malformed = HealthStateSpec(name: "malformed", streamFaultMix: [(.malformedEvent, 1)])
        let dropped = try World.run(try world(alpha: try upstream("alpha", states: [malformed]), route: route()), seed: 5, replication: 0)
        #expect(dropped.teams[0].failed == 0 && dropped.teams[0].succeeded == dropped.teams[0].requests)
        let failed = try World.run(
            try world(alpha: try upstream("alpha", states: [malformed]), route: route(onMalformedEvent: .fail)), seed: 5, replication: 0)
        #expect(failed.teams[0].succeeded == 0 && failed.teams[0].failures == ["failed_after_first_byte": failed.teams[0].requests])
        let unterminated = HealthStateSpec(name: "unterminated", streamFaultMix: [(.unterminated, 1)])
        let finished = try World.run(try world(alpha: try upstream("alpha", states: [unterminated]), route: route()), seed: 5, replication: 0)
        #expect(finished.teams[0].failed == 0 && finished.teams[0].succeeded == finished.teams[0].requests)
    }

    @Test("a prompt over the model's context window: refused (400) and passed back, or answered by the route's larger-context target")
    func contextWindow() throws {
        let small = try upstream("alpha", contextWindow: 50)
        let refused = try World.run(try world(alpha: small, big: try upstream("big"), route: route()), seed: 6, replication: 0)
        #expect(refused.teams[0].succeeded == 0 && refused.teams[0].failures == ["client_error_4xx": refused.teams[0].requests])
        let rescued = try World.run(
            try world(alpha: small, big: try upstream("big"), route: route(contextFallbacks: ["big"])), seed: 6, replication: 0)
        let team = rescued.teams[0]
        #expect(team.failed == 0 && team.succeeded == team.requests)
        #expect(team.attempts.mean == 2, "each request: refused by alpha, answered by big")
        #expect(
            rescued.upstreams[1].accepted == team.requests && rescued.upstreams[0].accepted == 0
                && rescued.upstreams[0].errors[.clientError] == team.requests)
    }

    @Test("a health state's draw is split over its classes, then its stream faults, in the order given")
    func faultDraw() {
        let state = HealthStateSpec(name: "mixed", errorMix: [(.overloaded, 0.3)], streamFaultMix: [(.stall, 0.2), (.malformedEvent, 0.1)])
        #expect(abs(state.failureProbability - 0.6) < 1e-12, "a sum of three doubles")
        #expect(state.failure(for: 0.29) == .overloaded && state.streamFault(for: 0.29) == nil)
        #expect(state.failure(for: 0.31) == nil && state.streamFault(for: 0.31) == .stall)
        #expect(state.streamFault(for: 0.55) == .malformedEvent && state.streamFault(for: 0.61) == nil)
    }
}

/// The stream commit policy in the simulator: the held interval is what it costs the client,
/// and a fault before the release fails over like one before the first byte.
@Suite("The simulated gateway holding streams (stream_commit)")
struct StreamCommitSimulationTests {
    let faults = StreamConductTests()

    /// Route `chat` over alpha then beta, the next target on any failure, holding as `commit` says.
    func route(_ commit: StreamCommit, idle: Double? = nil) -> RouteConfig {
        RouteConfig(
            name: "chat", chain: [TierConfig(targets: ["alpha"]), TierConfig(targets: ["beta"])],
            retry: RetryPolicy(maxAttempts: 2, backoff: .none, target: .next), timeouts: Timeouts(idleSeconds: idle), streamCommit: commit)
    }

    @Test("holding costs the client exactly the held interval: 1 s, or the 11th of 20 tokens at 10 a second, whichever the policy says first")
    func heldInterval() throws {
        let healthy = try faults.upstream("alpha")
        func firstTokenMedian(_ commit: StreamCommit) throws -> Double {
            let run = try World.run(try faults.world(alpha: healthy, big: try faults.upstream("beta"), route: route(commit)), seed: 7, replication: 0)
            #expect(run.teams[0].failed == 0)
            return run.teams[0].firstTokenLatency.seconds(atPercentile: 50)
        }
        // The latency histogram keeps three significant digits: within 0.1% of the exact time.
        func near(_ value: Double, _ exact: Double) -> Bool { abs(value - exact) <= exact * 1e-3 }
        #expect(near(try firstTokenMedian(.firstByte), 0.5))
        #expect(near(try firstTokenMedian(StreamCommit(afterSeconds: 1)), 1.5))
        // Token k of 20 comes at 0.5 + 2 (k − 1) / 19 s: the 11th at 1.5526 s.
        #expect(near(try firstTokenMedian(StreamCommit(afterTokens: 11)), 0.5 + 20.0 / 19))
        #expect(near(try firstTokenMedian(StreamCommit(afterTokens: 11, afterSeconds: 0.8)), 1.3))
        // Held whole: the client's first byte is the answer's end, 2.5 s.
        #expect(near(try firstTokenMedian(StreamCommit(complete: true)), 2.5))
    }

    @Test("a cut, a stall or a malformed event before the release fails over to the next target; after it, it is a failure after the first byte")
    func faultsBeforeTheRelease() throws {
        let beta = try faults.upstream("beta")
        for (fault, failsOnMalformed) in [
            (HealthStateSpec(name: "cut", errorMix: [(.failedAfterFirstByte, 1)]), false),
            (HealthStateSpec(name: "stall", streamFaultMix: [(.stall, 1)]), false),
            (HealthStateSpec(name: "malformed", streamFaultMix: [(.malformedEvent, 1)]), true),
        ] {
            var held = route(StreamCommit(complete: true), idle: 1)
            held.onMalformedEvent = failsOnMalformed ? .fail : .drop
            let alpha = try faults.upstream("alpha", states: [fault])
            let rescued = try World.run(try faults.world(alpha: alpha, big: beta, route: held), seed: 8, replication: 0)
            #expect(
                rescued.teams[0].failed == 0 && rescued.teams[0].succeeded == rescued.teams[0].requests, "\(fault.name): \(rescued.teams[0].failures)"
            )
            #expect(rescued.teams[0].attempts.mean == 2, "\(fault.name): every request failed over once")
            var passThrough = route(.firstByte, idle: 1)
            passThrough.onMalformedEvent = held.onMalformedEvent
            let lost = try World.run(try faults.world(alpha: alpha, big: beta, route: passThrough), seed: 8, replication: 0)
            #expect(lost.teams[0].succeeded == 0 && lost.teams[0].failures == ["failed_after_first_byte": lost.teams[0].requests], "\(fault.name)")
        }
    }
}
