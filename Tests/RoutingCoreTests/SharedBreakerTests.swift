import Testing

@testable import RoutingCore

/// Breakers shared by a gateway's replicas (`breaker_scope: shared`): one replica's breaker
/// change is a notice the others' routers take (``Router/breakerChangedElsewhere(_:)``), and
/// only the replica that opened a breaker probes when its open time ends.
@Suite("RoutingCore: breakers shared across replicas")
struct SharedBreakerTests {
    static let breaker = BreakerConfig(consecutiveFailures: 3, failureRateThreshold: nil, openSeconds: 10, halfOpenProbes: 1, openGrowth: 2)

    static func config(_ scope: BreakerScope) -> RouterConfig {
        var config = threeProviderConfig(retry: RetryPolicy(maxAttempts: 1), balancing: .leastOutstanding, breaker: breaker)
        config.health.breakerScope = scope
        return config
    }

    static func replica(_ clock: ManualClock, _ scope: BreakerScope = .shared, seed: UInt64 = 1) throws -> Router {
        try Router(
            config: config(scope), clock: clock, wallClock: OffsetWallClock(clock: clock, unixNanosecondsAtZero: 0),
            generator: SeededGenerator(state: seed))
    }

    /// Where replica `router` sends a new request now (anthropic is first in the chain).
    static func firstTarget(_ router: inout Router, id: UInt64) -> Int32? {
        router.begin(request(id)).1.targetIndex
    }

    /// Fails `count` requests on anthropic (the chain's first) at replica `router`.
    static func fail(_ router: inout Router, count: Int, from id: UInt64) {
        for offset in 0..<count {
            var (state, decision) = router.begin(request(id + UInt64(offset)))
            #expect(decision.targetIndex == 0)
            _ = router.attemptFinished(&state, attempt: decision.attempt, failure(.overloaded))
        }
    }

    @Test("an opening on one replica opens the breaker on the other; its probe's success closes both; the other never probes")
    func openAndCloseTogether() throws {
        let clock = ManualClock()
        var a = try Self.replica(clock), b = try Self.replica(clock, seed: 2)
        let anthropic = try a.target(named: "anthropic")
        Self.fail(&a, count: 3, from: 0)
        let notices = a.takeBreakerNotices()
        #expect(notices == [.opened(anthropic, forNanoseconds: Seconds.nanoseconds(10), by: 0)])
        #expect(a.takeBreakerNotices().isEmpty, "taken once")
        #expect(Self.firstTarget(&b, id: 100) == 0, "before the news, b still sends there")
        for notice in notices { b.breakerChangedElsewhere(notice) }
        #expect(Self.firstTarget(&b, id: 101) == 1, "after it, b passes anthropic over")
        #expect(b.breakerOpenings(of: anthropic) == 0 && a.breakerOpenings(of: anthropic) == 1, "an opening counts where it was seen")
        #expect(b.takeBreakerNotices().isEmpty, "news from elsewhere is not sent on")

        // The open time ends: a probes, b waits for a's word.
        clock.advance(seconds: 10)
        #expect(Self.firstTarget(&b, id: 102) != 0, "b sends no probe of its own")
        var (probe, decision) = a.begin(request(103))
        #expect(decision.targetIndex == 0, "a probes")
        _ = a.attemptFinished(&probe, attempt: decision.attempt, ok())
        #expect(a.takeBreakerNotices() == [.closed(anthropic)])
        #expect(Self.firstTarget(&b, id: 104) != 0, "until the news arrives")
        b.breakerChangedElsewhere(.closed(anthropic))
        #expect(Self.firstTarget(&b, id: 105) == 0, "closed with a")
    }

    @Test("a failed probe re-opens for longer, and says so; with no word at all the other replica probes itself after the base open time more")
    func reopenAndSilence() throws {
        let clock = ManualClock()
        var a = try Self.replica(clock), b = try Self.replica(clock, seed: 2)
        let anthropic = try a.target(named: "anthropic")
        Self.fail(&a, count: 3, from: 0)
        for notice in a.takeBreakerNotices() { b.breakerChangedElsewhere(notice) }
        clock.advance(seconds: 10)
        var (probe, decision) = a.begin(request(10))
        #expect(decision.targetIndex == 0)
        _ = a.attemptFinished(&probe, attempt: decision.attempt, failure(.overloaded))
        let reopened = a.takeBreakerNotices()
        #expect(reopened == [.opened(anthropic, forNanoseconds: Seconds.nanoseconds(20), by: 0)], "open growth 2: 20 s")
        for notice in reopened { b.breakerChangedElsewhere(notice) }
        // a is now silent (say it died). b holds until 20 s + the base 10 s, then probes.
        clock.advance(seconds: 29.9)
        #expect(Self.firstTarget(&b, id: 20) != 0)
        clock.advance(seconds: 0.1)
        #expect(Self.firstTarget(&b, id: 21) == 0, "no word for the base open time: b probes itself")
    }

    @Test("news of a shorter opening never shortens a longer one; a closing elsewhere closes one opened here too")
    func ordering() throws {
        let clock = ManualClock()
        var b = try Self.replica(clock)
        let anthropic = try b.target(named: "anthropic")
        b.breakerChangedElsewhere(.opened(anthropic, forNanoseconds: Seconds.nanoseconds(60), by: 5))
        b.breakerChangedElsewhere(.opened(anthropic, forNanoseconds: Seconds.nanoseconds(5), by: 5))
        clock.advance(seconds: 30)
        #expect(Self.firstTarget(&b, id: 1) != 0, "still open at 30 s of 60")
        var c = try Self.replica(clock)
        Self.fail(&c, count: 3, from: 10)
        #expect(Self.firstTarget(&c, id: 20) != 0)
        c.breakerChangedElsewhere(.closed(anthropic))
        #expect(Self.firstTarget(&c, id: 21) == 0, "another replica's probe succeeded: the target answers")
    }

    @Test("two replicas that open at once: the lower rank keeps the probe, the other waits for its word")
    func simultaneousOpenings() throws {
        let clock = ManualClock()
        var a = try Self.replica(clock), b = try Self.replica(clock, seed: 2)
        a.replicaRank = 3
        b.replicaRank = 9
        Self.fail(&a, count: 3, from: 0)
        Self.fail(&b, count: 3, from: 100)
        let fromA = a.takeBreakerNotices(), fromB = b.takeBreakerNotices()
        #expect(fromA.count == 1 && fromB.count == 1)
        for notice in fromB { a.breakerChangedElsewhere(notice) }
        for notice in fromA { b.breakerChangedElsewhere(notice) }
        clock.advance(seconds: 10)
        #expect(Self.firstTarget(&a, id: 200) == 0, "rank 3 probes at the end of its own open time")
        #expect(Self.firstTarget(&b, id: 201) != 0, "rank 9 waits for it")
    }

    @Test("with breakers each replica's own, nothing is told and nothing changes")
    func replicaScope() throws {
        let clock = ManualClock()
        var a = try Self.replica(clock, .replica)
        Self.fail(&a, count: 3, from: 0)
        #expect(a.breakerOpenings(of: try a.target(named: "anthropic")) == 1)
        #expect(a.takeBreakerNotices().isEmpty)
    }

    @Test("a shared breaker's change is a trace line a replay reads back")
    func traceRoundTrip() throws {
        let config = Self.config(.shared)
        let anthropic = try config.target(named: "anthropic")
        for notice in [BreakerNotice.opened(anthropic, forNanoseconds: 12_345_678_901, by: 77), .closed(anthropic)] {
            let entry = RouterTrace.Entry(timeNanoseconds: 42, call: .breakerShared(notice), decision: nil)
            let line = entry.jsonLine(config: config)
            #expect(line.contains(#""call":"breaker_shared","request_id":0,"target":"anthropic""#), "\(line)")
            let header = RouterTrace.Header(seed: 1, configFingerprint: config.fingerprint, unixNanosecondsAtZero: 0, replicaRank: 12)
            let read = try RouterTrace.read(header.jsonLine() + "\n" + line + "\n", file: "t.jsonl", config: config)
            #expect(read.entries == [entry])
            #expect(read.header == header, "the replica's rank is in the header")
        }
        let header = RouterTrace.Header(seed: 1, configFingerprint: config.fingerprint, unixNanosecondsAtZero: 0).jsonLine()
        #expect(throws: RouterTrace.ReadError.self) {
            try RouterTrace.read(
                header + "\n" + #"{"t":1,"call":"breaker_shared","request_id":0,"target":"anthropic","state":"ajar"}"#, file: "t", config: config)
        }
        #expect(throws: RouterTrace.ReadError.self) {
            try RouterTrace.read(
                header + "\n" + #"{"t":1,"call":"breaker_shared","request_id":0,"target":"nobody","state":"closed"}"#, file: "t", config: config)
        }
    }
}
