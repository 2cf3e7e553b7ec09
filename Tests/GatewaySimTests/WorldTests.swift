import Testing
import GatewaySim
import RoutingCore
import SimulationKernel
import Stochastics

func provider(_ name: String, concurrency: Int = 100, states: [HealthStateSpec] = [.healthy], limits: RateLimit? = nil) throws -> ProviderSpec {
    ProviderSpec(
        name: name, concurrency: concurrency, queueLimit: 50, timeToFirstTokenSeconds: try .lognormal(median: 0.6, p99: 3),
        outputTokensPerSecond: try .normal(mean: 100, standardDeviation: 15, lower: 20), inputPricePerMillion: 3,
        outputPricePerMillion: 15, limits: limits, states: states)
}

/// Two providers and a local pool behind one route, two teams.
func smallWorld(
    retry: RetryPolicy = RetryPolicy(), hedging: HedgingPolicy? = nil, states: [HealthStateSpec] = [.healthy],
    degradation: [DegradationBinding] = [], duration: Double = 600
) throws -> WorldSpec {
    let router = RouterConfig(
        targets: [
            TargetConfig(name: "alpha", inputPricePerMillion: 3, outputPricePerMillion: 15),
            TargetConfig(name: "beta", inputPricePerMillion: 2.5, outputPricePerMillion: 10),
            TargetConfig(name: "local", kind: .local, gpuPricePerHour: 4.25, maxConcurrency: 16, queueLimit: 16),
        ],
        routes: [
            RouteConfig(
                name: "chat", chain: [TierConfig(targets: ["alpha", "beta"])], retry: retry, hedging: hedging,
                fallback: FallbackConfig(targets: ["local"]))
        ],
        teams: [TeamConfig(name: "search", tier: 0), TeamConfig(name: "batch", tier: 2)]
    )
    let pool = FallbackPoolSpec(
        name: "local", replicas: 2, maxConcurrencyPerReplica: 8, queueLimit: 16, replicaOutputTokensPerSecond: 1_500,
        timeToFirstTokenSeconds: try .lognormal(median: 0.3, p99: 1.5), gpusPerReplica: 1, gpuPricePerHour: 4.25)
    let teams = try [
        TeamSpec(
            name: "search", arrivals: try PoissonArrivals(ratePerSecond: 20), inputTokens: .lognormal(median: 1_000, p99: 8_000),
            outputTokens: .lognormal(median: 300, p99: 1_500), route: "chat", sdkRetries: 2),
        TeamSpec(
            name: "batch", arrivals: try PoissonArrivals(ratePerSecond: 5), inputTokens: .constant(4_000),
            outputTokens: .constant(800), route: "chat"),
    ]
    return WorldSpec(
        providers: [try provider("alpha", states: states), try provider("beta", states: states)], pools: [pool], router: router,
        teams: teams, degradation: degradation, durationSeconds: duration, warmUpSeconds: 0, bucketSeconds: 60)
}

@Suite("The simulated world")
struct WorldTests {
    @Test("every request ends in exactly one terminal state, and spend adds up")
    func conservation() throws {
        // Alpha and beta share a regime that sends both into 60% 529s for about a third of the time.
        let squeeze = HealthStateSpec(
            name: "squeeze", errorMix: [(.overloaded, 0.6), (.serverError, 0.05)], latencyMultiplier: 1.5, retryAfterSeconds: 2)
        let chain = try MarkovChain(meanSojournSeconds: [200, 100])
        let binding = DegradationBinding(name: "squeeze", targets: [.provider(0), .provider(1)]) { stream throws(StochasticsError) in
            try MarkovRegime(chain: chain, stateMaps: [[0, 1], [0, 1]], initialRegime: 0, stream: stream)
        }
        let spec = try smallWorld(
            hedging: HedgingPolicy(delay: .fixed(seconds: 2)), states: [.healthy, squeeze], degradation: [binding], duration: 1_200)
        let run = try World.run(spec, seed: 5, replication: 0)
        for team in run.teams {
            #expect(team.requests > 0)
            #expect(team.unfinished == 0, "\(team.name): everything drained")
            #expect(team.succeeded + team.failed == team.requests, "\(team.name): \(team.succeeded) + \(team.failed) vs \(team.requests)")
        }
        #expect(run.teams.contains { $0.succeededFallback > 0 }, "the squeeze pushes some traffic to the local pool")
        #expect(run.teams.contains { $0.hedges > 0 })
        #expect(run.upstreams[0].timeInState[1] > 0, "the regime did squeeze")
        // Spend adds up: per team, the five disjoint amounts make the total (sums of a few
        // thousand doubles in one order, so equality to 1e-9 relative is float rounding only);
        // the local pool's share is its GPU time at the pool's $4.25 an hour.
        for team in run.ledger.teams {
            let parts = [team.successfulUSD, team.retriedUSD, team.wastedUSD, team.fallbackUSD, team.bypassUSD]
            #expect(parts.allSatisfy { $0 >= 0 })
            #expect(abs(parts.reduce(0, +) - team.totalUSD) <= 1e-9 * team.totalUSD)
            #expect(abs(team.fallbackUSD - team.fallbackGPUSeconds * 4.25 / 3_600) <= 1e-9 * team.fallbackUSD)
            #expect(team.bypassUSD == 0, "no bypass route here")
        }
        #expect(run.ledger.teams.allSatisfy { $0.successfulUSD > 0 && $0.fallbackUSD > 0 }, "both teams were charged for answers, and for the pool")
        #expect(run.ledger.teams.contains { $0.retriedUSD > 0 || $0.wastedUSD > 0 }, "hedges that lose are charged as waste")
    }

    /// Two healthy providers, constant token counts, nothing fails: every request is answered by
    /// its first attempt, so the spend is the providers' answers times their prices, exactly.
    @Test("healthy traffic costs exactly its answers at the providers' prices, all of it successful")
    func spendClosedForm() throws {
        var spec = try smallWorld(duration: 300)
        spec.teams = try spec.teams.map {
            var team = $0; team.inputTokens = try .constant(1_000); team.outputTokens = try .constant(200); team.sdkRetries = 0; return team
        }
        let run = try World.run(spec, seed: 4, replication: 0)
        let requests = run.teams.reduce(0) { $0 + $1.requests }
        let alpha = run.upstreams[0].accepted, beta = run.upstreams[1].accepted
        #expect(alpha + beta == requests, "one attempt per request, no fallback")
        #expect(alpha > 0 && beta > 0)
        // alpha: 1,000 × $3 + 200 × $15 per million tokens; beta: 1,000 × $2.5 + 200 × $10.
        let expected = Double(alpha) * 0.006 + Double(beta) * 0.004_5
        let successful = run.ledger.teams.reduce(0) { $0 + $1.successfulUSD }
        let total = run.ledger.teams.reduce(0) { $0 + $1.totalUSD }
        #expect(abs(successful - expected) <= 1e-9 * expected, "\(successful) vs \(expected)")
        #expect(total == successful)
        #expect(run.ledger.teams.allSatisfy { $0.retriedUSD == 0 && $0.wastedUSD == 0 && $0.fallbackUSD == 0 })
    }

    /// Both providers answer every attempt 529 (which bills nothing), so the local pool serves
    /// everything that is answered: all the spend is GPU time, none of it frontier spend.
    @Test("the local pool's cost is its own category, apart from successful, retried and wasted")
    func poolSpendIsApart() throws {
        let overloaded = HealthStateSpec(name: "overloaded", errorMix: [(.overloaded, 1)])
        var spec = try smallWorld(states: [overloaded], duration: 300)
        spec.teams = spec.teams.map {
            var team = $0; team.sdkRetries = 0; return team
        }
        let run = try World.run(spec, seed: 6, replication: 0)
        #expect(run.teams.allSatisfy { $0.succeededFrontier == 0 && $0.succeededFallback > 0 })
        for team in run.ledger.teams {
            #expect(team.successfulUSD == 0 && team.retriedUSD == 0 && team.wastedUSD == 0, "529s bill nothing")
            #expect(team.fallbackUSD > 0)
            #expect(abs(team.fallbackUSD - team.fallbackGPUSeconds * 4.25 / 3_600) <= 1e-9 * team.fallbackUSD)
            #expect(team.totalUSD == team.fallbackUSD)
        }
    }

    @Test("with every attempt failing, attempts per request equal the configured bound")
    func allFailing() throws {
        let down = HealthStateSpec(name: "down", errorMix: [(.serverError, 1)])
        var spec = try smallWorld(retry: RetryPolicy(maxAttempts: 4, backoff: .none), states: [down], duration: 300)
        spec.router.routes[0].fallback = nil
        spec.router.routes[0].retryBudget = .unlimited
        spec.router.health = HealthConfig(breaker: nil)
        spec.teams = spec.teams.map {
            var team = $0; team.sdkRetries = 0; return team
        }
        let run = try World.run(spec, seed: 2, replication: 0)
        for team in run.teams {
            #expect(team.succeeded == 0)
            #expect(team.attempts.minimum == 4 && team.attempts.maximum == 4)
            #expect(team.failures["server_error_5xx"] == team.requests)
        }
    }

    @Test("the same seed gives the same replication; results do not depend on the thread")
    func determinism() throws {
        let spec = try smallWorld(hedging: HedgingPolicy(delay: .fixed(seconds: 1)), duration: 300)
        @Sendable func fingerprint(_ run: ReplicationResult) -> [Int] {
            run.teams.flatMap { [$0.requests, $0.succeededFrontier, $0.succeededFallback, $0.failed, $0.hedges, $0.attempts.count] }
                + run.upstreams.flatMap { [$0.offered, $0.accepted] } + [Int(run.events)]
        }
        let serial = try (0..<4).map { try fingerprint(World.run(spec, seed: 9, replication: $0)) }
        let parallel = ReplicationRunner.run(count: 4, jobs: 2) { replication in
            (try? fingerprint(World.run(spec, seed: 9, replication: replication))) ?? []
        }
        #expect(parallel == serial)
        #expect(Set(serial).count == 4, "replications differ from one another")
    }

    @Test("keeping a decision log changes nothing that is measured")
    func decisionLogIsOnlyARecord() throws {
        // A squeeze opens breakers, so decisions pass targets over: with a log they are listed.
        let squeeze = HealthStateSpec(name: "squeeze", errorMix: [(.overloaded, 0.7)], latencyMultiplier: 1.5, retryAfterSeconds: 2)
        let chain = try MarkovChain(meanSojournSeconds: [100, 100])
        let binding = DegradationBinding(name: "squeeze", targets: [.provider(0)]) { stream throws(StochasticsError) in
            try MarkovRegime(chain: chain, stateMaps: [[0, 1]], initialRegime: 0, stream: stream)
        }
        let spec = try smallWorld(states: [.healthy, squeeze], degradation: [binding], duration: 600)
        @Sendable func fingerprint(_ run: ReplicationResult) -> [Double] {
            var values: [Double] = [Double(run.events)]
            for team in run.teams {
                values += [Double(team.requests), Double(team.succeededFrontier), Double(team.succeededFallback), Double(team.failed)]
                values += [team.totalLatency.seconds(atPercentile: 99), team.attempts.mean]
            }
            for upstream in run.upstreams { values += [Double(upstream.offered), Double(upstream.accepted)] }
            for team in run.ledger.teams { values.append(team.totalUSD) }
            return values
        }
        let logged = try World.run(spec, seed: 11, replication: 0, keepDecisionLog: true)
        let unlogged = try World.run(spec, seed: 11, replication: 0, keepDecisionLog: false)
        #expect(fingerprint(logged) == fingerprint(unlogged))
        #expect(unlogged.decisionLog == nil)
        #expect(logged.decisionLog?.contains { !$0.rejected.isEmpty } == true, "targets were passed over, so the lists were kept")
    }

    @Test("a bad world is refused with a clear message")
    func badWorld() throws {
        var spec = try smallWorld()
        spec.teams[0].route = "chatt"
        #expect(throws: WorldError("team 'search' uses route 'chatt', which the router does not have; routes: chat")) {
            try World.run(spec, seed: 1, replication: 0)
        }
    }
}
