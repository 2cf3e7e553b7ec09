import Foundation
import Testing
import GatewaySim
import RoutingCore
import SimulationKernel
@testable import Stochastics

/// Durations from heavy tails and very long runs: every conversion from seconds saturates by
/// one rule, sums of times cannot overflow, and a run with absurd draws ends normally.
@Suite("Heavy tails and extreme durations")
struct HeavyTailTests {
    /// The simulator's conversion (the kernel's, which Stochastics uses) and the router's
    /// (RoutingCore's, which never imports the kernel) are one rule: equal on the edges and on
    /// 100,000 seeded random values spread over every binade from 10⁻¹² to 10³⁰⁰ s.
    @Test(
        "the kernel's and RoutingCore's seconds → nanoseconds conversions follow one saturation rule",
        arguments: [0, 1e-9, 1.5, -2.25, 0.5e-9, -0.5e-9, 4.6e9 - 1, 4.6e9, 5e9, -5e9, 1e300, -1e300, .infinity, -.infinity, .nan])
    func oneSaturationRule(seconds: Double) {
        let kernel = SimulationInstant.nanoseconds(fromSeconds: seconds)
        #expect(Seconds.nanoseconds(seconds) == kernel)
        #expect(kernel <= Int64.max / 2 && kernel >= Int64.min / 2, "any two converted durations add without overflow")
        if seconds.isNaN || seconds >= 4.6e9 { #expect(kernel == Int64.max / 2) }
        if abs(seconds) < 1e9 { #expect(kernel == Int64((seconds * 1e9).rounded())) }
    }

    @Test("the two conversions agree on random values of every magnitude")
    func oneRuleOnRandomValues() {
        var generator = SplitMix64(seed: 24)
        var disagreements = 0
        for _ in 0..<100_000 {
            let magnitude = Double.random(in: -12...300, using: &generator)
            let seconds = (Bool.random(using: &generator) ? 1 : -1) * Foundation.pow(10, magnitude)
            if Seconds.nanoseconds(seconds) != SimulationInstant.nanoseconds(fromSeconds: seconds) { disagreements += 1 }
        }
        #expect(disagreements == 0)
    }

    @Test(
        "a duration's nanoseconds (RoutingCore's, for the gateway and the twin): truncated, saturating like seconds",
        arguments: [
            (Duration.seconds(1), Int64(1_000_000_000)), (.nanoseconds(-7), -7), (.zero, 0),
            (.seconds(Int64.max / 4), Int64.max / 2), (.seconds(-Int64.max / 4), Int64.min / 2),
            (.seconds(4_600_000_000), Int64.max / 2), (.milliseconds(1) + .nanoseconds(3), 1_000_003),
        ])
    func durationNanoseconds(duration: Duration, expected: Int64) {
        #expect(Seconds.nanoseconds(duration) == expected)
    }

    @Test("adding to a time saturates instead of trapping")
    func saturatingAdd() {
        #expect(SimulationInstant.adding(5, 7) == 12)
        #expect(SimulationInstant.adding(Int64.max / 2 + 10, Int64.max / 2 + 10) == Int64.max)
        #expect(SimulationInstant.adding(Int64.min / 2 - 10, Int64.min / 2 - 10) == Int64.min)
    }

    /// Time to first token lognormal(μ = 20, σ = 10) — a median of 15 years and draws past
    /// 10³⁰ s — and Pareto(0.3) token rates and sizes (no finite mean), over a run of 10⁹ s of
    /// arrivals: every draw that overflows a nanosecond count saturates, and the run drains
    /// and conserves requests.
    @Test("a run whose latency draws overflow nanoseconds ends normally and conserves requests")
    func absurdDraws() throws {
        let provider = ProviderSpec(
            name: "alpha", concurrency: 5, queueLimit: 5, timeToFirstTokenSeconds: try .lognormal(mu: 20, sigma: 10),
            outputTokensPerSecond: try .pareto(shape: 0.3, scale: 1), inputPricePerMillion: 3, outputPricePerMillion: 15)
        let router = RouterConfig(
            targets: [TargetConfig(name: "alpha", inputPricePerMillion: 3, outputPricePerMillion: 15)],
            routes: [
                RouteConfig(
                    name: "chat", chain: [TierConfig(targets: ["alpha"])], retry: RetryPolicy(maxAttempts: 2),
                    retryBudget: .unlimited)
            ],
            teams: [TeamConfig(name: "app")])
        let team = TeamSpec(
            name: "app", arrivals: try PoissonArrivals(ratePerSecond: 1e-6), inputTokens: try .constant(500),
            outputTokens: try .pareto(shape: 0.2, scale: 100), route: "chat", sdkRetries: 1)
        for duration in [1e5, 1e9] {
            var spec = WorldSpec(
                providers: [provider], pools: [], router: router, teams: [team], durationSeconds: duration, warmUpSeconds: 0,
                bucketSeconds: duration / 100)
            spec.teams[0].arrivals = try PoissonArrivals(ratePerSecond: 300 / duration)
            let run = try World.run(spec, seed: 8, replication: 0)
            let app = run.teams[0]
            #expect(app.requests > 200, "about 300 arrivals: \(app.requests)")
            #expect(app.unfinished == 0)
            #expect(app.succeeded + app.failed == app.requests)
            #expect(run.endNanoseconds >= SimulationInstant.nanoseconds(fromSeconds: duration))
            #expect(run.timeSeries[0].requests.count <= 101, "the drain, however long, is one bucket")
        }
    }
}
