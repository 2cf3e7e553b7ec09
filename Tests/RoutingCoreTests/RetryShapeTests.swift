import Testing
@testable import RoutingCore

/// Where retries go — the same target after a transient failure, then down the chain — where a
/// context-length refusal goes, and the idle limit a send carries.
@Suite("Router: retry shape, context-window fallback, idle limit")
struct RetryShapeTests {
    func makeRouter(clock: ManualClock = ManualClock(), _ config: RouterConfig, seed: UInt64 = 1) throws -> Router {
        try Router(
            config: config, clock: clock, wallClock: OffsetWallClock(clock: clock, unixNanosecondsAtZero: 0), generator: SeededGenerator(state: seed))
    }

    /// The chain in order (least outstanding picks the first free, so the order is the chain's).
    func chainConfig(_ retry: RetryPolicy, contextFallbacks: [String] = [], idle: Double? = nil) -> RouterConfig {
        var config = threeProviderConfig(retry: retry, balancing: .leastOutstanding)
        config.routes[0].contextWindowFallbacks = contextFallbacks
        config.routes[0].timeouts.idleSeconds = idle
        return config
    }

    @Test("the default: a 500, a 429 or a connection error is retried once on the same target, then the chain; a 529 or a timeout moves on at once")
    func defaultShape() throws {
        #expect(RetryPolicy().target == .sameThenNext && RetryPolicy().sameTargetRetries == 1)
        var router = try makeRouter(chainConfig(RetryPolicy(maxAttempts: 4, backoff: .none)))
        var (state, first) = router.begin(request(1))
        #expect(first.targetIndex == 0)
        let again = router.attemptFinished(&state, attempt: 1, failure(.serverError))
        #expect(again.action == .send && again.targetIndex == 0 && again.reasons == [.retry, .sameTarget])
        let moved = router.attemptFinished(&state, attempt: 2, failure(.serverError))
        #expect(moved.action == .send && moved.targetIndex == 1 && moved.reasons == [.retry], "one retry on the same target, then the next")
        let skipped = router.attemptFinished(&state, attempt: 3, failure(.overloaded))
        #expect(skipped.targetIndex == 2, "a 529 moves on at once")
        for outcome in [OutcomeClass.timeout, .overloaded] {
            var (other, _) = router.begin(request(2))
            #expect(router.attemptFinished(&other, attempt: 1, failure(outcome)).targetIndex != 0, "\(outcome)")
        }
        for outcome in [OutcomeClass.rateLimited, .connectionError] {
            var (other, _) = router.begin(request(3))
            #expect(router.attemptFinished(&other, attempt: 1, failure(outcome)).targetIndex == 0, "\(outcome)")
        }
    }

    @Test("a 429's Retry-After is waited out and the retry goes back to the target that sent it")
    func sameTargetAfterRetryAfter() throws {
        let clock = ManualClock()
        var router = try makeRouter(clock: clock, chainConfig(RetryPolicy(maxAttempts: 3, backoff: .none)))
        var (state, _) = router.begin(request(1))
        let wait = router.attemptFinished(&state, attempt: 1, failure(.rateLimited, retryAfter: 2))
        #expect(wait.action == .wait && wait.delayNanoseconds == 2_000_000_000)
        clock.advance(seconds: 2)
        let resumed = router.resume(&state)
        #expect(resumed.action == .send && resumed.targetIndex == 0 && resumed.reasons.contains(.sameTarget))
    }

    /// Across the policy space — each target setting, 0…3 same-target retries, 1…6 attempts,
    /// random failure sequences — the targets a request visits keep the rule: a retry goes
    /// back to the target that failed only when the policy says so (`same` always; `same_then_next`
    /// after a transient class, at most `same_target_retries` times in a row); otherwise it
    /// goes to a target not yet tried while one is left.
    @Test("the retry rule holds over random policies and failure sequences (2,000 requests)")
    func policySpace() throws {
        var random = SeededGenerator(state: 29)
        let classes: [OutcomeClass] = [.rateLimited, .overloaded, .serverError, .timeout, .connectionError]
        for case let id in 0..<2_000 {
            let target = RetryTarget.allCases[Int(random.next() % 3)]
            let retries = Int(random.next() % 4)
            let attempts = 1 + Int(random.next() % 6)
            var router = try makeRouter(
                chainConfig(RetryPolicy(maxAttempts: attempts, backoff: .none, target: target, sameTargetRetries: retries)), seed: UInt64(id))
            var (state, decision) = router.begin(request(UInt64(id)))
            var visited: [Int32] = [decision.targetIndex]
            var outcomes: [OutcomeClass] = []
            while decision.action == .send {
                let outcome = classes[Int(random.next() % UInt64(classes.count))]
                outcomes.append(outcome)
                decision = router.attemptFinished(&state, attempt: decision.attempt, failure(outcome))
                guard decision.action == .send else { break }
                let previous = visited.last!
                let run = visited.reversed().prefix { $0 == previous }.count
                let same = decision.targetIndex == previous
                let expectsSame: Bool =
                    switch target {
                    case .same: true
                    case .next: false
                    case .sameThenNext: RetryPolicy.sameTargetClasses.contains(outcome) && run <= retries
                    }
                if expectsSame {
                    #expect(same, "request \(id): \(target) r=\(retries) after \(outcomes) visited \(visited) then \(decision.targetIndex)")
                } else if Set(visited).count < 3 {
                    #expect(
                        !visited.contains(decision.targetIndex),
                        "request \(id): \(target) r=\(retries) after \(outcomes) visited \(visited) then \(decision.targetIndex)")
                }
                #expect(
                    decision.reasons.contains(.sameTarget) == (expectsSame && same),
                    "the reason marks a retry the rule sent back, not one the chain ran out into")
                visited.append(decision.targetIndex)
            }
            #expect(visited.count <= attempts)
        }
    }

    @Test(
        "a context-length refusal goes to the route's context-window fallbacks in order, with its reason; its retries stay there; a content filter is passed back"
    )
    func contextWindowFallback() throws {
        var router = try makeRouter(chainConfig(RetryPolicy(maxAttempts: 2, backoff: .none), contextFallbacks: ["google", "openai"]))
        var (state, first) = router.begin(request(1))
        #expect(first.targetIndex == 0)
        var refusal = failure(.clientError)
        refusal.contextWindowExceeded = true
        let larger = router.attemptFinished(&state, attempt: 1, refusal)
        #expect(larger.action == .send && larger.targetIndex == 2 && larger.reasons == [.contextWindowFallback])
        // google refuses too: the next fallback, though max_attempts (2) is reached: the
        // request moved, it was not retried.
        let largest = router.attemptFinished(&state, attempt: 2, refusal)
        #expect(largest.action == .send && largest.targetIndex == 1 && largest.reasons == [.contextWindowFallback])
        let done = router.attemptFinished(&state, attempt: 3, ok())
        #expect(done.action == .complete && done.targetIndex == 1)
        // A transient failure on a context fallback is retried among the fallbacks only.
        var (other, _) = router.begin(request(2))
        _ = router.attemptFinished(&other, attempt: 1, refusal)
        let retried = router.attemptFinished(&other, attempt: 2, failure(.overloaded))
        #expect(retried.action == .fail && retried.reasons == [.maxAttempts], "max_attempts bounds retries after the move")
        var wider = try makeRouter(chainConfig(RetryPolicy(maxAttempts: 3, backoff: .none), contextFallbacks: ["google"]))
        var (third, _) = wider.begin(request(3))
        _ = wider.attemptFinished(&third, attempt: 1, refusal)
        let stays = wider.attemptFinished(&third, attempt: 2, failure(.overloaded))
        #expect(stays.action == .send && stays.targetIndex == 2 && stays.reasons.contains(.contextWindowFallback), "never back to a target too small")
        // Without the flag a 4xx is the request's own fault: passed back.
        var (filtered, _) = router.begin(request(4))
        let passed = router.attemptFinished(&filtered, attempt: 1, failure(.clientError))
        #expect(passed.action == .fail && passed.reasons == [.notRetryable])
        // Without fallbacks the refusal is passed back too.
        var plain = try makeRouter(chainConfig(RetryPolicy(maxAttempts: 3, backoff: .none)))
        var (unrouted, _) = plain.begin(request(5))
        #expect(plain.attemptFinished(&unrouted, attempt: 1, refusal).action == .fail)
    }

    @Test("a send carries the route's idle limit, 300 s unless written")
    func idleLimit() throws {
        var written = try makeRouter(chainConfig(RetryPolicy(), idle: 2.5))
        #expect(written.begin(request(1)).1.idleTimeoutNanoseconds == 2_500_000_000)
        var unwritten = try makeRouter(chainConfig(RetryPolicy()))
        #expect(unwritten.begin(request(1)).1.idleTimeoutNanoseconds == 300_000_000_000)
    }

    @Test("the lint: a chain a retry shape can never reach, and bad values")
    func lint() {
        func warnings(_ retry: RetryPolicy) -> [String] {
            var config = chainConfig(retry)
            config.health = HealthConfig(breaker: nil)
            return config.validate().warnings.map(\.message)
        }
        #expect(warnings(RetryPolicy(maxAttempts: 3, target: .same)).contains { $0.contains("can never be reached") })
        #expect(
            warnings(RetryPolicy(maxAttempts: 2, target: .sameThenNext)).contains {
                $0.contains("targets after the first 1 are reached only past timeouts and 529s")
            })
        #expect(!warnings(RetryPolicy(maxAttempts: 6, target: .sameThenNext)).contains { $0.contains("reached only past") })
        var bad = chainConfig(RetryPolicy(sameTargetRetries: -1), contextFallbacks: ["gogle", "openai", "openai"], idle: 0)
        bad.health = HealthConfig(breaker: nil)
        let errors = bad.validate().errors.map { "\($0.path): \($0.message)" }
        #expect(errors.contains { $0.hasPrefix("routes.chat.retry.same_target_retries") })
        #expect(errors.contains { $0.hasPrefix("routes.chat.timeouts.idle_s") })
        #expect(errors.contains { $0.contains("context_window_fallbacks") && $0.contains("'google'") }, "\(errors)")
        #expect(errors.contains { $0.contains("'openai' is listed twice") })
    }
}

@Suite("Stream commit policy")
struct StreamCommitTests {
    @Test("the release rule: tokens or time, whichever first; complete only at the end; pass-through at the first token")
    func releases() {
        #expect(!StreamCommit.firstByte.holds && StreamCommit.firstByte.releases(tokens: 1, sinceFirstTokenNanoseconds: 0))
        let either = StreamCommit(afterTokens: 20, afterSeconds: 2)
        #expect(!either.releases(tokens: 19, sinceFirstTokenNanoseconds: 1_999_999_999))
        #expect(either.releases(tokens: 20, sinceFirstTokenNanoseconds: 0) && either.releases(tokens: 1, sinceFirstTokenNanoseconds: 2_000_000_000))
        #expect(!StreamCommit(complete: true).releases(tokens: 10_000, sinceFirstTokenNanoseconds: Int64.max))
        #expect(StreamCommit(afterTokens: 1).holds == false, "one token is the first byte")
        // Evenly paced tokens: 21 tokens from 1 s to 3 s, one every 0.1 s.
        #expect(abs(either.commitSeconds(firstToken: 1, lastToken: 3, tokens: 21)! - 2.9) < 1e-12)
        #expect(abs(StreamCommit(afterTokens: 5).commitSeconds(firstToken: 1, lastToken: 3, tokens: 21)! - 1.4) < 1e-12)
        #expect(
            StreamCommit(afterTokens: 50).commitSeconds(firstToken: 1, lastToken: 3, tokens: 21) == nil,
            "fewer tokens than the hold: at the end, if it completes")
        #expect(StreamCommit(complete: true).commitSeconds(firstToken: 1, lastToken: 3, tokens: 21) == nil)
        #expect(StreamCommit.firstByte.commitSeconds(firstToken: 1, lastToken: 3, tokens: 21) == 1)
        #expect(
            either.summary == "after 20 tokens or 2 s" && StreamCommit(complete: true).summary == "when complete"
                && StreamCommit.firstByte.summary == "at once")
    }
}

@Suite("Hot-path value sizes")
struct HotPathSizeTests {
    /// A decision is copied on every event of a simulation and every router call of the
    /// gateway: its fields are ordered so that none pads another, and it is plain data (a copy
    /// is a copy of its bytes, no reference counted; the targets it passed over are the
    /// router's). A field added carelessly grows it or makes it reference counted; this holds
    /// it to what it is (counts, not timings).
    @Test("a decision takes 88 bytes with its stride, and is plain data")
    func decisionSize() {
        #expect(MemoryLayout<Decision>.stride == 88, "size \(MemoryLayout<Decision>.size), stride \(MemoryLayout<Decision>.stride)")
        #expect(_isPOD(Decision.self))
    }
}
