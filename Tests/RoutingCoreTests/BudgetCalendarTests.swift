import Foundation
import Testing
@testable import RoutingCore

@Suite("Budgets follow the UTC calendar of the wall clock and survive a restart")
struct BudgetCalendarTests {
    static let hour: Int64 = 3_600_000_000_000

    /// 2026-11-26 23:59:30 UTC in nanoseconds since the epoch.
    static let justBeforeMidnight: Int64 = 1_795_737_570 * 1_000_000_000

    @Test("period numbers change exactly at UTC midnight and on the first of the month (against Foundation's calendar, 2,000 instants)")
    func periodNumbers() throws {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = try #require(TimeZone(identifier: "UTC"))
        var generator = SplitMix64(seed: 11)
        for _ in 0..<2_000 {
            // 1900 to 2100, to the second.
            let seconds = Int64.random(in: -2_208_988_800...4_102_444_800, using: &generator)
            let date = Date(timeIntervalSince1970: TimeInterval(seconds))
            let parts = calendar.dateComponents([.year, .month, .day], from: date)
            let nanoseconds = seconds * 1_000_000_000
            #expect(BudgetPeriod.month.number(atUnixNanoseconds: nanoseconds) == Int64(parts.year! * 12 + parts.month! - 1))
            let midnight = calendar.startOfDay(for: date).timeIntervalSince1970
            #expect(BudgetPeriod.day.number(atUnixNanoseconds: nanoseconds) == Int64(midnight) / 86_400)
        }
        // The edges themselves: one nanosecond before and at 2026-03-01 00:00 UTC.
        let march = Int64(1_772_323_200) * 1_000_000_000
        #expect(BudgetPeriod.month.number(atUnixNanoseconds: march - 1) + 1 == BudgetPeriod.month.number(atUnixNanoseconds: march))
        #expect(
            BudgetPeriod.every(seconds: 3_600).number(atUnixNanoseconds: march - 1) + 1
                == BudgetPeriod.every(seconds: 3_600).number(atUnixNanoseconds: march))
    }

    @Test("a daily budget resets at midnight UTC, 30 s after the router started, not a day later")
    func dailyResetAtMidnight() throws {
        let clock = ManualClock()
        let config = threeProviderConfig(
            retry: RetryPolicy(maxAttempts: 1, backoff: .none), balancing: .leastOutstanding,
            budgets: [BudgetConfig(scope: .team("search"), limitUSD: 0.02, period: .day)])
        var router = try Router(
            config: config, clock: clock, wallClock: OffsetWallClock(clock: clock, unixNanosecondsAtZero: Self.justBeforeMidnight),
            generator: SplitMix64(seed: 1))
        // Each answer costs $0.009 (1,000 in, 400 out at anthropic's prices); the worst case
        // reserved is $0.0105, so after two answers a third no longer fits $0.02.
        for id in 1...2 {
            var (state, decision) = router.begin(request(UInt64(id)))
            _ = router.attemptFinished(&state, attempt: decision.attempt, ok())
            #expect(decision.action == .send)
        }
        #expect(router.begin(request(3)).1.reasons.contains(.budgetExhausted))
        clock.advance(seconds: 30)
        #expect(router.begin(request(4)).1.action == .send, "a new UTC day, a fresh budget")
    }

    @Test("saved spend restored after a restart keeps the budget spent; spend of a past period does not count")
    func spendSurvivesRestart() throws {
        let config = threeProviderConfig(
            retry: RetryPolicy(maxAttempts: 1, backoff: .none), balancing: .leastOutstanding,
            budgets: [
                BudgetConfig(scope: .team("search"), limitUSD: 0.02, period: .day),
                BudgetConfig(scope: .key("ci-bot"), limitUSD: 5, period: .month, mode: .alertOnly),
            ])
        let start = Self.justBeforeMidnight - 12 * Self.hour
        let clock = ManualClock()
        var first = try Router(
            config: config, clock: clock, wallClock: OffsetWallClock(clock: clock, unixNanosecondsAtZero: start), generator: SplitMix64(seed: 1))
        for id in 1...2 {
            var (state, decision) = first.begin(request(UInt64(id)))
            _ = first.attemptFinished(&state, attempt: decision.attempt, ok())
        }
        let saved = first.spendRecords()
        #expect(saved.map(\.scope) == [.team("search"), .key("ci-bot")])
        #expect(abs(saved[0].spentUSD - 0.018) < 1e-12)
        let data = try JSONEncoder().encode(saved)
        #expect(String(decoding: data, as: UTF8.self).contains(#""scope":{"team":"search"}"#))
        let restored = try JSONDecoder().decode([BudgetSpendRecord].self, from: data)

        // A restart an hour later, the same UTC day: the monotonic clock starts again at zero.
        let restartClock = ManualClock()
        var second = try Router(
            config: config, clock: restartClock, wallClock: OffsetWallClock(clock: restartClock, unixNanosecondsAtZero: start + Self.hour),
            generator: SplitMix64(seed: 1))
        #expect(second.begin(request(10)).1.action == .send, "without the saved spend, the budget would start again")
        var restarted = try Router(
            config: config, clock: restartClock, wallClock: OffsetWallClock(clock: restartClock, unixNanosecondsAtZero: start + Self.hour),
            generator: SplitMix64(seed: 1))
        #expect(restarted.restoreSpend(restored).isEmpty)
        #expect(restarted.begin(request(11)).1.reasons.contains(.budgetExhausted))

        // A restart the next day: yesterday's spend is over.
        let nextDayClock = ManualClock()
        var nextDay = try Router(
            config: config, clock: nextDayClock, wallClock: OffsetWallClock(clock: nextDayClock, unixNanosecondsAtZero: start + 13 * Self.hour),
            generator: SplitMix64(seed: 1))
        #expect(nextDay.restoreSpend(restored).isEmpty)
        #expect(nextDay.begin(request(12)).1.action == .send)
        #expect(nextDay.budgetSpend(of: .key("ci-bot"))?.spentUSD == 0, "the month's key spend came with no key in the requests")

        // A record for a budget this config does not have is returned, not restored, and
        // the records beside it still are.
        let ads = BudgetSpendRecord(scope: .team("ads"), period: restored[0].period, spentUSD: 1)
        var withStray = try Router(
            config: config, clock: restartClock, wallClock: OffsetWallClock(clock: restartClock, unixNanosecondsAtZero: start + Self.hour),
            generator: SplitMix64(seed: 1))
        #expect(withStray.restoreSpend([ads] + restored) == [ads])
        #expect(withStray.budgetSpend(of: .team("search"))?.spentUSD == restored[0].spentUSD)
    }
}
