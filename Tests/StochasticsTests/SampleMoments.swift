@testable import Stochastics

/// Sample mean and variance with their standard errors, for tolerance bands in tests.
struct SampleMoments {
    let count: Double
    let mean: Double
    let variance: Double
    /// Standard error of the mean: √(s²/n).
    let meanError: Double
    /// Standard error of the variance estimate: √((m₄ − s⁴)/n).
    let varianceError: Double

    init(_ values: [Double]) {
        let n = Double(values.count)
        let mean = values.reduce(0, +) / n
        var m2 = 0.0
        var m4 = 0.0
        for value in values {
            let d = (value - mean) * (value - mean)
            m2 += d
            m4 += d * d
        }
        m2 /= n
        m4 /= n
        self.count = n
        self.mean = mean
        self.variance = m2 * n / (n - 1)
        self.meanError = (m2 / n).squareRoot()
        self.varianceError = (max(m4 - m2 * m2, 0) / n).squareRoot()
    }
}

/// A stream for tests, seeded by name so each test draws its own numbers.
func testStream(_ name: String, replication: Int = 0) -> RandomStream {
    RandomStream(name: name, seed: 20_261_125, replication: replication)
}
