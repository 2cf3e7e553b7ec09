import CGSL

/// The mean of independent replications with its Student-t confidence interval.
public struct MeanInterval: Sendable, Equatable {
    public let mean: Double
    /// Half the interval's width; 0 with fewer than two values.
    public let halfWidth: Double
    public let count: Int

    public var lower: Double { mean - halfWidth }
    public var upper: Double { mean + halfWidth }

    /// The `confidence` (e.g. 0.95) interval for the mean of `values`: mean ± t(n−1)·s/√n.
    public init(_ values: [Double], confidence: Double = 0.95) {
        count = values.count
        guard !values.isEmpty else {
            mean = 0
            halfWidth = 0
            return
        }
        let n = Double(values.count)
        let average = values.reduce(0, +) / n
        mean = average
        guard values.count > 1 else {
            halfWidth = 0
            return
        }
        let variance = values.reduce(0) { $0 + ($1 - average) * ($1 - average) } / (n - 1)
        _ = GSL.prepared
        let t = gsl_cdf_tdist_Pinv(0.5 + confidence / 2, n - 1)
        halfWidth = t * (variance / n).squareRoot()
    }
}
