import Foundation
import Testing
import GatewaySim
import RoutingCore
import SimulationKernel
import Stochastics

/// The M/M/c sojourn time T = W + S (queueing wait plus exponential service), exactly:
/// P(T > t) = e^(−μt) + C·μ/(cμ − λ − μ)·(e^(−μt) − e^(−(cμ−λ)t)), C the Erlang C probability of
/// waiting (valid when cμ − λ ≠ μ). Its median by bisection.
func mmcSojournMedian(servers c: Int, arrivalRate lambda: Double, serviceRate mu: Double) -> Double {
    let waitProbability = erlangC(servers: c, offeredLoad: lambda / mu, serviceRate: mu).pWait
    let drain = Double(c) * mu - lambda
    func survival(_ t: Double) -> Double {
        exp(-mu * t) + waitProbability * mu / (drain - mu) * (exp(-mu * t) - exp(-drain * t))
    }
    var low = 0.0, high = 1_000.0
    for _ in 0..<200 {
        let middle = (low + high) / 2
        if survival(middle) > 0.5 { low = middle } else { high = middle }
    }
    return (low + high) / 2
}

/// What the simulated gateway observes must be what a real one can: times measured at the
/// gateway, from sending an attempt to its first token and its answer, queueing included.
@Suite("The gateway observes send → first token → answer")
struct GatewayObservationTests {
    /// An M/M/7 pool at 85% utilisation whose answers are one token long, so the first token
    /// and the answer coincide: the first-token median is the sojourn median (about 1.26 s
    /// here), not the service median (ln 2 ≈ 0.69 s). 10 replications of 5,000 s after 500 s of
    /// warm-up (about 30,000 requests each); the tolerance is 5 standard errors of the
    /// replication medians plus 1% for the latency histogram's resolution.
    @Test("first-token percentiles include the wait in the upstream's queue (M/M/c sojourn median)")
    func firstTokenIncludesQueueing() throws {
        let servers = 7, mu = 1.0, lambda = 0.85 * 7
        let spec = try poolWorld(servers: servers, arrivalRate: lambda, service: .exponential(mean: 1 / mu), duration: 5_500, warmUp: 500)
        let runs = try (0..<10).map { try World.run(spec, seed: 21, replication: $0) }
        let expected = mmcSojournMedian(servers: servers, arrivalRate: lambda, serviceRate: mu)
        #expect(expected > 1.2 && expected < 1.35, "the closed form itself: \(expected)")
        let firstToken = SampleStats(runs.map { $0.teams[0].firstTokenLatency.seconds(atPercentile: 50) })
        let answer = SampleStats(runs.map { $0.teams[0].totalLatency.seconds(atPercentile: 50) })
        #expect(
            abs(firstToken.mean - expected) <= 5 * firstToken.standardError + 0.01 * expected,
            "first-token p50 \(firstToken.mean) vs M/M/7 sojourn median \(expected)")
        #expect(abs(firstToken.mean - answer.mean) <= 0.01 * answer.mean, "one token: first token and answer coincide")
    }

    /// One fast server with a deep queue (0.1 s service, 10 answers/s) next to a wide, slower
    /// provider (1 s service, 1,000 servers), under 20 requests/s with lowest-latency balancing.
    /// Learning only the fast server's service time would send it nearly everything and grow its
    /// queue without bound (it can answer half the load); learning send → answer, the router
    /// moves traffic to the wide provider as soon as the queue makes the fast one slower.
    @Test("lowest-latency balancing learns queueing, so a deep queue cannot capture the traffic")
    func routerLearnsQueueing() throws {
        func provider(_ name: String, servers: Int, service: Double) throws -> ProviderSpec {
            ProviderSpec(
                name: name, concurrency: servers, queueLimit: 1_000_000, timeToFirstTokenSeconds: try .constant(service),
                outputTokensPerSecond: try .constant(1e12), inputPricePerMillion: 1, outputPricePerMillion: 1)
        }
        let router = RouterConfig(
            targets: [
                TargetConfig(name: "narrow", inputPricePerMillion: 1, outputPricePerMillion: 1),
                TargetConfig(name: "wide", inputPricePerMillion: 1, outputPricePerMillion: 1),
            ],
            routes: [
                RouteConfig(
                    name: "chat", chain: [TierConfig(targets: ["narrow", "wide"], balancing: .lowestLatency)],
                    retry: RetryPolicy(maxAttempts: 1), retryBudget: .unlimited)
            ],
            teams: [TeamConfig(name: "app")],
            health: HealthConfig(breaker: nil)
        )
        let team = TeamSpec(
            name: "app", arrivals: try PoissonArrivals(ratePerSecond: 20), inputTokens: try .constant(100),
            outputTokens: try .constant(1), route: "chat")
        let spec = WorldSpec(
            providers: [try provider("narrow", servers: 1, service: 0.1), try provider("wide", servers: 1_000, service: 1)],
            pools: [], router: router, teams: [team], durationSeconds: 1_800, warmUpSeconds: 0)
        let run = try World.run(spec, seed: 3, replication: 0)
        let narrow = run.upstreams[0], wide = run.upstreams[1]
        // The narrow server can take at most 10 of the 20 requests a second; the wide one must
        // carry the rest, and the narrow queue stays short.
        #expect(Double(wide.accepted) > 0.45 * Double(run.teams[0].requests), "wide took \(wide.accepted) of \(run.teams[0].requests)")
        #expect(narrow.waits.mean < 2, "narrow's mean wait \(narrow.waits.mean) s")
        #expect(run.teams[0].totalLatency.seconds(atPercentile: 50) < 2, "p50 \(run.teams[0].totalLatency.seconds(atPercentile: 50)) s")
        #expect(run.teams[0].succeeded == run.teams[0].requests)
    }
}
