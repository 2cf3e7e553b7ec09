import Foundation
import Testing

@testable import Stochastics

/// Change points in categorical counts against series whose changes are known.
@Suite("Change points: optimal partitioning and states")
struct ChangePointsTests {
    /// `attempts` per bin split into (success, failure) by the bin's failure probability.
    static func series(_ probabilities: [Double], attempts: Int, stream: RandomStream) -> [[Int]] {
        probabilities.map { p in
            var failed = 0
            for _ in 0..<attempts where stream.bernoulli(p) { failed += 1 }
            return [attempts - failed, failed]
        }
    }

    static func penalty(_ bins: [[Int]]) -> Double { log(Double(bins.joined().reduce(0, +))) }

    /// A healthy stretch (1% failures), a squeeze (40%) and healthy again, 100 attempts a bin:
    /// a change of 0.39 in a bin's failure share is some 8 standard errors (√(0.4·0.6/100) =
    /// 0.049), so the boundaries are exact and the two healthy stretches are one state.
    @Test("a squeeze inside a healthy run: its two boundaries exactly, the healthy stretches one state", arguments: [UInt64(1), 2, 3, 4, 5])
    func squeeze(seed: UInt64) {
        let stream = RandomStream(name: "change-points.squeeze", seed: seed, replication: 0)
        let bins = Self.series(
            Array(repeating: 0.01, count: 12) + Array(repeating: 0.4, count: 7) + Array(repeating: 0.01, count: 11), attempts: 100, stream: stream)
        let segments = ChangePoints.segments(bins, penalty: Self.penalty(bins))
        #expect(segments == [0..<12, 12..<19, 19..<30])
        let pooled = segments.map { range in [range.reduce(0) { $0 + bins[$1][0] }, range.reduce(0) { $0 + bins[$1][1] }] }
        #expect(ChangePoints.states(pooled, significance: 0.001) == [0, 1, 0])
    }

    /// Random series nobody tuned: up to four changes at random bins between random failure
    /// shares at least 0.2 apart, 200 attempts a bin (a change of 0.2 is at least 5.6 standard
    /// errors): every change found within one bin, none invented.
    @Test("random changes: each found within a bin, none invented", arguments: Array(UInt64(10)..<UInt64(30)))
    func randomChanges(seed: UInt64) {
        let stream = RandomStream(name: "change-points.random", seed: seed, replication: 0)
        let count = 40
        var changes: [Int] = []
        for _ in 0..<stream.uniformInteger(below: 5) {
            let at = 3 + stream.uniformInteger(below: count - 6)
            if changes.allSatisfy({ abs($0 - at) >= 4 }) { changes.append(at) }
        }
        changes.sort()
        var levels = [0.02 + 0.1 * stream.uniform()]
        for _ in changes {
            var next = levels[levels.count - 1]
            while abs(next - levels[levels.count - 1]) < 0.2 { next = 0.9 * stream.uniform() }
            levels.append(next)
        }
        let probabilities = (0..<count).map { bin in levels[changes.filter { $0 <= bin }.count] }
        let bins = Self.series(probabilities, attempts: 200, stream: stream)
        let found = ChangePoints.segments(bins, penalty: Self.penalty(bins)).dropFirst().map(\.lowerBound)
        #expect(found.count == changes.count, "changes at \(changes), found \(found) (levels \(levels))")
        for (truth, fitted) in zip(changes, found) { #expect(abs(truth - fitted) <= 1, "change at \(truth), found at \(fitted)") }
    }

    @Test("no change, no split; empty bins cost nothing; a mix against itself is indistinguishable, against another told apart")
    func edges() {
        let stream = RandomStream(name: "change-points.flat", seed: 9, replication: 0)
        let flat = Self.series(Array(repeating: 0.1, count: 30), attempts: 100, stream: stream)
        #expect(ChangePoints.segments(flat, penalty: Self.penalty(flat)) == [0..<30])
        var gapped = flat
        for bin in 10..<15 { gapped[bin] = [0, 0] }
        #expect(ChangePoints.segments(gapped, penalty: Self.penalty(gapped)) == [0..<30])
        #expect(ChangePoints.segments([], penalty: 1).isEmpty)
        #expect(ChangePoints.sameMixPValue([900, 100], [450, 50]) > 0.99)
        #expect(ChangePoints.sameMixPValue([900, 100], [500, 500]) < 1e-9)
        #expect(ChangePoints.sameMixPValue([0, 0], [5, 5]) == 1)
    }
}
