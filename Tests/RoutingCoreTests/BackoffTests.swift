import Testing
import RoutingCore

/// Backoff delays against their definitions (Brooker, "Exponential Backoff and Jitter").
///
/// The jittered kinds are checked with the Kolmogorov–Smirnov statistic against the uniform
/// law their definition names, over 20,000 draws from a fixed seed. The bound, 1.95/√n, is the
/// 0.1% critical value: a correct implementation would exceed it for one seed in a thousand,
/// a wrong law (say U(0, ceiling/2) or a missing cap) exceeds it many times over; with the
/// seed fixed, the test cannot flake.
@Suite("Backoff")
struct BackoffTests {
    static let draws = 20_000
    static let ksBound = 1.95 / Double(draws).squareRoot()

    /// The largest distance between the empirical CDF of `values` and the CDF of U(lower, upper).
    func kolmogorovSmirnov(_ values: [Double], lower: Double, upper: Double) -> Double {
        let sorted = values.sorted()
        let n = Double(sorted.count)
        var distance = 0.0
        for (index, value) in sorted.enumerated() {
            let cdf = min(1, max(0, (value - lower) / (upper - lower)))
            distance = max(distance, abs(Double(index + 1) / n - cdf), abs(cdf - Double(index) / n))
        }
        return distance
    }

    func delays(_ backoff: Backoff, retry: Int, previousSeconds: Double = 0, seed: UInt64 = 1) -> [Double] {
        var generator = SplitMix64(seed: seed)
        return (0..<Self.draws).map { _ in
            Seconds.seconds(backoff.delay(retry: retry, previous: Seconds.nanoseconds(previousSeconds), using: &generator))
        }
    }

    @Test("none waits zero")
    func none() {
        var generator = SplitMix64(seed: 1)
        #expect((1...10).allSatisfy { Backoff.none.delay(retry: $0, previous: 0, using: &generator) == 0 })
        #expect(Backoff.none.capSeconds == 0)
    }

    @Test("exponential doubles from the base up to the cap, and never overflows")
    func exponential() {
        var generator = SplitMix64(seed: 1)
        let backoff = Backoff.exponential(baseSeconds: 0.5, capSeconds: 8)
        let seconds = (1...7).map { Seconds.seconds(backoff.delay(retry: $0, previous: 0, using: &generator)) }
        #expect(seconds == [0.5, 1, 2, 4, 8, 8, 8])
        #expect(backoff.delay(retry: 10_000, previous: 0, using: &generator) == 8_000_000_000)
        #expect(backoff.capSeconds == 8)
    }

    @Test("full jitter is U(0, min(cap, base·2ⁿ⁻¹))", arguments: [1, 3, 8])
    func fullJitter(retry: Int) {
        let backoff = Backoff.fullJitter(baseSeconds: 0.5, capSeconds: 8)
        let ceiling = min(8, 0.5 * Double(1 << (retry - 1)))
        let values = delays(backoff, retry: retry)
        #expect(values.allSatisfy { $0 >= 0 && $0 <= ceiling })
        #expect(kolmogorovSmirnov(values, lower: 0, upper: ceiling) < Self.ksBound)
    }

    @Test("equal jitter is half fixed, half U(0, half): U(c/2, c)", arguments: [1, 4, 12])
    func equalJitter(retry: Int) {
        let backoff = Backoff.equalJitter(baseSeconds: 0.5, capSeconds: 8)
        let ceiling = min(8, 0.5 * Double(1 << (retry - 1)))
        let values = delays(backoff, retry: retry)
        #expect(values.allSatisfy { $0 >= ceiling / 2 && $0 <= ceiling })
        #expect(kolmogorovSmirnov(values, lower: ceiling / 2, upper: ceiling) < Self.ksBound)
    }

    @Test("decorrelated jitter is min(cap, U(base, 3·previous)), growing from the base")
    func decorrelatedJitter() {
        let backoff = Backoff.decorrelatedJitter(baseSeconds: 0.5, capSeconds: 8)
        // From a previous delay of 1 s: U(0.5, 3), below the cap.
        let fromOne = delays(backoff, retry: 2, previousSeconds: 1)
        #expect(fromOne.allSatisfy { $0 >= 0.5 && $0 <= 3 })
        #expect(kolmogorovSmirnov(fromOne, lower: 0.5, upper: 3) < Self.ksBound)
        // No previous delay: it starts from the base, U(0.5, 1.5).
        let first = delays(backoff, retry: 1, previousSeconds: 0)
        #expect(kolmogorovSmirnov(first, lower: 0.5, upper: 1.5) < Self.ksBound)
        // From 4 s: U(0.5, 12) capped at 8, so P(delay = 8) = 4/11.5. Binomial standard error
        // √(p(1−p)/n) ≈ 0.0034 at n = 20,000; the tolerance is 5 of them.
        let fromFour = delays(backoff, retry: 5, previousSeconds: 4)
        #expect(fromFour.allSatisfy { $0 >= 0.5 && $0 <= 8 })
        let atCap = Double(fromFour.filter { $0 == 8 }.count) / Double(Self.draws)
        #expect(abs(atCap - 4 / 11.5) < 5 * 0.0034)
        let belowCap = fromFour.filter { $0 < 8 }
        #expect(kolmogorovSmirnov(belowCap, lower: 0.5, upper: 8) < 1.95 / Double(belowCap.count).squareRoot())
    }

    @Test("the same seed gives the same delays")
    func reproducible() {
        let backoff = Backoff.fullJitter(baseSeconds: 0.5, capSeconds: 8)
        #expect(delays(backoff, retry: 4, seed: 9) == delays(backoff, retry: 4, seed: 9))
        #expect(delays(backoff, retry: 4, seed: 9) != delays(backoff, retry: 4, seed: 10))
    }
}
