import Testing
@testable import RoutingCore

@Suite("Sliding window counter")
struct SlidingWindowCounterTests {
    func at(_ seconds: Double) -> RoutingInstant { RoutingInstant(nanoseconds: Seconds.nanoseconds(seconds)) }

    @Test("a count stays in the window for its whole seconds, and leaves at the edge")
    func windowEdges() {
        var totals: (first: Double, second: Double) = (0, 0)
        var window = SlidingWindowCounter(windowSeconds: 10)
        window.add(first: 1, second: 0, at: at(0.5))
        window.add(first: 0, second: 2, at: at(3.2))
        totals = window.totals(at: at(9.999_999_999))
        #expect(totals == (1, 2))
        // Second 0 leaves when second 10 begins; second 3 stays until second 13 begins.
        totals = window.totals(at: at(10))
        #expect(totals == (0, 2))
        totals = window.totals(at: at(12.999_999_999))
        #expect(totals == (0, 2))
        totals = window.totals(at: at(13))
        #expect(totals == (0, 0))
    }

    @Test("a jump longer than the window clears everything; a fractional window rounds up")
    func longJumpsAndFractions() {
        var totals: (first: Double, second: Double) = (0, 0)
        var window = SlidingWindowCounter(windowSeconds: 2.5)
        window.add(first: 3, second: 1, at: at(0))
        window.add(first: 1, second: 1, at: at(2.9))
        totals = window.totals(at: at(2.9))
        #expect(totals == (4, 2), "three one-second slots hold seconds 0, 1 and 2")
        totals = window.totals(at: at(3))
        #expect(totals == (1, 1))
        totals = window.totals(at: at(1_000))
        #expect(totals == (0, 0))
        window.add(first: 5, second: 0, at: at(1_000.5))
        totals = window.totals(at: at(1_000.5))
        #expect(totals == (5, 0))
    }

    @Test("the running totals equal a naive recount over a random sequence of 20,000 updates")
    func runningTotalsMatchRecount() {
        var generator = SplitMix64(seed: 42)
        for windowSeconds in [1.0, 7.0, 60.0] {
            var window = SlidingWindowCounter(windowSeconds: windowSeconds)
            let slots = Int64(windowSeconds)
            var events: [(at: Int64, first: Double, second: Double)] = []
            var now: Int64 = 0
            for step in 0..<20_000 {
                // Mostly small steps, sometimes several seconds, rarely longer than the window.
                let kind = generator.next() % 100
                let gap: UInt64 =
                    kind < 80 ? generator.next() % 300_000_000 : kind < 98 ? generator.next() % 5_000_000_000 : generator.next() % 200_000_000_000
                now += Int64(gap)
                let instant = RoutingInstant(nanoseconds: now)
                if generator.next() % 4 == 0 {
                    let totals = window.totals(at: instant)
                    let current = now / 1_000_000_000
                    let live = events.filter { $0.at > current - slots }
                    let expected = (live.reduce(0) { $0 + $1.first }, live.reduce(0) { $0 + $1.second })
                    #expect(totals == expected, "window \(windowSeconds) s, step \(step)")
                    if totals != expected { return }
                } else {
                    // Integer-valued counts, so sums are exact and equality is the right test.
                    let a = Double(generator.next() % 5)
                    let b = Double(generator.next() % 3)
                    window.add(first: a, second: b, at: instant)
                    events.append((now / 1_000_000_000, a, b))
                }
            }
        }
    }
}
