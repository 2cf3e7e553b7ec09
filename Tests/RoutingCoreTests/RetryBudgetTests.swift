import Testing
import RoutingCore

@Suite("Retry budgets")
struct RetryBudgetTests {
    func at(_ seconds: Double) -> RoutingInstant { RoutingInstant(nanoseconds: Seconds.nanoseconds(seconds)) }

    /// How many retries the budget grants, asked one after another at `time`.
    func grants(_ budget: inout RetryBudget, at time: Double, asking: Int = 1_000) -> Int {
        (0..<asking).reduce(0) { count, _ in count + (budget.tryWithdrawRetry(at: at(time)) ? 1 : 0) }
    }

    @Test("unlimited grants every retry")
    func unlimited() {
        var refusal: Double = 0
        var granted = 0
        var budget = RetryBudget(.unlimited)
        budget.recordOutcome(.overloaded, at: at(0))
        granted = grants(&budget, at: 0)
        #expect(granted == 1_000)
        refusal = budget.rejectionProbability(at: at(0))
        #expect(refusal == 0)
    }

    /// The balance a gauge shows is exactly what the budget grants next (Finagle), its tokens
    /// (gRPC) or the chance an attempt is sent (adaptive throttling).
    @Test("balance: what the budget has left")
    func balance() {
        var unlimited = RetryBudget(.unlimited)
        #expect(unlimited.balance(at: at(0)) == nil)

        var finagle = RetryBudget(.finagle(ttlSeconds: 10, minRetriesPerSecond: 1, percentCanRetry: 0.2))
        for _ in 0..<50 { finagle.recordRequest(at: at(1)) }
        _ = grants(&finagle, at: 1, asking: 3)
        let left = finagle.balance(at: at(1))
        #expect(left == 17)  // 1/s × 10 s + 20% of 50 − 3
        #expect(grants(&finagle, at: 1) == 17)
        #expect(finagle.balance(at: at(1)) == 0)

        var grpc = RetryBudget(.grpc(maxTokens: 10, tokenRatio: 0.1))
        grpc.recordOutcome(.serverError, at: at(0))
        #expect(grpc.balance(at: at(0)) == 9)

        var adaptive = RetryBudget(.adaptiveThrottling(k: 2, windowSeconds: 120))
        #expect(adaptive.balance(at: at(0)) == 1)
        for _ in 0..<10 { adaptive.recordOutcome(.overloaded, at: at(1)) }
        #expect(abs(adaptive.balance(at: at(1))! - 1.0 / 11) < 1e-12)  // 1 − (10 − 2·0) / (10 + 1)
    }

    @Test("Finagle: retries ≤ minRetriesPerSecond·ttl + percentCanRetry·requests over the ttl")
    func finagle() {
        var granted = 0
        var budget = RetryBudget(.finagle(ttlSeconds: 10, minRetriesPerSecond: 1, percentCanRetry: 0.2))
        // No requests: the floor alone, 1/s × 10 s.
        granted = grants(&budget, at: 0)
        #expect(granted == 10)
        // 50 requests add 20% of 50.
        for _ in 0..<50 { budget.recordRequest(at: at(1)) }
        granted = grants(&budget, at: 1)
        #expect(granted == 10)
        // At 10 s the retries of second 0 leave the window; the requests of second 1 stay.
        granted = grants(&budget, at: 10)
        #expect(granted == 10)
        granted = grants(&budget, at: 10.9)
        #expect(granted == 0)
        // At 11 s the requests and the retries of second 1 leave: only the floor is left,
        // and second 10 already spent it.
        granted = grants(&budget, at: 11)
        #expect(granted == 0)
        granted = grants(&budget, at: 20)
        #expect(granted == 10)
    }

    @Test("Finagle's default is ttl 10 s, 10 retries/s, 20%")
    func finagleDefault() {
        var granted = 0
        #expect(RetryBudgetConfig.finagleDefault == .finagle(ttlSeconds: 10, minRetriesPerSecond: 10, percentCanRetry: 0.2))
        var budget = RetryBudget(.finagleDefault)
        for _ in 0..<1_000 { budget.recordRequest(at: at(0)) }
        granted = grants(&budget, at: 0, asking: 2_000)
        #expect(granted == 100 + 200)
    }

    @Test("gRPC throttling: a failure costs a token, a success earns tokenRatio, retries stop at or below half")
    func grpc() {
        var withdrew: Bool = false
        var granted = 0
        var budget = RetryBudget(.grpc(maxTokens: 10, tokenRatio: 0.5))
        #expect(budget.grpcTokens == 10)
        granted = grants(&budget, at: 0)
        #expect(granted == 1_000, "withdrawing does not spend tokens: failures do")
        for _ in 0..<4 { budget.recordOutcome(.overloaded, at: at(0)) }
        #expect(budget.grpcTokens == 6)
        withdrew = budget.tryWithdrawRetry(at: at(0))
        #expect(withdrew)
        budget.recordOutcome(.rateLimited, at: at(0))
        #expect(budget.grpcTokens == 5)
        withdrew = budget.tryWithdrawRetry(at: at(0))
        #expect(withdrew == false, "5 is not above 10/2")
        // The caller's own errors and cancellations are not the server's failures.
        budget.recordOutcome(.clientError, at: at(0))
        budget.recordOutcome(.cancelled, at: at(0))
        #expect(budget.grpcTokens == 5)
        budget.recordOutcome(.success, at: at(0))
        #expect(budget.grpcTokens == 5.5)
        withdrew = budget.tryWithdrawRetry(at: at(0))
        #expect(withdrew)
        for _ in 0..<100 { budget.recordOutcome(.success, at: at(0)) }
        #expect(budget.grpcTokens == 10, "capped at maxTokens")
        for _ in 0..<100 { budget.recordOutcome(.serverError, at: at(0)) }
        #expect(budget.grpcTokens == 0, "never below zero")
    }

    @Test(
        "adaptive throttling: refuses with probability max(0, (requests − K·accepts)/(requests + 1)) over the window; requests count when answered or refused"
    )
    func adaptiveThrottling() {
        var refusal: Double = 0
        var granted = 0
        var budget = RetryBudget(.adaptiveThrottling(k: 2, windowSeconds: 120))
        // Requests on their way are no evidence: a budget that has seen no answer refuses nothing.
        for _ in 0..<80 { budget.recordRequest(at: at(0)) }
        refusal = budget.rejectionProbability(at: at(0))
        #expect(refusal == 0)
        for _ in 0..<20 { budget.recordOutcome(.success, at: at(1)) }
        for _ in 0..<5 { budget.recordOutcome(.clientError, at: at(1)) }  // answered: an accept
        for _ in 0..<30 { budget.recordOutcome(.overloaded, at: at(1)) }  // rejected: a request, not an accept
        for _ in 0..<10 { budget.recordOutcome(.rateLimited, at: at(1)) }
        for _ in 0..<7 { budget.recordOutcome(.cancelled, at: at(1)) }  // never answered: nothing
        for _ in 0..<35 { budget.recordLocalRefusal(at: at(1)) }  // refused here: a request
        refusal = budget.rejectionProbability(at: at(2))
        #expect(refusal == (100 - 2 * 25) / 101.0)
        granted = grants(&budget, at: 2)
        #expect(granted == 1_000, "the budget itself does not refuse; the router draws against the probability")
        // Enough accepts: no throttling at all.
        for _ in 0..<50 { budget.recordOutcome(.success, at: at(3)) }  // 150 requests, 75 accepts
        refusal = budget.rejectionProbability(at: at(3))
        #expect(refusal == 0)
        // Everything leaves the window 120 s after it was counted.
        refusal = budget.rejectionProbability(at: at(200))
        #expect(refusal == 0)
        for _ in 0..<9 { budget.recordOutcome(.serverError, at: at(200)) }
        refusal = budget.rejectionProbability(at: at(200))
        #expect(refusal == 0.9)
    }

    /// A gateway that has just started sends its first requests whatever their number: with
    /// nothing answered yet, nothing is refused (counted at sending, the second request would
    /// be refused half the time, and a busy start could lock the route shut).
    @Test("adaptive throttling at a cold start: a burst before any answer is all sent")
    func adaptiveThrottlingColdStart() throws {
        let config = threeProviderConfig(
            retry: RetryPolicy(maxAttempts: 1, backoff: .none), retryBudget: .adaptiveThrottling(k: 2, windowSeconds: 120))
        let clock = ManualClock()
        var router = try Router(
            config: config, clock: clock, wallClock: OffsetWallClock(clock: clock, unixNanosecondsAtZero: 0), generator: SeededGenerator(state: 1))
        let decisions = (0..<50).map { router.begin(request(UInt64($0))).1 }
        #expect(decisions.allSatisfy { $0.action == .send })
    }
}
