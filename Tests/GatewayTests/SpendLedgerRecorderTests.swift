@testable import GatewayServer
import RoutingCore
import Testing

/// The ledger's rows from the router's settlements, in process with a hand-driven router: a
/// hedged request's settlement and its loser's late part, numbered and priced as the router
/// charges them, and nothing kept once a request's last attempt has reported.
@Suite("The spend ledger's rows from the router's settlements")
struct SpendLedgerRecorderTests {
    static let config = RouterConfig(
        targets: [
            TargetConfig(name: "alpha", inputPricePerMillion: 3, outputPricePerMillion: 15),
            TargetConfig(name: "beta", inputPricePerMillion: 1, outputPricePerMillion: 5),
        ],
        routes: [RouteConfig(name: "hedged", chain: [TierConfig(targets: ["alpha", "beta"])], hedging: HedgingPolicy(delay: .fixed(seconds: 0.2)))],
        teams: [TeamConfig(name: "search")])

    /// A request hedged at 0.2 s: the hedge answers first, then the primary reports, billed
    /// for `loserTokens` before it was cancelled.
    static func hedgedRequest(id: UInt64, loserTokens: (input: Int, output: Int)) throws -> (rows: [SpendLedgerRow], awaiting: [Int]) {
        let clock = ManualClock()
        var router = try Router(
            config: config, clock: clock, wallClock: OffsetWallClock(clock: clock, unixNanosecondsAtZero: 0), generator: SplitMix64(seed: 3))
        let recorder = SpendLedgerRecorder(config: config, boot: 11, unixNanosecondsAtZero: 1_000)
        var awaiting: [Int] = []
        let request = try router.request(id: id, route: "hedged", team: "search", inputTokens: 100, maxOutputTokens: 50)
        var before = SpendLedgerRecorder.Before()
        var (state, decision) = router.begin(request)
        recorder.observe(state, decision: decision, before: before, outcome: nil, now: clock.now.nanoseconds)
        let primary = decision.attempt
        clock.now = RoutingInstant(nanoseconds: 200_000_000)
        before = recorder.before(state, attempt: nil)
        decision = router.hedgeDue(&state)
        recorder.observe(state, decision: decision, before: before, outcome: nil, now: clock.now.nanoseconds)
        let hedge = decision.attempt
        #expect(decision.action == .hedge && hedge != primary)
        clock.now = RoutingInstant(nanoseconds: 500_000_000)
        let won = AttemptOutcome(outcome: .success, latencyNanoseconds: 300_000_000, inputTokens: 100, outputTokens: 50)
        before = recorder.before(state, attempt: hedge)
        decision = router.attemptFinished(&state, attempt: hedge, won)
        recorder.observe(state, decision: decision, before: before, outcome: won, now: clock.now.nanoseconds)
        #expect(decision.action == .complete)
        awaiting.append(recorder.requestsAwaitingLateResults)
        state.markCancelled(primary)
        clock.now = RoutingInstant(nanoseconds: 600_000_000)
        let lost = AttemptOutcome(
            outcome: .cancelled, latencyNanoseconds: 600_000_000, inputTokens: loserTokens.input, outputTokens: loserTokens.output)
        before = recorder.before(state, attempt: primary)
        decision = router.attemptFinished(&state, attempt: primary, lost)
        recorder.observe(state, decision: decision, before: before, outcome: lost, now: clock.now.nanoseconds)
        awaiting.append(recorder.requestsAwaitingLateResults)
        return (recorder.take(), awaiting)
    }

    @Test("a hedge's loser that reports after the end: a late part of its own, charged as waste, then nothing kept")
    func lateLoser() throws {
        let (rows, awaiting) = try Self.hedgedRequest(id: 7, loserTokens: (100, 20))
        #expect(rows.count == 2 && awaiting == [1, 0])
        let settled = rows[0], late = rows[1]
        #expect(settled.part == 0 && settled.outcome == "complete" && settled.attempts == 2 && settled.team == "search")
        #expect(settled.route == "hedged" && settled.outputTokens == 50 && settled.settledUnixNanoseconds == 1_000 + 500_000_000)
        #expect(settled.upstream != nil && settled.spend.wastedUSD == 0 && settled.spend.successfulUSD > 0)
        // The loser went to the other target: 100 input and 20 output tokens at its prices.
        let loserTarget = settled.upstream == "alpha" ? (input: 1.0, output: 5.0) : (input: 3.0, output: 15.0)
        let loserCost = (100 * loserTarget.input + 20 * loserTarget.output) / 1_000_000
        #expect(late.part == 1 && late.outcome == "late" && late.upstream == nil && late.requestID == 7 && late.boot == 11)
        #expect(abs(late.spend.wastedUSD - loserCost) < 1e-15 && late.spend.successfulUSD == 0, "\(late.spend)")
    }

    @Test("a loser cancelled before it was billed anything: no late part, and nothing kept for the request")
    func freeLoser() throws {
        let (rows, awaiting) = try Self.hedgedRequest(id: 8, loserTokens: (0, 0))
        #expect(rows.map(\.part) == [0] && awaiting == [1, 0])
    }
}
