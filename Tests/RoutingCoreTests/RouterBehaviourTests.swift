import Testing
@testable import RoutingCore

@Suite("Router behaviour")
struct RouterBehaviourTests {
    func makeRouter(clock: ManualClock = ManualClock(), _ config: RouterConfig, seed: UInt64 = 1) throws -> Router {
        try Router(
            config: config, clock: clock, wallClock: OffsetWallClock(clock: clock, unixNanosecondsAtZero: 0), generator: SeededGenerator(state: seed))
    }

    @Test("weighted random follows the weights (10,000 picks, within 5 binomial standard errors)")
    func weightedRandom() throws {
        var router = try makeRouter(threeProviderConfig(balancing: .weightedRandom(weights: [6, 3, 1])))
        var counts = [0, 0, 0]
        for id in 0..<10_000 {
            var (state, decision) = router.begin(request(UInt64(id)))
            counts[Int(decision.targetIndex)] += 1
            _ = router.attemptFinished(&state, attempt: 1, ok())
        }
        for (target, p) in [(0, 0.6), (1, 0.3), (2, 0.1)] {
            #expect(abs(Double(counts[target]) - 10_000 * p) <= 5 * (10_000 * p * (1 - p)).squareRoot(), "\(counts)")
        }
    }

    @Test("least outstanding spreads concurrent requests; lowest latency prefers the fastest")
    func balancingStrategies() throws {
        var least = try makeRouter(threeProviderConfig(balancing: .leastOutstanding))
        let targets = (0..<6).map { least.begin(request(UInt64($0))).1.targetIndex }
        #expect(targets == [0, 1, 2, 0, 1, 2])

        var fastest = try makeRouter(threeProviderConfig(balancing: .lowestLatency))
        for (id, latency) in [(0, 0.9), (1, 0.2), (2, 0.5)] {
            var (state, decision) = fastest.begin(request(UInt64(id)))
            #expect(decision.targetIndex == Int32(id), "untried targets are tried first")
            _ = fastest.attemptFinished(&state, attempt: 1, ok(latency: latency))
        }
        let (_, afterLearning) = fastest.begin(request(9))
        #expect(afterLearning.targetIndex == 1)
    }

    @Test("cost-aware balancing picks the cheapest target within the latency bound")
    func costAware() throws {
        var router = try makeRouter(threeProviderConfig(balancing: .costAware(latencyBoundSeconds: 1.0)))
        var picks: [Int32] = []
        for id in 0..<3 {
            var (state, decision) = router.begin(request(UInt64(id)))
            picks.append(decision.targetIndex)
            _ = router.attemptFinished(&state, attempt: 1, ok(latency: decision.targetIndex == 2 ? 3.0 : 0.5))
        }
        #expect(picks == [2, 1, 1], "cheapest first; once google proves slow, the cheaper of the rest")
        // google is cheapest but too slow; openai is cheaper than anthropic.
        let (_, afterGoogleProvedSlow) = router.begin(request(10))
        #expect(afterGoogleProvedSlow.targetIndex == 1)
    }

    @Test("a retryable failure moves to the next target; a 4xx is never retried")
    func retryToNextTarget() throws {
        var router = try makeRouter(threeProviderConfig(retry: RetryPolicy(maxAttempts: 3, backoff: .none), balancing: .leastOutstanding))
        var (state, first) = router.begin(request(1))
        #expect(first.targetIndex == 0 && first.reasons == [.primary])
        let second = router.attemptFinished(&state, attempt: 1, failure(.overloaded))
        #expect(second.action == .send && second.targetIndex == 1 && second.attempt == 2 && second.reasons.contains(.retry))
        let done = router.attemptFinished(&state, attempt: 2, failure(.clientError))
        #expect(done.action == .fail && done.reasons == [.notRetryable] && done.outcome == .clientError)
    }

    @Test("a stream that broke after its first byte is never retried, whatever retry_on says")
    func noFailoverAfterTheFirstByte() throws {
        let everything = Set(OutcomeClass.failures)
        var router = try makeRouter(
            threeProviderConfig(retry: RetryPolicy(maxAttempts: 3, retryOn: everything, backoff: .none), balancing: .leastOutstanding))
        var (state, _) = router.begin(request(1))
        let done = router.attemptFinished(&state, attempt: 1, failure(.failedAfterFirstByte))
        #expect(done.action == .fail && done.reasons == [.notRetryable] && done.outcome == .failedAfterFirstByte)
        #expect(!RetryPolicy.defaultRetryable.contains(.failedAfterFirstByte))
        #expect(RetryPolicy(retryOn: everything).retryOn == everything.subtracting([.failedAfterFirstByte]))
        // Put back after init, it is still never retried.
        var forced = RetryPolicy(maxAttempts: 3, retryOn: everything, backoff: .none)
        forced.retryOn.insert(.failedAfterFirstByte)
        var stubborn = try makeRouter(threeProviderConfig(retry: forced, balancing: .leastOutstanding))
        var (cut, _) = stubborn.begin(request(3))
        #expect(stubborn.attemptFinished(&cut, attempt: 1, failure(.failedAfterFirstByte)).action == .fail)
        // A timeout before the first byte is retried, to the next target.
        var (other, _) = router.begin(request(2))
        let retry = router.attemptFinished(&other, attempt: 1, failure(.timeout))
        #expect(retry.action == .send && retry.attempt == 2)
    }

    @Test("Retry-After is honoured up to the cap, and the target cools down meanwhile")
    func retryAfter() throws {
        let clock = ManualClock()
        var router = try makeRouter(
            clock: clock,
            threeProviderConfig(
                retry: RetryPolicy(maxAttempts: 3, backoff: .none, retryAfterCapSeconds: 20, target: .same), balancing: .leastOutstanding))
        var (state, _) = router.begin(request(1))
        let wait = router.attemptFinished(&state, attempt: 1, failure(.rateLimited, retryAfter: 45))
        #expect(wait.action == .wait && wait.delayNanoseconds == 20_000_000_000 && wait.reasons.contains(.retryAfterHonoured))
        clock.advance(seconds: 5)
        let other = router.begin(request(2)).1
        #expect(other.targetIndex == 1 && router.rejectedAlternatives == [RejectedAlternative(target: "anthropic", reason: .retryAfterCooldown)])
        clock.advance(seconds: 15)
        let resumed = router.resume(&state)
        #expect(resumed.action == .send && resumed.targetIndex == 0, "same-target retry after the cooldown")
    }

    @Test("an open breaker is skipped, with the reason recorded")
    func breakerSkipsTarget() throws {
        let breaker = BreakerConfig(consecutiveFailures: 2, failureRateThreshold: nil, openSeconds: 30)
        let clock = ManualClock()
        var router = try makeRouter(
            clock: clock, threeProviderConfig(retry: RetryPolicy(maxAttempts: 1), balancing: .leastOutstanding, breaker: breaker))
        for id in 0..<2 {
            var state = router.begin(request(UInt64(id))).0
            _ = router.attemptFinished(&state, attempt: 1, failure(.serverError))
            clock.advance(seconds: 1)
        }
        #expect(router.breakerOpenings(of: try router.target(named: "anthropic")) == 1)
        let decision = router.begin(request(5)).1
        #expect(decision.targetIndex == 1)
        #expect(router.rejectedAlternatives == [RejectedAlternative(target: "anthropic", reason: .breakerOpen)])
        let line = router.record(decision).jsonLine()
        #expect(line.contains(#""rejected":[{"reasons":["breaker_open"],"target":"anthropic"}]"#))
    }

    @Test("outlier detection ejects a failing target for base × ejections, within the percentage")
    func outlierEjection() throws {
        let clock = ManualClock()
        var router = try makeRouter(
            clock: clock,
            threeProviderConfig(
                retry: RetryPolicy(maxAttempts: 1), balancing: .leastOutstanding,
                outlier: OutlierDetectionConfig(consecutiveFailures: 3, baseEjectionSeconds: 30, maxEjectionPercent: 10)))
        for id in 0..<3 {
            var state = router.begin(request(UInt64(id))).0
            _ = router.attemptFinished(&state, attempt: 1, failure(.serverError))
        }
        let (_, whileEjected) = router.begin(request(10))
        #expect(whileEjected.targetIndex != 0 && router.rejectedAlternatives == [RejectedAlternative(target: "anthropic", reason: .ejected)])
        // 10% of 4 targets rounds down to 0, so the allowance is one: another target's failures
        // now eject nothing while anthropic is out.
        for id in 20..<23 {
            var (state, decision) = router.begin(request(UInt64(id)))
            #expect(decision.targetIndex != 0)
            _ = router.attemptFinished(&state, attempt: decision.attempt, failure(.serverError))
        }
        let stillThere = router.begin(request(30)).1
        #expect(stillThere.targetIndex != 0 && router.rejectedAlternatives == [RejectedAlternative(target: "anthropic", reason: .ejected)])
        clock.advance(seconds: 30)
        let (_, afterEjection) = router.begin(request(11))
        #expect(afterEjection.targetIndex == 0, "back after the ejection time")
    }

    @Test("local fallback only when every frontier target is unavailable")
    func fallbackWhenFrontierUnhealthy() throws {
        let breaker = BreakerConfig(consecutiveFailures: 1, failureRateThreshold: nil, openSeconds: 60)
        var router = try makeRouter(
            threeProviderConfig(
                retry: RetryPolicy(maxAttempts: 4, backoff: .none), balancing: .leastOutstanding, breaker: breaker,
                fallback: FallbackConfig(targets: ["local-h100"])))
        var (state, decision) = router.begin(request(1))
        for next in [1, 2] {
            decision = router.attemptFinished(&state, attempt: decision.attempt, failure(.overloaded))
            #expect(decision.targetIndex == Int32(next))
        }
        decision = router.attemptFinished(&state, attempt: decision.attempt, failure(.overloaded))
        #expect(decision.action == .send && decision.targetIndex == 3 && decision.reasons.contains(.fallback))
        #expect(router.rejectedAlternatives.count == 3)
        let done = router.attemptFinished(
            &state, attempt: decision.attempt, AttemptOutcome(outcome: .success, latencyNanoseconds: 2_000_000_000, gpuSeconds: 2))
        #expect(done.action == .complete)
        let spend = router.ledger.teams[0]
        #expect(abs(spend.fallbackGPUSeconds - 2) < 1e-12)
        // The pool's answer is charged as fallback GPU time, not as frontier spend; the three
        // 529s billed nothing.
        #expect(abs(spend.fallbackUSD - 2 * 4.25 / 3_600) < 1e-12)
        #expect(spend.successfulUSD == 0 && spend.retriedUSD == 0 && spend.wastedUSD == 0)
        #expect(spend.totalUSD == spend.fallbackUSD)
    }

    @Test("spillover sends to the local pool above the concurrency threshold, until the pool is full")
    func spillover() throws {
        var router = try makeRouter(threeProviderConfig(fallback: FallbackConfig(targets: ["local-h100"], policy: .spillover(aboveConcurrency: 2))))
        var passedOver: [[RejectedAlternative]] = []
        let targets = (0..<30).map { id -> Decision in
            let decision = router.begin(request(UInt64(id))).1
            passedOver.append(router.rejectedAlternatives)
            return decision
        }
        #expect(targets.prefix(3).allSatisfy { $0.targetIndex != 3 })
        #expect(targets.filter { $0.targetIndex == 3 }.count == 24, "8 serving + 16 queued")
        #expect(passedOver[27].contains(RejectedAlternative(target: "local-h100", reason: .localFull)))
    }

    @Test("shedding refuses low-priority teams first as the route fills; the limit refuses everyone")
    func shedding() throws {
        var config = threeProviderConfig()
        config.routes[0].maxConcurrency = 10
        config.routes[0].shedding = [SheddingRule(tier: 2, aboveUtilization: 0.5)]
        var router = try makeRouter(config)
        for id in 0..<5 { _ = router.begin(request(UInt64(id), team: 0)) }
        let (_, lowTierAtHalfFull) = router.begin(request(100, team: 1))
        #expect(lowTierAtHalfFull.reasons == [.shed])
        for id in 5..<10 { #expect(router.begin(request(UInt64(id), team: 0)).1.action == .send) }
        let (_, topTierWhenFull) = router.begin(request(101, team: 0))
        #expect(topTierWhenFull.reasons == [.concurrencyLimit])
    }

    @Test("a team's token bucket limits its request rate")
    func teamRateLimit() throws {
        var config = threeProviderConfig()
        config.teams[0].rateLimit = RateLimit(requestsPerMinute: 60, burstSeconds: 2)
        let clock = ManualClock()
        var router = try makeRouter(clock: clock, config)
        let actions = (0..<3).map { router.begin(request(UInt64($0))).1.reasons }
        #expect(actions == [[.primary], [.primary], [.rateLimited]])
        clock.advance(seconds: 1)
        let (_, afterRefill) = router.begin(request(9))
        #expect(afterRefill.action == .send)
    }

    @Test("a provider's known RPM limit keeps the router off an empty bucket")
    func providerLimit() throws {
        var config = threeProviderConfig(balancing: .leastOutstanding)
        config.targets[0].limits = RateLimit(requestsPerMinute: 60)
        var router = try makeRouter(config)
        var (first, _) = router.begin(request(1))
        let second = router.begin(request(2)).1
        #expect(second.targetIndex != 0 && router.rejectedAlternatives == [RejectedAlternative(target: "anthropic", reason: .providerLimit)])
        // The list is the latest decision's: the next call, which passes nothing over, empties it.
        let done = router.attemptFinished(&first, attempt: 1, AttemptOutcome(outcome: .success, latencyNanoseconds: 1_000_000))
        #expect(done.action == .complete && router.rejectedAlternatives.isEmpty)
        #expect(router.record(done).jsonLine().contains(#""rejected":[]"#))
    }

    @Test("an overall deadline stops retries that could not finish in time")
    func deadline() throws {
        var config = threeProviderConfig(retry: RetryPolicy(maxAttempts: 5, backoff: .exponential(baseSeconds: 4, capSeconds: 8)))
        config.routes[0].timeouts = Timeouts(firstTokenSeconds: 2, perTrySeconds: 10, overallSeconds: 6)
        let clock = ManualClock()
        var router = try makeRouter(clock: clock, config)
        var (state, first) = router.begin(request(1))
        #expect(first.attemptTimeoutNanoseconds == 6_000_000_000 && first.firstTokenTimeoutNanoseconds == 2_000_000_000)
        clock.advance(seconds: 1)
        let wait = router.attemptFinished(&state, attempt: 1, failure(.timeout))
        #expect(wait.action == .wait && wait.delayNanoseconds == 4_000_000_000)
        clock.advance(seconds: 4)
        let second = router.resume(&state)
        #expect(second.attemptTimeoutNanoseconds == 1_000_000_000, "what is left of the deadline")
        let done = router.attemptFinished(&state, attempt: 2, failure(.timeout))
        #expect(done.action == .fail && done.reasons == [.deadlineExceeded])
    }

    @Test("a bypass route calls its first target directly: no admission, no fallback, spend apart")
    func bypass() throws {
        var config = threeProviderConfig()
        config.routes.append(
            RouteConfig(name: "direct", chain: [TierConfig(targets: ["openai"])], retry: RetryPolicy(maxAttempts: 2, backoff: .none), mode: .bypass))
        var router = try makeRouter(config)
        var (state, first) = router.begin(try router.request(id: 1, route: "direct", team: "search", inputTokens: 1_000, maxOutputTokens: 100))
        #expect(first.targetIndex == 1 && first.reasons == [.primary, .bypass])
        let retry = router.attemptFinished(&state, attempt: 1, failure(.overloaded))
        #expect(retry.targetIndex == 1 && retry.reasons.contains(.bypass))
        _ = router.attemptFinished(&state, attempt: 2, ok(output: 100))
        #expect(router.ledger.teams[0].bypassUSD > 0 && router.ledger.teams[0].successfulUSD == 0)
    }

    @Test("budget modes: degrade switches to the cheaper route, alert-only marks decisions")
    func budgetModes() throws {
        var config = threeProviderConfig(balancing: .leastOutstanding)
        config.routes.append(RouteConfig(name: "cheap", chain: [TierConfig(targets: ["google"])], retry: RetryPolicy(maxAttempts: 1)))
        // One anthropic answer (1,000 in, 500 out) costs $0.0105, which is also the worst case
        // reserved per request: after one answer, a second no longer fits $0.02.
        config.budgets = [
            BudgetConfig(scope: .team("search"), limitUSD: 0.02, period: .every(seconds: 3_600), mode: .degrade(toRoute: "cheap")),
            BudgetConfig(scope: .team("batch"), limitUSD: 0.001, period: .every(seconds: 3_600), mode: .alertOnly),
        ]
        let clock = ManualClock()
        var router = try makeRouter(clock: clock, config)
        var (state, first) = router.begin(request(1, team: 0))
        _ = router.attemptFinished(&state, attempt: first.attempt, ok(output: 500))
        first = router.begin(request(2, team: 0)).1
        #expect(first.reasons.contains(.budgetDegraded) && first.targetIndex == 2 && first.routeIndex == 1)
        let (_, alertTeam) = router.begin(request(3, team: 1))
        #expect(alertTeam.reasons.contains(.budgetAlert))
        clock.advance(seconds: 3_600)
        let (_, nextPeriod) = router.begin(request(4, team: 0))
        #expect(!nextPeriod.reasons.contains(.budgetDegraded), "a new period, a fresh budget")
    }

    @Test("a decision record is one JSON line with names, sorted keys, and the documented fields")
    func decisionRecordFormat() throws {
        var router = try makeRouter(threeProviderConfig(balancing: .leastOutstanding))
        let line = router.record(router.begin(request(7)).1).jsonLine()
        // A route that writes no timeouts gets the defaults: 300 s to the first token, 300 s
        // between two frames, 600 s in all.
        #expect(
            line
                == #"{"action":"send","attempt":1,"attempt_timeout_ns":600000000000,"delay_ns":0,"first_token_timeout_ns":300000000000,"idle_timeout_ns":300000000000,"reasons":["primary"],"rejected":[],"request_id":7,"route":"chat","target":"anthropic","time_ns":0}"#
        )
        var timed = threeProviderConfig(balancing: .leastOutstanding, hedging: HedgingPolicy(delay: .fixed(seconds: 2)))
        timed.routes[0].timeouts = Timeouts(firstTokenSeconds: 5, overallSeconds: 60)
        var timedRouter = try makeRouter(timed)
        let limits = timedRouter.record(timedRouter.begin(request(8)).1).jsonLine()
        #expect(
            limits
                == #"{"action":"send","attempt":1,"attempt_timeout_ns":60000000000,"delay_ns":0,"first_token_timeout_ns":5000000000,"hedge_after_ns":2000000000,"idle_timeout_ns":300000000000,"reasons":["primary"],"rejected":[],"request_id":8,"route":"chat","target":"anthropic","time_ns":0}"#
        )
    }
}
