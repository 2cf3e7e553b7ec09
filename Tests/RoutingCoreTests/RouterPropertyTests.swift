import Foundation
import Testing
@testable import RoutingCore

@Suite("Router properties (fixed seeds)")
struct RouterPropertyTests {
    @Test("attempts never exceed the maximum, whatever the outcomes", arguments: 1...5)
    func attemptsBounded(maxAttempts: Int) throws {
        let config = threeProviderConfig(
            retry: RetryPolicy(maxAttempts: maxAttempts, backoff: .fullJitter(baseSeconds: 0.1, capSeconds: 2)),
            hedging: HedgingPolicy(delay: .fixed(seconds: 0.3)))
        var harness = try RouterHarness(config: config, seed: UInt64(maxAttempts)) { _, _, rng in
            let roll = Double.random(in: 0..<1, using: &rng)
            let latency = Double.random(in: 0.05...1.0, using: &rng)
            if roll < 0.4 { return ok(latency: latency) }
            let classes: [OutcomeClass] = [.overloaded, .serverError, .timeout, .rateLimited, .connectionError, .failedAfterFirstByte, .clientError]
            return failure(classes[Int(roll * 100) % classes.count], latency: latency, retryAfter: roll < 0.5 ? 1 : nil)
        }
        for id in 0..<2_000 { harness.arrive(request(UInt64(id)), at: Double(id) * 0.01) }
        harness.run()
        #expect(harness.terminal.count == 2_000, "every request ends exactly once")
        #expect(Set(harness.terminal.map(\.requestID)).count == 2_000)
        let most = harness.attemptsPerRequest.values.max() ?? 0
        #expect(most == maxAttempts, "the bound is reached and never exceeded")
    }

    // Finagle's budget allows minRetriesPerSecond·ttl + percentCanRetry·requests retries per
    // ttl window. At 100 req/s with every attempt failing, that is 10·10 + 0.2·1000 = 300 per
    // 1000 requests: attempts/request ≤ 1.3 (the unbounded policy would send 5).
    @Test("with every attempt failing, a Finagle budget bounds attempts per request by its formula")
    func finagleBound() throws {
        let config = threeProviderConfig(
            retry: RetryPolicy(maxAttempts: 5, backoff: .none),
            retryBudget: .finagle(ttlSeconds: 10, minRetriesPerSecond: 10, percentCanRetry: 0.2))
        var harness = try RouterHarness(config: config) { _, _, _ in failure(.serverError, latency: 0.001) }
        let requests = 60_000
        for id in 0..<requests { harness.arrive(request(UInt64(id)), at: Double(id) / 100) }
        harness.run()
        let attempts = Double(harness.attemptsPerRequest.values.reduce(0, +)) / Double(requests)
        #expect(attempts <= 1.3 + 1e-9, "attempts per request \(attempts)")
        #expect(attempts > 1.25, "the budget is used, not just refused: \(attempts)")
        #expect(harness.terminal.filter { $0.reasons.contains(.retryBudgetEmpty) }.count > requests / 2)
    }

    // gRPC throttling: tokens start at maxTokens = 10 and fall by one per failure; retries stop
    // at ≤ 5 tokens and never resume without successes. So at most 5 retries in total.
    @Test("with every attempt failing, gRPC retry throttling stops retries after maxTokens/2 failures")
    func grpcBound() throws {
        let config = threeProviderConfig(retry: RetryPolicy(maxAttempts: 5, backoff: .none), retryBudget: .grpc(maxTokens: 10, tokenRatio: 0.1))
        var harness = try RouterHarness(config: config) { _, _, _ in failure(.overloaded, latency: 0.001) }
        for id in 0..<1_000 { harness.arrive(request(UInt64(id)), at: Double(id) / 100) }
        harness.run()
        let retries = harness.attemptsPerRequest.values.reduce(0, +) - 1_000
        #expect(retries >= 1 && retries <= 5, "retries \(retries)")
    }

    // SRE adaptive throttling with K = 2: once no attempt is accepted, the local rejection
    // probability (requests − 2·0)/(requests + 1) approaches 1, so almost nothing is sent.
    @Test("with every attempt failing, adaptive throttling refuses nearly all attempts locally")
    func adaptiveThrottlingBound() throws {
        let config = threeProviderConfig(
            retry: RetryPolicy(maxAttempts: 3, backoff: .none), retryBudget: .adaptiveThrottling(k: 2, windowSeconds: 120))
        var harness = try RouterHarness(config: config) { _, _, _ in failure(.overloaded, latency: 0.001) }
        let requests = 20_000
        for id in 0..<requests { harness.arrive(request(UInt64(id)), at: Double(id) / 100) }
        harness.run()
        let sent = harness.attemptsPerRequest.values.reduce(0, +)
        let throttled = harness.terminal.filter { $0.reasons.contains(.throttledLocally) }.count
        #expect(Double(sent) / Double(requests) < 0.1, "attempts sent per request \(Double(sent) / Double(requests))")
        #expect(throttled > requests * 9 / 10)
    }

    @Test("a hedge never charges two successes")
    func hedgeSingleSuccess() throws {
        // Both attempts always succeed; the hedge fires at 0.1 s, the primary takes 0.3 s and
        // the hedge 0.05 s, so the hedge wins and the primary is cancelled yet still reports success.
        let config = threeProviderConfig(retryBudget: .unlimited, hedging: HedgingPolicy(delay: .fixed(seconds: 0.1)))
        var harness = try RouterHarness(config: config) { _, attempt, _ in ok(latency: attempt == 1 ? 0.3 : 0.05) }
        for id in 0..<100 { harness.arrive(request(UInt64(id)), at: Double(id)) }
        harness.run()
        let completes = harness.decisions.filter { $0.action == .complete }
        #expect(completes.count == 100)
        #expect(completes.allSatisfy { $0.attempt == 2 && $0.cancelAttempt == 1 })
        // Exact accounting: each winner's cost is "successful", each cancelled loser's is "wasted".
        let prices: [Int32: (Double, Double)] = [0: (3, 15), 1: (2.5, 10), 2: (1.25, 10)]
        let cost: (Int32) -> Double = { target in (1_000 * prices[target]!.0 + 400 * prices[target]!.1) / 1e6 }
        let cancelled = harness.decisions.filter { $0.action == .none && $0.reasons.contains(.cancelled) }
        let spend = harness.router.ledger.teams[0]
        #expect(abs(spend.successfulUSD - completes.map { cost($0.targetIndex) }.reduce(0, +)) < 1e-9)
        #expect(abs(spend.wastedUSD - cancelled.map { cost($0.targetIndex) }.reduce(0, +)) < 1e-9)
        #expect(spend.retriedUSD == 0)
        let lateResults = harness.decisions.filter { $0.action == .none && $0.reasons.contains(.cancelled) }
        #expect(lateResults.count == 100)
    }

    @Test("a hard budget is never overspent")
    func hardBudget() throws {
        let limit = 0.5
        let budget = BudgetConfig(scope: .team("search"), limitUSD: limit, period: .every(seconds: 1_000_000), mode: .hardStop)
        let config = threeProviderConfig(
            retry: RetryPolicy(maxAttempts: 3, backoff: .none), hedging: HedgingPolicy(delay: .fixed(seconds: 0.2)), budgets: [budget])
        var harness = try RouterHarness(config: config) { _, _, rng in
            let output = Int.random(in: 0...500, using: &rng)
            return Double.random(in: 0..<1, using: &rng) < 0.7
                ? AttemptOutcome(
                    outcome: .success, latencyNanoseconds: Seconds.nanoseconds(Double.random(in: 0.05...0.6, using: &rng)), inputTokens: 1_000,
                    outputTokens: output)
                : AttemptOutcome(
                    outcome: .failedAfterFirstByte, latencyNanoseconds: Seconds.nanoseconds(0.3), inputTokens: 1_000, outputTokens: output / 2)
        }
        var worst = 0.0
        harness.afterEachDecision = { router, _ in worst = max(worst, router.budgetSpend(of: .team("search"))!.spentUSD) }
        for id in 0..<1_000 { harness.arrive(request(UInt64(id)), at: Double(id) * 0.05) }
        harness.run()
        #expect(worst <= limit + 1e-12, "spent \(worst) of \(limit)")
        #expect(worst > limit * 0.9, "the budget is actually used up, so the test can fail")
        #expect(harness.terminal.contains { $0.reasons.contains(.budgetExhausted) })
    }

    @Test("identical inputs give identical decision records, byte for byte")
    func determinism() throws {
        func run() throws -> Data {
            let config = threeProviderConfig(
                retry: RetryPolicy(maxAttempts: 3), retryBudget: .finagleDefault, breaker: .standard,
                hedging: HedgingPolicy(delay: .latencyPercentile(percentile: 90, minimumSamples: 10)))
            var harness = try RouterHarness(config: config, seed: 42) { target, _, rng in
                let latency = Double.random(in: 0.1...2.0, using: &rng)
                return Double.random(in: 0..<1, using: &rng) < (target == 0 ? 0.5 : 0.9)
                    ? ok(latency: latency) : failure(.overloaded, latency: latency, retryAfter: 0.5)
            }
            for id in 0..<3_000 { harness.arrive(request(UInt64(id)), at: Double(id) * 0.02) }
            harness.run()
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            var lines = Data()
            for decision in harness.decisions {
                lines.append(try encoder.encode(harness.router.record(decision)))
                lines.append(0x0A)
            }
            return lines
        }
        let first = try run()
        let second = try run()
        #expect(first == second)
        #expect(first.count > 100_000)
    }

    @Test("turning off the list of passed-over targets changes no decision, only the list")
    func rejectedAlternativesAreOnlyAnExplanation() throws {
        func run(listing: Bool) throws -> (decisions: [Decision], passedOver: [[RejectedAlternative]]) {
            let config = threeProviderConfig(retry: RetryPolicy(maxAttempts: 3), retryBudget: .finagleDefault, breaker: .standard)
            var harness = try RouterHarness(config: config, seed: 7) { target, _, rng in
                // The first provider fails most attempts, so its breaker opens and it is passed over.
                Double.random(in: 0..<1, using: &rng) < (target == 0 ? 0.2 : 0.95)
                    ? ok(latency: 0.5) : failure(.overloaded, latency: 0.2, retryAfter: nil)
            }
            harness.router.recordsRejectedAlternatives = listing
            for id in 0..<2_000 { harness.arrive(request(UInt64(id)), at: Double(id) * 0.01) }
            harness.run()
            return (harness.decisions, harness.passedOver)
        }
        let listed = try run(listing: true)
        let unlisted = try run(listing: false)
        #expect(listed.passedOver.contains { !$0.isEmpty }, "targets are passed over, so the test can fail")
        #expect(unlisted.passedOver.allSatisfy { $0.isEmpty })
        #expect(listed.decisions == unlisted.decisions)
    }
}
