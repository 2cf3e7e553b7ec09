import CGSL

/// Where one more replication's value is expected to fall, from `n` independent replications:
/// mean ± t(n−1)·s·√(1 + 1/n), the Student-t prediction interval (normal theory). Unlike
/// ``MeanInterval``, which narrows as replications are added, it keeps the spread of a
/// single run: the interval a single live run is compared with.
public struct PredictionInterval: Sendable, Equatable {
    public let mean: Double
    public let lower: Double
    public let upper: Double
    public let count: Int

    /// The `confidence` (e.g. 0.95) prediction interval of `values`, cut to `range` (a
    /// proportion's [0, 1]). With fewer than two values it is the single value itself.
    ///
    /// `step`: a value that moves in steps (a count, or a count over a denominator: one
    /// failure in 250,000 requests moves availability by 4e-6) is widened by half a step on
    /// each side, the continuity correction of a normal approximation to a discrete
    /// quantity; without it, a metric whose replications saw zero or one rare event gets an
    /// interval that a single further event leaves.
    public init(_ values: [Double], confidence: Double = 0.95, range: ClosedRange<Double> = -Double.infinity...Double.infinity, step: Double = 0) {
        count = values.count
        let n = Double(values.count)
        let average = values.isEmpty ? 0 : values.reduce(0, +) / n
        var halfWidth = step / 2
        if values.count > 1 {
            let variance = values.reduce(0) { $0 + ($1 - average) * ($1 - average) } / (n - 1)
            _ = GSL.prepared
            halfWidth += gsl_cdf_tdist_Pinv(0.5 + confidence / 2, n - 1) * (variance * (1 + 1 / n)).squareRoot()
        }
        mean = average
        lower = min(max(average - halfWidth, range.lowerBound), range.upperBound)
        upper = max(min(average + halfWidth, range.upperBound), range.lowerBound)
    }

    public func contains(_ value: Double) -> Bool {
        lower <= value && value <= upper
    }
}
