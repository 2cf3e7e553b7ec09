import Testing
@testable import Stochastics

@Suite("Prediction interval for one more run")
struct PredictionIntervalTests {
    /// Closed form: values 1…5 have mean 3 and s² = 2.5; t(0.975, 4) = 2.776445105, so the
    /// half width is 2.776445105 · √(2.5 · 1.2) = 4.808944. Tolerance 1e-6: GSL's quantile is
    /// good to about 1e-10.
    @Test("matches mean ± t·s·√(1 + 1/n) by hand")
    func closedForm() {
        let interval = PredictionInterval([1, 2, 3, 4, 5])
        #expect(abs(interval.mean - 3) < 1e-12)
        #expect(abs(interval.lower - (3 - 4.808944)) < 1e-6)
        #expect(abs(interval.upper - (3 + 4.808944)) < 1e-6)
        #expect(interval.contains(7.8) && !interval.contains(7.81))
    }

    @Test("a proportion's interval stays in [0, 1]; one value is its own interval")
    func bounds() {
        let interval = PredictionInterval([0.99, 1, 1, 0.98], range: 0...1)
        #expect(interval.upper == 1 && interval.lower > 0.9)
        let single = PredictionInterval([4])
        #expect(single.lower == 4 && single.upper == 4)
    }

    /// Coverage: 20,000 sets of five standard normals, each with a sixth; the sixth falls in
    /// the first five's interval with probability exactly 0.95 (normal theory). The standard
    /// error of the estimate is √(0.95 · 0.05 / 20,000) = 0.0015; the tolerance, 0.006, is
    /// four of them, and the seed is fixed: the test cannot flake.
    @Test("covers one more normal draw 95% of the time")
    func coverage() {
        let stream = RandomStream(name: "prediction-interval.coverage", seed: 7, replication: 0)
        let normal = try! Distribution.normal(mean: 0, standardDeviation: 1)
        var covered = 0
        let trials = 20_000
        for _ in 0..<trials {
            let values = (0..<5).map { _ in normal.sample(stream) }
            if PredictionInterval(values).contains(normal.sample(stream)) { covered += 1 }
        }
        #expect(abs(Double(covered) / Double(trials) - 0.95) < 0.006)
    }
}

@Suite("Prediction interval: discrete quantities")
struct PredictionIntervalStepTests {
    /// Three replications with no failure at all: the interval is the value ± half a step,
    /// so one event (a step) more is outside and half a step is the edge.
    @Test("a step widens the interval by half a step on each side")
    func continuityCorrection() {
        let interval = PredictionInterval([1, 1, 1], range: 0...1, step: 0.2)
        #expect(abs(interval.lower - 0.9) < 1e-12 && interval.upper == 1)
        #expect(interval.contains(0.9) && !interval.contains(0.8))
    }
}
