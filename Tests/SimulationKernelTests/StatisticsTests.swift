import Testing
@testable import SimulationKernel

@Suite("Statistics")
struct StatisticsTests {
    @Test("a tally has the textbook mean and sample variance")
    func tally() {
        var tally = Tally()
        for value in [2.0, 4, 4, 4, 5, 5, 7, 9] { tally.record(value) }
        #expect(tally.count == 8)
        #expect(tally.mean == 5)
        #expect(abs(tally.variance - 32.0 / 7) < 1e-12)
        #expect(tally.minimum == 2 && tally.maximum == 9)
    }

    @Test("merging tallies equals recording everything in one")
    func tallyMerge() {
        let values = (0..<1_000).map { Double(($0 * 7_919) % 1_000) / 10 }
        var whole = Tally()
        values.forEach { whole.record($0) }
        var left = Tally()
        var right = Tally()
        values[..<300].forEach { left.record($0) }
        values[300...].forEach { right.record($0) }
        left.merge(right)
        #expect(left.count == whole.count)
        #expect(abs(left.mean - whole.mean) < 1e-9)
        #expect(abs(left.variance - whole.variance) < 1e-9)
    }

    @Test("a time-weighted average weights each value by how long it held")
    func timeWeighted() {
        var average = TimeWeightedAverage(start: 0, value: 0)
        average.update(to: 4, at: 10)
        average.update(to: 1, at: 30)
        // 0 for 10, 4 for 20, 1 for 10 → 90 / 40.
        #expect(average.average(at: 40) == 90.0 / 40)
        #expect(average.maximum == 4)
    }

    @Test("latency percentiles are within HdrHistogram's 0.1% precision")
    func percentiles() {
        var histogram = LatencyHistogram()
        for millisecond in 1...1_000 { histogram.record(nanoseconds: Int64(millisecond) * 1_000_000) }
        #expect(histogram.count == 1_000)
        #expect(abs(histogram.seconds(atPercentile: 50) - 0.5) <= 0.5 * 0.001)
        #expect(abs(histogram.seconds(atPercentile: 99) - 0.99) <= 0.99 * 0.001)
        #expect(abs(histogram.seconds(atPercentile: 99.9) - 0.999) <= 0.999 * 0.001)
    }
}
