import Testing

@testable import RoutingCore

/// Budgets shared by replicas (``Router/leaseBudgets()``): a replica commits against the slices
/// granted to it, never against the limit, and a period's slices end with the period.
@Suite("RoutingCore: budgets shared by replicas (leases)")
struct BudgetLeaseTests {
    /// 30 s before a UTC midnight: a daily budget's day ends 30 s after the router starts.
    static let justBeforeMidnight: Int64 = 1_795_737_570 * 1_000_000_000

    static func router(_ clock: ManualClock, limit: Double = 1) throws -> Router {
        let config = threeProviderConfig(
            retry: RetryPolicy(maxAttempts: 1, backoff: .none), balancing: .leastOutstanding,
            budgets: [BudgetConfig(scope: .team("search"), limitUSD: limit, period: .day)])
        var router = try Router(
            config: config, clock: clock, wallClock: OffsetWallClock(clock: clock, unixNanosecondsAtZero: justBeforeMidnight),
            generator: SplitMix64(seed: 1))
        router.leaseBudgets()
        return router
    }

    static let search = BudgetScope.team("search")

    @Test("nothing held, nothing sent; a request whose worst case does not fit asks for it; a slice admits what it covers")
    func commitsAgainstTheSlices() throws {
        let clock = ManualClock()
        var router = try Self.router(clock)
        let shared = router.leasesBudgets
        #expect(shared)
        #expect(router.begin(request(1)).1.reasons.contains(.budgetExhausted), "no slice yet")
        var states = router.budgetLeaseStates(lookaheadNanoseconds: 0)
        // Each answer's worst case: 1,000 in and 500 out at anthropic's $3/$15 per M = $0.0105.
        #expect(states[0].leasedUSD == 0 && abs(states[0].wantedUSD - 0.0105) < 1e-9, "the refused worst case is asked for")
        let period = states[0].period
        router.budgetLeaseChanged(BudgetLease(scope: Self.search, period: period, usd: 0.025))
        states = router.budgetLeaseStates(lookaheadNanoseconds: 0)
        #expect(states[0].wantedUSD == 0 && states[0].leasedUSD == 0.025)
        var admitted = 0
        for id in 2...10 {
            var (state, decision) = router.begin(request(UInt64(id)))
            guard decision.action == .send else { break }
            admitted += 1
            _ = router.attemptFinished(&state, attempt: decision.attempt, ok())
        }
        // $0.009 an answer, $0.0105 reserved: two fit $0.025 ($0.018 spent), a third's worst case does not.
        #expect(admitted == 2)
        states = router.budgetLeaseStates(lookaheadNanoseconds: 0)
        #expect(abs(states[0].spentUSD - 0.018) < 1e-9 && abs(states[0].headroomUSD - 0.007) < 1e-9)
        // Given back: the holding shrinks, never below nothing.
        router.budgetLeaseChanged(BudgetLease(scope: Self.search, period: period, usd: -0.1))
        #expect(router.budgetLeaseStates(lookaheadNanoseconds: 0)[0].leasedUSD == 0)
    }

    @Test("random grants and requests: a replica never commits more than it holds")
    func neverPastTheSlices() throws {
        var generator = SplitMix64(seed: 77)
        for _ in 0..<20 {
            let clock = ManualClock()
            var router = try Self.router(clock, limit: 100)
            let period = router.budgetLeaseStates(lookaheadNanoseconds: 0)[0].period
            var open: [(RequestState, Int32)] = []
            var granted = 0.0
            for id in 1...300 {
                switch Int.random(in: 0..<4, using: &generator) {
                case 0:
                    let usd = Double.random(in: 0...0.03, using: &generator)
                    granted += usd
                    router.budgetLeaseChanged(BudgetLease(scope: Self.search, period: period, usd: usd))
                case 1 where !open.isEmpty:
                    var (state, attempt) = open.removeFirst()
                    _ = router.attemptFinished(&state, attempt: attempt, ok(output: Int.random(in: 0...500, using: &generator)))
                default:
                    let (state, decision) = router.begin(request(UInt64(id)))
                    if decision.action == .send { open.append((state, decision.attempt)) }
                }
                let budget = router.budgetLeaseStates(lookaheadNanoseconds: 0)[0]
                #expect(budget.spentUSD + budget.reservedUSD <= budget.leasedUSD + 1e-9)
                #expect(abs(budget.leasedUSD - granted) < 1e-9)
            }
        }
    }

    @Test("a slice of the next period granted ahead is what that period starts with; this period's end with it")
    func nextPeriod() throws {
        let clock = ManualClock()
        var router = try Self.router(clock)
        let states = router.budgetLeaseStates(lookaheadNanoseconds: 60_000_000_000)
        let period = states[0].period
        #expect(states[0].upcomingPeriod == period + 1, "midnight is 30 s away")
        #expect(router.budgetLeaseStates(lookaheadNanoseconds: 1_000_000_000)[0].upcomingPeriod == nil, "not within 1 s")
        router.budgetLeaseChanged(BudgetLease(scope: Self.search, period: period, usd: 0.5))
        router.budgetLeaseChanged(BudgetLease(scope: Self.search, period: period + 1, usd: 0.2))
        // A past period's slice is over: ignored.
        router.budgetLeaseChanged(BudgetLease(scope: Self.search, period: period - 1, usd: 9))
        var now = router.budgetLeaseStates(lookaheadNanoseconds: 60_000_000_000)[0]
        #expect(now.leasedUSD == 0.5 && now.upcomingLeasedUSD == 0.2)
        clock.advance(seconds: 30)
        now = router.budgetLeaseStates(lookaheadNanoseconds: 0)[0]
        #expect(now.period == period + 1 && now.leasedUSD == 0.2 && now.spentUSD == 0)
    }

    @Test("a slice is a trace line a replay reads back; the header says the budgets are shared")
    func traceRoundTrip() throws {
        let config = threeProviderConfig(budgets: [BudgetConfig(scope: .key("ci-bot"), limitUSD: 5)])
        let header = RouterTrace.Header(seed: 1, configFingerprint: config.fingerprint, unixNanosecondsAtZero: 0, budgetLeases: true)
        for lease in [
            BudgetLease(scope: .team("search"), period: 20_500, usd: 0.125),
            BudgetLease(scope: .key("ci-bot"), period: 20_501, usd: -0.5, local: true),
        ] {
            let entry = RouterTrace.Entry(timeNanoseconds: 9, call: .budgetLease(lease), decision: nil)
            let line = entry.jsonLine(config: config)
            #expect(line.contains(#""call":"budget_lease","request_id":0"#), "\(line)")
            let read = try RouterTrace.read(header.jsonLine() + "\n" + line + "\n", file: "t.jsonl", config: config)
            #expect(read.entries == [entry] && read.header == header)
        }
        #expect(throws: RouterTrace.ReadError.self) {
            try RouterTrace.read(
                header.jsonLine() + "\n" + #"{"t":1,"call":"budget_lease","request_id":0,"team":"search","usd":1}"#, file: "t", config: config)
        }
    }
}

/// Rate limits shared by replicas: each enforces its share (1/N) of every limit.
@Suite("RoutingCore: rate limits shared by replicas")
struct RateShareTests {
    @Test("a team's 600 requests a minute (burst 10): alone it admits 10 at once; with a quarter share, 2.5 → 2; rates scale alike")
    func quarterShare() throws {
        let clock = ManualClock()
        var config = threeProviderConfig(retry: RetryPolicy(maxAttempts: 1), balancing: .leastOutstanding)
        config.teams[0].rateLimit = RateLimit(requestsPerMinute: 600)
        func admitted(_ router: inout Router, from id: UInt64) -> Int {
            (0..<20).filter { router.begin(request(id + UInt64($0))).1.action == .send }.count
        }
        var alone = try Router(
            config: config, clock: clock, wallClock: OffsetWallClock(clock: clock, unixNanosecondsAtZero: 0), generator: SplitMix64(seed: 1))
        #expect(admitted(&alone, from: 0) == 10)
        var shared = try Router(
            config: config, clock: clock, wallClock: OffsetWallClock(clock: clock, unixNanosecondsAtZero: 0), generator: SplitMix64(seed: 1))
        shared.setRateShare(0.25)
        #expect(shared.rateShare == 0.25)
        #expect(admitted(&shared, from: 100) == 2, "a burst of 10 × 0.25 = 2.5 tokens")
        clock.advance(seconds: 4)
        #expect(admitted(&shared, from: 200) == 2, "refilled at 2.5 a second to its burst of 2.5")
        shared.setRateShare(1)
        clock.advance(seconds: 1)
        #expect(admitted(&shared, from: 300) == 10, "alone again: the whole limit")
    }

    @Test("a target's servers and queue are shared too: a quarter of the local pool's 8 + 16 is 6 attempts at once")
    func capacityShare() throws {
        let clock = ManualClock()
        var config = threeProviderConfig(retry: RetryPolicy(maxAttempts: 1), balancing: .leastOutstanding)
        config.routes[0].chain = [TierConfig(targets: ["local-h100"])]
        var router = try Router(
            config: config, clock: clock, wallClock: OffsetWallClock(clock: clock, unixNanosecondsAtZero: 0), generator: SplitMix64(seed: 1))
        let limited = router.hasSharedLimits
        #expect(limited)
        router.setRateShare(0.25)
        let sent = (0..<10).filter { router.begin(request(UInt64($0))).1.action == .send }.count
        #expect(sent == 6, "ceil(24 × 0.25)")
        router.setRateShare(1)
        #expect((10..<40).filter { router.begin(request(UInt64($0))).1.action == .send }.count == 18, "the whole 24, 6 already held")
    }

    @Test("a share is a trace line a replay reads back")
    func trace() throws {
        let config = threeProviderConfig()
        let header = RouterTrace.Header(seed: 1, configFingerprint: config.fingerprint, unixNanosecondsAtZero: 0)
        let entry = RouterTrace.Entry(timeNanoseconds: 5, call: .rateShare(1.0 / 3), decision: nil)
        let line = entry.jsonLine(config: config)
        #expect(line.contains(#""call":"rate_share","request_id":0,"share":0.333"#), "\(line)")
        #expect(try RouterTrace.read(header.jsonLine() + "\n" + line, file: "t", config: config).entries == [entry])
        #expect(throws: RouterTrace.ReadError.self) {
            try RouterTrace.read(header.jsonLine() + "\n" + #"{"t":1,"call":"rate_share","request_id":0,"share":2}"#, file: "t", config: config)
        }
    }
}
