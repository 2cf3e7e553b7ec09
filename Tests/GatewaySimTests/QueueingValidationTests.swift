import Foundation
import Testing
import GatewaySim
import RoutingCore
import SimulationKernel
import Stochastics

/// Erlang C: probability of waiting and mean wait in queue for M/M/c with offered load a = λ/μ.
func erlangC(servers c: Int, offeredLoad a: Double, serviceRate mu: Double) -> (pWait: Double, meanWait: Double) {
    var term = 1.0
    var sum = 1.0
    for k in 1..<c {
        term *= a / Double(k)
        sum += term
    }
    let last = term * a / Double(c) * Double(c) / (Double(c) - a)
    let p = last / (sum + last)
    return (p, p / (Double(c) * mu - a * mu))
}

/// A world with one local pool as the only target of one team's route.
func poolWorld(servers: Int, arrivalRate: Double, service: Distribution, duration: Double, warmUp: Double) throws -> WorldSpec {
    let pool = FallbackPoolSpec(
        name: "pool", replicas: servers, maxConcurrencyPerReplica: 1, queueLimit: 1_000_000,
        replicaOutputTokensPerSecond: 1e12, timeToFirstTokenSeconds: service, gpusPerReplica: 1, gpuPricePerHour: 2.21)
    let router = RouterConfig(
        targets: [TargetConfig(name: "pool", kind: .local, gpuPricePerHour: 2.21, maxConcurrency: servers, queueLimit: 1_000_000)],
        routes: [RouteConfig(name: "direct", chain: [TierConfig(targets: ["pool"])], retry: RetryPolicy(maxAttempts: 1), retryBudget: .unlimited)],
        teams: [TeamConfig(name: "load")],
        health: HealthConfig(breaker: nil)
    )
    let team = TeamSpec(
        name: "load", arrivals: try PoissonArrivals(ratePerSecond: arrivalRate), inputTokens: try .constant(100),
        outputTokens: try .constant(1), route: "direct")
    return WorldSpec(providers: [], pools: [pool], router: router, teams: [team], durationSeconds: duration, warmUpSeconds: warmUp)
}

@Suite("Queueing validation against closed forms")
struct QueueingValidationTests {
    // Erlang C from provider-facts.md: a = 2.5, c = 3..6 → P(wait) = 0.70, 0.32, 0.13, 0.047.
    // 20 replications of 20,000 s (≈ 50,000 requests each) after 1,000 s warm-up. The tolerance
    // is 5 standard errors of the mean over replications (replications are independent,
    // so the between-replication spread is an honest error estimate despite autocorrelation).
    @Test("a pool with Poisson arrivals and exponential service matches Erlang C", arguments: [3, 4, 5, 6])
    func erlangCPool(servers: Int) throws {
        let mu = 1.0 / 2.0
        let lambda = 2.5 * mu
        let spec = try poolWorld(servers: servers, arrivalRate: lambda, service: .exponential(mean: 1 / mu), duration: 21_000, warmUp: 1_000)
        let runs = try (0..<20).map { try World.run(spec, seed: 7, replication: $0) }
        let expected = erlangC(servers: servers, offeredLoad: 2.5, serviceRate: mu)
        let meanWaits = SampleStats(runs.map { $0.upstreams[0].waits.mean })
        #expect(
            abs(meanWaits.mean - expected.meanWait) <= 5 * meanWaits.standardError + 1e-9,
            "c=\(servers): mean wait \(meanWaits.mean) vs Erlang C \(expected.meanWait)")
        // Every request is served: conservation.
        for run in runs {
            let team = run.teams[0]
            #expect(team.unfinished == 0)
            #expect(team.succeeded == team.requests)
        }
        let delayed = SampleStats(runs.map { Double($0.upstreams[0].delayed) / Double($0.upstreams[0].accepted) })
        #expect(abs(delayed.mean - expected.pWait) <= 5 * delayed.standardError, "c=\(servers): P(wait) \(delayed.mean) vs \(expected.pWait)")
    }

    // M/D/1 at ρ = 0.8: Wq = ρ/(2μ(1−ρ)) = 2 s for service 1 s. Same design as above.
    @Test("a one-server pool with constant service matches Pollaczek–Khinchine (M/D/1)")
    func mD1() throws {
        let spec = try poolWorld(servers: 1, arrivalRate: 0.8, service: .constant(1), duration: 21_000, warmUp: 1_000)
        let runs = try (0..<20).map { try World.run(spec, seed: 11, replication: $0) }
        let waits = SampleStats(runs.map { $0.upstreams[0].waits.mean })
        #expect(abs(waits.mean - 2.0) <= 5 * waits.standardError, "mean wait \(waits.mean) vs 2.0")
    }

    // Little's law on the queue: time-average queue length = accepted arrival rate × mean wait.
    // Both sides come from the same run, so they agree up to end effects (< 1% here).
    @Test("Little's law holds on an upstream's queue")
    func littlesLaw() throws {
        let spec = try poolWorld(servers: 2, arrivalRate: 0.9, service: .exponential(mean: 2), duration: 50_000, warmUp: 0)
        let run = try World.run(spec, seed: 3, replication: 0)
        let pool = run.upstreams[0]
        let end = run.endNanoseconds
        let lengthAverage = pool.queueLength.average(at: end)
        let throughput = Double(pool.accepted) / (Double(end) / 1e9)
        #expect(abs(lengthAverage - throughput * pool.waits.mean) <= 0.01 * lengthAverage, "L \(lengthAverage) vs λW \(throughput * pool.waits.mean)")
    }
}

struct SampleStats {
    let mean: Double
    let standardError: Double

    init(_ values: [Double]) {
        let n = Double(values.count)
        let average = values.reduce(0, +) / n
        let variance = values.reduce(0) { $0 + ($1 - average) * ($1 - average) } / (n - 1)
        mean = average
        standardError = (variance / n).squareRoot()
    }
}

@Suite("Local pool autoscaling")
struct PoolAutoscalingTests {
    @Test("a busy pool adds replicas after the spin-up time and removes them once the load is gone")
    func scalesOutAndIn() throws {
        // 600 s at 6 req/s against one replica serving 4 at a time for ~2 s each (2 req/s),
        // then 1,800 s at 0.2 req/s.
        var spec = try poolWorld(servers: 1, arrivalRate: 1, service: .exponential(mean: 2), duration: 2_400, warmUp: 0)
        spec.pools[0] = FallbackPoolSpec(
            name: "pool", replicas: 1, maxConcurrencyPerReplica: 4, queueLimit: 10_000, replicaOutputTokensPerSecond: 1e12,
            timeToFirstTokenSeconds: try .exponential(mean: 2), gpusPerReplica: 2, gpuPricePerHour: 4.25,
            maxReplicas: 4, spinUpSeconds: 120, scaleUpQueue: 8, scaleDownIdleSeconds: 300)
        spec.router.targets[0].maxConcurrency = 16
        spec.teams[0].arrivals = try PiecewiseConstantArrivals(
            segments: [.init(seconds: 600, ratePerSecond: 6), .init(seconds: 1_800, ratePerSecond: 0.2)], repeats: false)
        let scaled = try World.run(spec, seed: 4, replication: 0)
        let replicas = scaled.upstreams[0].replicas
        #expect(replicas.maximum == 4, "scaled out to the maximum under the burst")
        #expect(replicas.current == 1, "back to the minimum once the load is gone")
        let mean = replicas.average(at: scaled.endNanoseconds)
        #expect(mean > 1.2 && mean < 3, "extra replicas only for part of the run: \(mean)")

        var fixed = spec
        fixed.pools[0].maxReplicas = 1
        let unscaled = try World.run(fixed, seed: 4, replication: 0)
        #expect(unscaled.upstreams[0].replicas.maximum == 1)
        #expect(scaled.upstreams[0].waits.mean < unscaled.upstreams[0].waits.mean / 2, "scaling out cuts the queueing")
    }
}
