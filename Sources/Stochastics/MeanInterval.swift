import CGSL

/// The mean of independent replications with its Student-t confidence interval.
public struct MeanInterval: Sendable, Equatable {
    public let mean: Double
    /// Half the Student-t interval's width; 0 with fewer than two values.
    public let halfWidth: Double
    public let count: Int
    public private(set) var lower: Double
    public private(set) var upper: Double

    /// The `confidence` (e.g. 0.95) interval for the mean of `values`: mean ± t(n−1)·s/√n.
    public init(_ values: [Double], confidence: Double = 0.95) {
        count = values.count
        let n = Double(values.count)
        let average = values.isEmpty ? 0 : values.reduce(0, +) / n
        mean = average
        if values.count > 1 {
            let variance = values.reduce(0) { $0 + ($1 - average) * ($1 - average) } / (n - 1)
            _ = GSL.prepared
            let t = gsl_cdf_tdist_Pinv(0.5 + confidence / 2, n - 1)
            halfWidth = t * (variance / n).squareRoot()
        } else {
            halfWidth = 0
        }
        lower = average - halfWidth
        upper = average + halfWidth
    }

    /// The interval intersected with the range the quantity cannot leave (a proportion's
    /// [0, 1]). The true mean lies in the range, so cutting away what lies outside it keeps
    /// every interval that covered the mean covering it: the coverage is unchanged or better.
    public func bounded(to range: ClosedRange<Double>) -> MeanInterval {
        var result = self
        result.lower = min(max(lower, range.lowerBound), range.upperBound)
        result.upper = max(min(upper, range.upperBound), range.lowerBound)
        return result
    }
}
