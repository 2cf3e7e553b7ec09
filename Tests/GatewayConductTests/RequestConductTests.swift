import GatewayConduct
import RoutingCore
import Testing

/// The request conduct both gateways drive, run in process on an injected clock: no sleeps,
/// no sockets. Each test feeds events in the order a gateway would see them and checks the
/// effects and the router calls.
@Suite("Request conduct")
struct RequestConductTests {
    /// A router as the conduct calls it, on a manual clock, recording every call.
    struct RecordingRouter: ConductRouter, ~Copyable {
        var router: Router
        let clock: ManualClock
        var calls: [String] = []
        /// Attempts reported to the router (ended or withheld), in order.
        var reported: [Int32] = []

        init(_ config: RouterConfig, seed: UInt64 = 7) throws {
            let clock = ManualClock()
            self.clock = clock
            router = try Router(
                config: config, clock: clock, wallClock: OffsetWallClock(clock: clock, unixNanosecondsAtZero: 0),
                generator: SplitMix64(seed: seed))
        }

        mutating func advance(seconds: Double) { clock.advance(seconds: seconds) }
        var now: Int64 { clock.now.nanoseconds }

        mutating func begin(id: UInt64, streamed: Bool = true) -> (RequestConduct, ConductEffects) {
            let request = try! router.request(id: id, route: "chat", team: "search", inputTokens: 1_000, maxOutputTokens: 400, streamed: streamed)
            var conduct = RequestConduct(unbegun: request)
            let effects = conduct.begin(&self)
            return (conduct, effects)
        }

        mutating func begin(_ state: inout RequestState) -> Decision {
            let decision = router.begin(&state)
            calls.append("begin:\(decision.action.rawValue)")
            return decision
        }

        mutating func attemptFinished(
            _ state: inout RequestState, attempt: Int32, _ outcome: AttemptOutcome, firstTokenNanoseconds: Int64?
        ) -> Decision {
            let (measured, decision) = router.attemptFinished(measuredAt: now, &state, attempt: attempt, outcome)
            calls.append("finished \(attempt) \(measured.outcome.rawValue):\(decision.action.rawValue)")
            reported.append(attempt)
            return decision
        }

        mutating func attemptWithheld(_ state: inout RequestState, attempt: Int32) -> Decision {
            let (_, decision) = router.attemptFinished(
                measuredAt: now, &state, attempt: attempt, AttemptOutcome(outcome: .cancelled, latencyNanoseconds: 0))
            calls.append("withheld \(attempt):\(decision.action.rawValue)")
            reported.append(attempt)
            return decision
        }

        mutating func resume(_ state: inout RequestState) -> Decision {
            let decision = router.resume(&state)
            calls.append("resume:\(decision.action.rawValue)")
            return decision
        }

        mutating func hedgeDue(_ state: inout RequestState) -> Decision {
            let decision = router.hedgeDue(&state)
            calls.append("hedge_due:\(decision.action.rawValue)")
            return decision
        }

        mutating func firstByteReachedClient(requestID: UInt64, attempt: Int32) { calls.append("first_byte \(attempt)") }
        mutating func clientWentAway(requestID: UInt64) { calls.append("client_gone") }
    }

    static func config(
        hedgeAfterSeconds: Double? = nil, maxAttempts: Int = 3, backoff: Backoff = .none, firstTokenSeconds: Double? = nil,
        perTrySeconds: Double? = nil
    ) -> RouterConfig {
        RouterConfig(
            targets: [
                TargetConfig(name: "primary", inputPricePerMillion: 3, outputPricePerMillion: 15),
                TargetConfig(name: "secondary", inputPricePerMillion: 2.5, outputPricePerMillion: 10),
            ],
            routes: [
                RouteConfig(
                    name: "chat", chain: [TierConfig(targets: ["primary"]), TierConfig(targets: ["secondary"])],
                    retry: RetryPolicy(maxAttempts: maxAttempts, backoff: backoff), retryBudget: .unlimited,
                    hedging: hedgeAfterSeconds.map { HedgingPolicy(delay: .fixed(seconds: $0)) },
                    timeouts: Timeouts(firstTokenSeconds: firstTokenSeconds, perTrySeconds: perTrySeconds))
            ],
            teams: [TeamConfig(name: "search", tier: 0)],
            health: HealthConfig(breaker: nil)
        )
    }

    static func success(output: Int = 400) -> AttemptOutcome {
        AttemptOutcome(outcome: .success, latencyNanoseconds: 0, inputTokens: 1_000, outputTokens: output)
    }

    @Test("a budget in degrade mode switches the route: the attempt order names the route in force, whose stream rules both drivers apply")
    func orderNamesTheRouteInForce() throws {
        var config = Self.config()
        config.routes.append(
            RouteConfig(
                name: "held", chain: [TierConfig(targets: ["secondary"])], onMalformedEvent: .fail,
                streamCommit: StreamCommit(complete: true)))
        // Worst case of one request: 1,000 in and 400 out at primary's prices, $0.009; the
        // budget holds less, so the request is degraded at once.
        config.budgets = [BudgetConfig(scope: .team("search"), limitUSD: 0.001, period: .day, mode: .degrade(toRoute: "held"))]
        var router = try RecordingRouter(config)
        let (_, effects) = router.begin(id: 1)
        let order = try #require(effects.send)
        #expect(order.route.index == 1 && order.target.index == 1)
        var plain = try RecordingRouter(Self.config())
        #expect(try #require(plain.begin(id: 1).1.send).route.index == 0)
    }

    @Test("a stream whose first byte reaches the client before the hedge delay is never hedged (the timer fires disarmed)")
    func noHedgeAfterFirstByte() throws {
        var router = try RecordingRouter(Self.config(hedgeAfterSeconds: 2.5))
        var (conduct, effects) = router.begin(id: 1)
        #expect(effects.send?.attempt == 1)
        #expect(effects.send?.watchesFirstByte == true)
        #expect(effects.armHedgeTimerNanoseconds == 2_500_000_000)
        router.advance(seconds: 0.8)
        effects = conduct.firstByte(of: 1, at: router.now, &router)
        #expect(effects.commit == 1)
        #expect(effects.disarmHedgeTimer)
        #expect(conduct.phase == .streaming(attempt: 1))
        router.advance(seconds: 1.7)
        effects = conduct.hedgeTimerFired(&router)
        #expect(effects == ConductEffects())
        router.advance(seconds: 6)
        effects = conduct.attemptEnded(1, Self.success(), &router)
        let ending = try #require(effects.ending)
        #expect(ending.succeeded && ending.attempts == 1 && !ending.hedged && ending.firstByteAt == 800_000_000)
        #expect(effects.forget)
        #expect(router.calls == ["begin:send", "first_byte 1", "finished 1 success:complete"])
    }

    @Test("a hedge race goes to the first attempt whose first byte reaches the client; the other is cancelled then, and reported cancelled")
    func hedgeRace() throws {
        var router = try RecordingRouter(Self.config(hedgeAfterSeconds: 1))
        var (conduct, effects) = router.begin(id: 1)
        router.advance(seconds: 1)
        effects = conduct.hedgeTimerFired(&router)
        let hedge = try #require(effects.send)
        #expect(hedge.isHedge && hedge.attempt == 2 && hedge.watchesFirstByte)
        router.advance(seconds: 0.5)
        effects = conduct.firstByte(of: 2, at: router.now, &router)
        #expect(effects.commit == 2)
        #expect(effects.cancellations.count == 1 && effects.cancellations.contains(1))
        // The primary's success crossed the cancel: it went nowhere.
        effects = conduct.attemptEnded(1, Self.success(), &router)
        #expect(effects.ending == nil)
        effects = conduct.attemptEnded(2, Self.success(), &router)
        let ending = try #require(effects.ending)
        #expect(ending.succeeded && ending.winner == 2 && ending.hedged && ending.attempts == 2)
        #expect(router.calls.contains("finished 1 cancelled:none"))
        // The loser's cost is waste, not a retry's.
        #expect(router.router.ledger.teams[0].retriedUSD == 0 && router.router.ledger.teams[0].wastedUSD > 0)
        #expect(effects.forget)
    }

    @Test("the winner's stream breaks before the cancelled loser reports: the request still ends, failed (it hung the live gateway)")
    func winnerBreaksBeforeLoserReports() throws {
        var router = try RecordingRouter(Self.config(hedgeAfterSeconds: 0.5))
        var (conduct, _) = router.begin(id: 1)
        router.advance(seconds: 0.5)
        _ = conduct.hedgeTimerFired(&router)
        var effects = conduct.firstByte(of: 1, at: router.now, &router)
        #expect(effects.cancellations.contains(2))
        // The winner's stream breaks while the loser's cancel is still on its way.
        effects = conduct.attemptEnded(1, AttemptOutcome(outcome: .failedAfterFirstByte, latencyNanoseconds: 0), &router)
        #expect(effects.ending == nil, "the loser is still out")
        effects = conduct.attemptEnded(2, AttemptOutcome(outcome: .cancelled, latencyNanoseconds: 0), &router)
        let ending = try #require(effects.ending, "the last report ends the request")
        #expect(!ending.succeeded && ending.failure == .streamInterrupted && effects.forget)
    }

    @Test("a limit that passes after the first byte cuts the stream: failed after its first byte, not retried, an error event")
    func limitAfterFirstByte() throws {
        var router = try RecordingRouter(Self.config(perTrySeconds: 10))
        var (conduct, _) = router.begin(id: 1)
        router.advance(seconds: 1)
        _ = conduct.firstByte(of: 1, at: router.now, &router)
        router.advance(seconds: 9)
        let effects = conduct.attemptEnded(1, AttemptOutcome(outcome: .timeout, latencyNanoseconds: 0), &router)
        let ending = try #require(effects.ending)
        #expect(effects.send == nil)
        #expect(ending.failure == .streamInterrupted && ending.afterFirstByte && !ending.sdkMayRetry)
        #expect(router.calls.last == "finished 1 failed_after_first_byte:fail")
    }

    @Test("a limit before the first byte is a timeout the router retries on the next target")
    func limitBeforeFirstByte() throws {
        var router = try RecordingRouter(Self.config(firstTokenSeconds: 2))
        var (conduct, _) = router.begin(id: 1)
        router.advance(seconds: 2)
        var effects = conduct.attemptEnded(1, AttemptOutcome(outcome: .timeout, latencyNanoseconds: 0), &router)
        let retry = try #require(effects.send)
        #expect(retry.attempt == 2 && router.router.name(of: retry.target) == "secondary" && !retry.watchesFirstByte)
        // The late answer to the timed-out attempt is ignored: the router heard of it once.
        effects = conduct.attemptEnded(1, Self.success(), &router)
        #expect(effects == ConductEffects())
        #expect(router.reported == [1])
    }

    @Test("a client gone during a backoff: the retry the router picks is withheld and the request fails without a send")
    func clientGoneDuringBackoff() throws {
        var router = try RecordingRouter(Self.config(backoff: .exponential(baseSeconds: 1, capSeconds: 1)))
        var (conduct, _) = router.begin(id: 1)
        var effects = conduct.attemptEnded(1, AttemptOutcome(outcome: .overloaded, latencyNanoseconds: 0), &router)
        #expect(effects.backoffNanoseconds == 1_000_000_000)
        #expect(conduct.phase == .backingOff)
        effects = conduct.clientWentAway(&router)
        #expect(effects.cancellations.count == 0)
        router.advance(seconds: 1)
        effects = conduct.backoffEnded(&router)
        #expect(effects.send == nil)
        let ending = try #require(effects.ending)
        #expect(!ending.succeeded && ending.clientGone)
        #expect(router.calls.contains { $0.hasPrefix("withheld 2") })
        #expect(conduct.phase == .done && effects.forget)
    }

    @Test("failures are told as the router decided them: status and whether an SDK may retry")
    func failuresAsTold() throws {
        var router = try RecordingRouter(Self.config(maxAttempts: 2))
        var (conduct, _) = router.begin(id: 1)
        _ = conduct.attemptEnded(1, AttemptOutcome(outcome: .serverError, latencyNanoseconds: 0), &router)
        let effects = conduct.attemptEnded(2, AttemptOutcome(outcome: .overloaded, latencyNanoseconds: 0), &router)
        let ending = try #require(effects.ending)
        #expect(ending.failure == .upstreamsFailed && ending.failure?.status == 502 && ending.sdkMayRetry)
        var refused = try RecordingRouter(Self.config())
        var (other, _) = refused.begin(id: 2)
        let refusal = try #require(other.attemptEnded(1, AttemptOutcome(outcome: .clientError, latencyNanoseconds: 0), &refused).ending)
        #expect(refusal.failure == .refusedByUpstream && !refusal.sdkMayRetry)
    }

    @Test("a whole answer has one limit, the earlier of the route's two, and no first byte to watch before its end")
    func wholeAnswerLimits() throws {
        for (firstToken, perTry, expected) in [(2.0, 10.0, 2.0), (10.0, 3.0, 3.0), (nil, 4.0, 4.0), (5.0, nil, 5.0)] as [(Double?, Double?, Double)] {
            var router = try RecordingRouter(Self.config(hedgeAfterSeconds: 1, firstTokenSeconds: firstToken, perTrySeconds: perTry))
            let (_, effects) = router.begin(id: 1, streamed: false)
            let order = try #require(effects.send)
            #expect(order.firstTokenLimitNanoseconds == nil && order.attemptLimitNanoseconds == Int64(expected * 1e9))
            #expect(!order.watchesFirstByte, "a whole answer's first byte is its end, told with its ending")
            var streamed = try RecordingRouter(Self.config(hedgeAfterSeconds: 1, firstTokenSeconds: firstToken, perTrySeconds: perTry))
            let streamOrder = try #require(streamed.begin(id: 1).1.send)
            // A route that writes no first-token limit has the default one.
            #expect(
                streamOrder.firstTokenLimitNanoseconds == Int64((firstToken ?? Timeouts.defaultFirstTokenSeconds) * 1e9)
                    && streamOrder.watchesFirstByte)
            // A stream carries the idle limit between its frames; a whole answer shows none.
            #expect(streamOrder.idleLimitNanoseconds == Int64(Timeouts.defaultIdleSeconds * 1e9) && order.idleLimitNanoseconds == nil)
        }
    }

    @Test("a whole answer hedged: the hedge goes out while the first attempt is still working, and the first to end takes the client")
    func wholeAnswerHedged() throws {
        var router = try RecordingRouter(Self.config(hedgeAfterSeconds: 1))
        var (conduct, effects) = router.begin(id: 1, streamed: false)
        router.advance(seconds: 1)
        // A stream would have had its first byte out by now; a whole answer has not.
        effects = conduct.hedgeTimerFired(&router)
        #expect(effects.send?.attempt == 2 && effects.send?.isHedge == true)
        router.advance(seconds: 0.5)
        effects = conduct.firstByte(of: 2, at: router.now, &router)
        #expect(effects.commit == 2 && effects.cancellations.contains(1))
        effects = conduct.attemptEnded(2, Self.success(), &router)
        #expect(effects.ending?.succeeded == true && effects.ending?.winner == 2)
    }

    @Test("a whole answer whose body broke reached nobody: a connection error the router retries, where a broken stream is not retried")
    func brokenWholeAnswerIsRetried() throws {
        var router = try RecordingRouter(Self.config())
        var (conduct, _) = router.begin(id: 1, streamed: false)
        let effects = conduct.attemptEnded(1, AttemptOutcome(outcome: .failedAfterFirstByte, latencyNanoseconds: 0), &router)
        #expect(effects.send?.attempt == 2)
        #expect(router.calls.last == "finished 1 connection_error:send")
        var streamed = try RecordingRouter(Self.config())
        var (stream, _) = streamed.begin(id: 1)
        _ = stream.firstByte(of: 1, at: streamed.now, &streamed)
        #expect(stream.attemptEnded(1, AttemptOutcome(outcome: .failedAfterFirstByte, latencyNanoseconds: 0), &streamed).ending?.succeeded == false)
        // A stream still held by the route's commit policy broke before its first byte reached
        // the client (rule 8): retried, as a whole answer's break is.
        var held = try RecordingRouter(Self.config())
        var (holding, _) = held.begin(id: 1)
        #expect(holding.attemptEnded(1, AttemptOutcome(outcome: .failedAfterFirstByte, latencyNanoseconds: 0), &held).send?.attempt == 2)
        #expect(held.calls.last == "finished 1 connection_error:send")
    }

    /// One step of a random life: which event, for which attempt, after how long.
    enum Step: CaseIterable { case firstByte, end, timeout, hedgeTimer, backoffEnd, clientGone }

    @Test(
        "random lives over the policy space: each attempt reported once, nothing sent after the first byte, one ending, same events same effects",
        arguments: 0..<40)
    func randomLives(seed: UInt64) throws {
        var generator = SplitMix64(seed: 0xC0DE_0000 + seed)
        let hedge: Double? = Bool.random(using: &generator) ? Double.random(in: 0.1...2, using: &generator) : nil
        let config = Self.config(
            hedgeAfterSeconds: hedge, maxAttempts: Int.random(in: 1...4, using: &generator),
            backoff: Bool.random(using: &generator) ? .none : .exponential(baseSeconds: 0.5, capSeconds: 0.5))
        let eventSeed = generator.next()
        let streamed = Bool.random(using: &generator)
        let first = try Self.live(config: config, streamed: streamed, eventSeed: eventSeed)
        let second = try Self.live(config: config, streamed: streamed, eventSeed: eventSeed)
        #expect(first.trail == second.trail, "the same events gave different effects")
        #expect(Set(first.reported).count == first.reported.count, "an attempt was reported twice: \(first.reported)")
        #expect(first.endings <= 1)
    }

    /// Drives one request with random events until it is forgotten (or 200 steps); returns
    /// its effects as text, the attempts reported and the endings seen.
    static func live(config: RouterConfig, streamed: Bool, eventSeed: UInt64) throws -> (trail: [String], reported: [Int32], endings: Int) {
        var generator = SplitMix64(seed: eventSeed)
        var router = try RecordingRouter(config)
        var (conduct, effects) = router.begin(id: 1, streamed: streamed)
        var trail: [String] = []
        // Attempts in flight, in the order sent: an array, not a Set, whose order (and so
        // randomElement) differs between two instances and would make the two lives differ.
        var out: [Int32] = []
        var sent: [Int32] = []
        var endings = 0
        var hedgeArmed = false, backingOff = false
        for _ in 0..<200 {
            if let send = effects.send {
                #expect(conduct.committedAttempt == nil, "a send after the first byte")
                if !out.contains(send.attempt) { out.append(send.attempt) }
                sent.append(send.attempt)
            }
            if effects.armHedgeTimerNanoseconds != nil { hedgeArmed = true }
            if effects.backoffNanoseconds != nil { backingOff = true }
            if effects.ending != nil { endings += 1 }
            trail.append("\(effects)")
            if effects.forget { break }
            router.advance(seconds: Double.random(in: 0...1, using: &generator))
            let attempt = out.randomElement(using: &generator)
            switch Step.allCases.randomElement(using: &generator)! {
            case .firstByte:
                guard let attempt else { continue }
                effects = conduct.firstByte(of: attempt, at: router.now, &router)
            case .end:
                // Now and then an attempt that already ended answers again (a late answer).
                guard let attempt = Bool.random(using: &generator) ? attempt : sent.randomElement(using: &generator) else { continue }
                out.removeAll { $0 == attempt }
                let outcome: OutcomeClass = [.success, .overloaded, .serverError, .rateLimited, .clientError].randomElement(using: &generator)!
                effects = conduct.attemptEnded(
                    attempt, AttemptOutcome(outcome: outcome, latencyNanoseconds: 0, inputTokens: 100, outputTokens: 10), &router)
            case .timeout:
                guard let attempt else { continue }
                out.removeAll { $0 == attempt }
                effects = conduct.attemptEnded(attempt, AttemptOutcome(outcome: .timeout, latencyNanoseconds: 0), &router)
            case .hedgeTimer:
                guard hedgeArmed else { continue }
                hedgeArmed = false
                effects = conduct.hedgeTimerFired(&router)
            case .backoffEnd:
                guard backingOff else { continue }
                backingOff = false
                effects = conduct.backoffEnded(&router)
            case .clientGone:
                effects = conduct.clientWentAway(&router)
            }
        }
        return (trail, router.reported, endings)
    }
}
