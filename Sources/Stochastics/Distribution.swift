import CGSL
import Foundation
import SimulationKernel

/// A validated probability distribution of real values, sampled through GSL.
///
/// Construct one with the throwing factory functions (`.lognormal(median:p99:)`,
/// `.gamma(shape:scale:)`, …): each checks its parameters and says exactly what is wrong,
/// so a distribution that exists can always be sampled.
public struct Distribution: Sendable, Equatable, CustomStringConvertible {
    @usableFromInline
    internal enum Kind: Sendable, Equatable {
        case constant(Double)
        case uniform(lower: Double, upper: Double)
        case exponential(mean: Double)
        case normal(mean: Double, sd: Double)
        /// Normal restricted to [lower, upper]; sampled by inverting the CDF between the
        /// bounds' CDF values (from the upper tail when the interval lies above the mean).
        case truncatedNormal(mean: Double, sd: Double, lower: Double, upper: Double, fromUpperTail: Bool, cdfLower: Double, cdfUpper: Double)
        case lognormal(mu: Double, sigma: Double)
        case gamma(shape: Double, scale: Double)
        /// `gamma1`, `gamma2`: Γ(1 + 1/k) and Γ(1 + 2/k), computed once at construction.
        case weibull(shape: Double, scale: Double, gamma1: Double, gamma2: Double)
        case pareto(shape: Double, scale: Double)
        case beta(alpha: Double, beta: Double)
        case bernoulli(p: Double)
        case empirical(values: [Double])
    }

    @usableFromInline
    internal let kind: Kind

    private init(_ kind: Kind) {
        self.kind = kind
    }

    // MARK: Construction

    /// Always `value`.
    public static func constant(_ value: Double) throws(StochasticsError) -> Distribution {
        try StochasticsError.requireFinite(value, "constant: value")
        return Distribution(.constant(value))
    }

    /// Uniform on [lower, upper).
    public static func uniform(lower: Double, upper: Double) throws(StochasticsError) -> Distribution {
        try StochasticsError.requireFinite(lower, "uniform: lower")
        try StochasticsError.requireFinite(upper, "uniform: upper")
        guard lower < upper else {
            throw StochasticsError("uniform: lower must be < upper, got lower \(lower), upper \(upper)")
        }
        return Distribution(.uniform(lower: lower, upper: upper))
    }

    /// Exponential with the given mean (rate = 1/mean).
    public static func exponential(mean: Double) throws(StochasticsError) -> Distribution {
        try StochasticsError.requirePositive(mean, "exponential: mean")
        return Distribution(.exponential(mean: mean))
    }

    /// Normal, optionally truncated to [lower, upper] (use `lower: 0` for durations).
    public static func normal(
        mean: Double, standardDeviation: Double, lower: Double? = nil, upper: Double? = nil
    ) throws(StochasticsError) -> Distribution {
        try StochasticsError.requireFinite(mean, "normal: mean")
        try StochasticsError.requirePositive(standardDeviation, "normal: standard deviation")
        if lower == nil && upper == nil {
            return Distribution(.normal(mean: mean, sd: standardDeviation))
        }
        let low = lower ?? -Double.infinity
        let high = upper ?? Double.infinity
        guard !low.isNaN, !high.isNaN, low < high else {
            throw StochasticsError("normal: truncation lower must be < upper, got lower \(low), upper \(high)")
        }
        let a = (low - mean) / standardDeviation
        let b = (high - mean) / standardDeviation
        let fromUpperTail = a > 0
        let cdfLower = fromUpperTail ? gsl_cdf_ugaussian_Q(a) : gsl_cdf_ugaussian_P(a)
        let cdfUpper = fromUpperTail ? gsl_cdf_ugaussian_Q(b) : gsl_cdf_ugaussian_P(b)
        guard abs(cdfUpper - cdfLower) > 1e-12 else {
            throw StochasticsError(
                "normal: truncation interval [\(low), \(high)] holds almost no probability (< 1e-12) for mean \(mean), standard deviation \(standardDeviation)"
            )
        }
        return Distribution(
            .truncatedNormal(
                mean: mean, sd: standardDeviation, lower: low, upper: high, fromUpperTail: fromUpperTail, cdfLower: cdfLower, cdfUpper: cdfUpper))
    }

    /// Lognormal: exp of a normal with mean `mu` and standard deviation `sigma`.
    public static func lognormal(mu: Double, sigma: Double) throws(StochasticsError) -> Distribution {
        try StochasticsError.requireFinite(mu, "lognormal: mu")
        try StochasticsError.requirePositive(sigma, "lognormal: sigma")
        return Distribution(.lognormal(mu: mu, sigma: sigma))
    }

    /// Lognormal from its median and 99th percentile: mu = ln(median),
    /// sigma = (ln(p99) − mu) / z₀.₉₉ with z₀.₉₉ ≈ 2.3263.
    public static func lognormal(median: Double, p99: Double) throws(StochasticsError) -> Distribution {
        try StochasticsError.requirePositive(median, "lognormal: median")
        try StochasticsError.requirePositive(p99, "lognormal: p99")
        guard p99 > median else {
            throw StochasticsError("lognormal: p99 must be > median, got median \(median), p99 \(p99)")
        }
        let mu = log(median)
        let sigma = (log(p99) - mu) / gsl_cdf_ugaussian_Pinv(0.99)
        return try lognormal(mu: mu, sigma: sigma)
    }

    /// Gamma with shape k and scale θ (mean kθ).
    public static func gamma(shape: Double, scale: Double) throws(StochasticsError) -> Distribution {
        try StochasticsError.requirePositive(shape, "gamma: shape")
        try StochasticsError.requirePositive(scale, "gamma: scale")
        return Distribution(.gamma(shape: shape, scale: scale))
    }

    /// Weibull with shape k and scale λ (mean λΓ(1 + 1/k)).
    public static func weibull(shape: Double, scale: Double) throws(StochasticsError) -> Distribution {
        try StochasticsError.requirePositive(shape, "weibull: shape")
        try StochasticsError.requirePositive(scale, "weibull: scale")
        do {
            let gamma1 = try GSL.gamma(1 + 1 / shape)
            let gamma2 = try GSL.gamma(1 + 2 / shape)
            return Distribution(.weibull(shape: shape, scale: scale, gamma1: gamma1, gamma2: gamma2))
        } catch {
            throw StochasticsError("weibull: shape \(shape) is too small, its moments cannot be computed (\(error)); use a shape ≥ 0.02")
        }
    }

    /// Pareto (type I) with shape α and scale xₘ (the minimum value).
    public static func pareto(shape: Double, scale: Double) throws(StochasticsError) -> Distribution {
        try StochasticsError.requirePositive(shape, "pareto: shape")
        try StochasticsError.requirePositive(scale, "pareto: scale")
        return Distribution(.pareto(shape: shape, scale: scale))
    }

    /// Beta on [0, 1] with shape parameters α and β.
    public static func beta(alpha: Double, beta: Double) throws(StochasticsError) -> Distribution {
        try StochasticsError.requirePositive(alpha, "beta: alpha")
        try StochasticsError.requirePositive(beta, "beta: beta")
        return Distribution(.beta(alpha: alpha, beta: beta))
    }

    /// 1 with probability p, else 0.
    public static func bernoulli(p: Double) throws(StochasticsError) -> Distribution {
        try StochasticsError.requireProbability(p, "bernoulli: p")
        return Distribution(.bernoulli(p: p))
    }

    /// Resamples the given observations, each equally likely.
    public static func empirical(values: [Double]) throws(StochasticsError) -> Distribution {
        guard !values.isEmpty else {
            throw StochasticsError("empirical: needs at least one value, got none")
        }
        if let bad = values.firstIndex(where: { !$0.isFinite }) {
            throw StochasticsError("empirical: value \(bad + 1) is not a finite number (\(values[bad]))")
        }
        guard values.count <= 1 << 32 else {
            throw StochasticsError("empirical: at most 2^32 values, got \(values.count)")
        }
        return Distribution(.empirical(values: values))
    }

    /// Resamples the values of one column of a CSV file (see ``CSVColumn``).
    public static func empirical(csvFile path: String, column: String) throws(StochasticsError) -> Distribution {
        let values = try CSVColumn.read(path: path, column: column)
        return try empirical(values: values)
    }

    // MARK: Sampling

    /// One draw from `stream`.
    @inlinable
    public func sample(_ stream: RandomStream) -> Double {
        let r = stream.generator
        switch kind {
        case .constant(let value):
            return value
        case .uniform(let lower, let upper):
            return gsl_ran_flat(r, lower, upper)
        case .exponential(let mean):
            return gsl_ran_exponential(r, mean)
        case .normal(let mean, let sd):
            return mean + gsl_ran_gaussian_ziggurat(r, sd)
        case .truncatedNormal(let mean, let sd, let lower, let upper, let fromUpperTail, let cdfLower, let cdfUpper):
            // Most of the mass inside the bounds (a duration floor far below the mean): plain
            // rejection needs under two tries on average and is far cheaper than inverting the CDF.
            if abs(cdfUpper - cdfLower) >= 0.5 {
                while true {
                    let x = mean + gsl_ran_gaussian_ziggurat(r, sd)
                    if x >= lower && x <= upper { return x }
                }
            }
            let u = cdfLower + gsl_rng_uniform_pos(r) * (cdfUpper - cdfLower)
            let z = fromUpperTail ? gsl_cdf_ugaussian_Qinv(u) : gsl_cdf_ugaussian_Pinv(u)
            return Swift.min(Swift.max(mean + sd * z, lower), upper)
        case .lognormal(let mu, let sigma):
            // The ziggurat normal: several times cheaper than the polar method behind gsl_ran_lognormal.
            return exp(mu + gsl_ran_gaussian_ziggurat(r, sigma))
        case .gamma(let shape, let scale):
            return gsl_ran_gamma(r, shape, scale)
        case .weibull(let shape, let scale, _, _):
            return gsl_ran_weibull(r, scale, shape)
        case .pareto(let shape, let scale):
            return gsl_ran_pareto(r, shape, scale)
        case .beta(let alpha, let beta):
            return gsl_ran_beta(r, alpha, beta)
        case .bernoulli(let p):
            return Double(gsl_ran_bernoulli(r, p))
        case .empirical(let values):
            return values[Int(gsl_rng_uniform_int(r, UInt(values.count)))]
        }
    }

    /// One draw converted to nanoseconds, for durations given in seconds (negative draws,
    /// possible only from distributions that allow them, become zero).
    @inlinable
    public func sampleNanoseconds(_ stream: RandomStream) -> Int64 {
        SimulationInstant.nanoseconds(fromSeconds: Swift.max(0, sample(stream)))
    }

    // MARK: Moments

    /// The mean (infinite where it does not exist, e.g. Pareto with shape ≤ 1).
    public var mean: Double {
        switch kind {
        case .constant(let value): return value
        case .uniform(let lower, let upper): return (lower + upper) / 2
        case .exponential(let mean): return mean
        case .normal(let mean, _): return mean
        case .truncatedNormal(let mean, let sd, let lower, let upper, _, _, _):
            let t = TruncatedNormalMoments(mean: mean, sd: sd, lower: lower, upper: upper)
            return t.mean
        case .lognormal(let mu, let sigma): return exp(mu + sigma * sigma / 2)
        case .gamma(let shape, let scale): return shape * scale
        case .weibull(_, let scale, let gamma1, _): return scale * gamma1
        case .pareto(let shape, let scale): return shape > 1 ? shape * scale / (shape - 1) : .infinity
        case .beta(let alpha, let beta): return alpha / (alpha + beta)
        case .bernoulli(let p): return p
        case .empirical(let values): return values.reduce(0, +) / Double(values.count)
        }
    }

    /// The variance (infinite where it does not exist).
    public var variance: Double {
        switch kind {
        case .constant: return 0
        case .uniform(let lower, let upper): return (upper - lower) * (upper - lower) / 12
        case .exponential(let mean): return mean * mean
        case .normal(_, let sd): return sd * sd
        case .truncatedNormal(let mean, let sd, let lower, let upper, _, _, _):
            return TruncatedNormalMoments(mean: mean, sd: sd, lower: lower, upper: upper).variance
        case .lognormal(let mu, let sigma):
            let s2 = sigma * sigma
            return (exp(s2) - 1) * exp(2 * mu + s2)
        case .gamma(let shape, let scale): return shape * scale * scale
        case .weibull(_, let scale, let gamma1, let gamma2):
            return scale * scale * (gamma2 - gamma1 * gamma1)
        case .pareto(let shape, let scale):
            guard shape > 2 else { return .infinity }
            return scale * scale * shape / ((shape - 1) * (shape - 1) * (shape - 2))
        case .beta(let a, let b): return a * b / ((a + b) * (a + b) * (a + b + 1))
        case .bernoulli(let p): return p * (1 - p)
        case .empirical(let values):
            let m = mean
            return values.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(values.count)
        }
    }

    public var description: String {
        switch kind {
        case .constant(let value): return "constant(\(value))"
        case .uniform(let lower, let upper): return "uniform(\(lower), \(upper))"
        case .exponential(let mean): return "exponential(mean: \(mean))"
        case .normal(let mean, let sd): return "normal(mean: \(mean), sd: \(sd))"
        case .truncatedNormal(let mean, let sd, let lower, let upper, _, _, _):
            return "normal(mean: \(mean), sd: \(sd), truncated to [\(lower), \(upper)])"
        case .lognormal(let mu, let sigma): return "lognormal(mu: \(mu), sigma: \(sigma))"
        case .gamma(let shape, let scale): return "gamma(shape: \(shape), scale: \(scale))"
        case .weibull(let shape, let scale, _, _): return "weibull(shape: \(shape), scale: \(scale))"
        case .pareto(let shape, let scale): return "pareto(shape: \(shape), scale: \(scale))"
        case .beta(let a, let b): return "beta(alpha: \(a), beta: \(b))"
        case .bernoulli(let p): return "bernoulli(p: \(p))"
        case .empirical(let values): return "empirical(\(values.count) values)"
        }
    }
}

/// Closed-form mean and variance of a normal truncated to [lower, upper].
struct TruncatedNormalMoments {
    let mean: Double
    let variance: Double

    init(mean mu: Double, sd: Double, lower: Double, upper: Double) {
        let a = (lower - mu) / sd
        let b = (upper - mu) / sd
        let phiA = a.isFinite ? gsl_ran_ugaussian_pdf(a) : 0
        let phiB = b.isFinite ? gsl_ran_ugaussian_pdf(b) : 0
        let z = a > 0 ? gsl_cdf_ugaussian_Q(a) - gsl_cdf_ugaussian_Q(b) : gsl_cdf_ugaussian_P(b) - gsl_cdf_ugaussian_P(a)
        let aPhiA = a.isFinite ? a * phiA : 0
        let bPhiB = b.isFinite ? b * phiB : 0
        let shift = (phiA - phiB) / z
        self.mean = mu + sd * shift
        self.variance = sd * sd * (1 + (aPhiA - bPhiB) / z - shift * shift)
    }
}
