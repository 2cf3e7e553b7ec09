import CGSL
import Foundation

/// Fits a distribution to observations by maximum likelihood, and says how well it fits: the
/// Kolmogorov–Smirnov statistic D (the largest distance between the empirical and the
/// fitted CDF, from GSL's CDFs). `brownout fit` uses it on the latencies a gateway recorded.
///
/// D is a distance, not a test: the parameters come from the same data, so the usual
/// Kolmogorov p-value would be too kind (Lilliefors); D compares the families with each other.
public struct DistributionFit: Sendable {
    public enum Family: String, CaseIterable, Sendable {
        case lognormal, gamma, weibull, normal
    }

    public let family: Family
    /// The parameters as a spec writes them, in order (`mu`, `sigma`; `shape`, `scale`; `mean`, `sd`).
    public let parameters: [(name: String, value: Double)]
    public let distribution: Distribution
    /// Kolmogorov–Smirnov D against the observations.
    public let ksDistance: Double
    public let count: Int

    /// Maximum-likelihood fit of `family` to `values` (positive, at least 2 distinct for the
    /// positive families).
    public static func fit(_ family: Family, to values: [Double]) throws(StochasticsError) -> DistributionFit {
        _ = GSL.prepared
        guard values.count >= 2, values.allSatisfy(\.isFinite) else {
            throw StochasticsError("fit: needs at least 2 finite values, got \(values.count)")
        }
        if family != .normal {
            guard values.allSatisfy({ $0 > 0 }) else { throw StochasticsError("fit: \(family.rawValue) needs positive values") }
        }
        let n = Double(values.count)
        let mean = values.reduce(0, +) / n
        let logs = family == .normal ? [] : values.map { log($0) }
        let meanLog = logs.reduce(0, +) / n
        let parameters: [(String, Double)]
        let distribution: Distribution
        let cdf: (Double) -> Double
        switch family {
        case .lognormal:
            let sigma = (logs.reduce(0) { $0 + ($1 - meanLog) * ($1 - meanLog) } / n).squareRoot()
            distribution = try .lognormal(mu: meanLog, sigma: sigma)
            parameters = [("mu", meanLog), ("sigma", sigma)]
            cdf = { gsl_cdf_lognormal_P($0, meanLog, sigma) }
        case .gamma:
            // s = ln(mean) − mean(ln x); Minka's start, then Newton on ln k − ψ(k) = s.
            let s = log(mean) - meanLog
            guard s > 0 else { throw StochasticsError("fit: gamma needs values that are not all equal") }
            var k = (3 - s + ((s - 3) * (s - 3) + 24 * s).squareRoot()) / (12 * s)
            for _ in 0..<50 {
                let step = (log(k) - gsl_sf_psi(k) - s) / (1 / k - gsl_sf_psi_1(k))
                k = max(k - step, k / 10)
                if abs(step) < 1e-12 * k { break }
            }
            let scale = mean / k
            distribution = try .gamma(shape: k, scale: scale)
            parameters = [("shape", k), ("scale", scale)]
            cdf = { gsl_cdf_gamma_P($0, k, scale) }
        case .weibull:
            // The shape solves Σ xᵏ ln x / Σ xᵏ − 1/k = mean(ln x), increasing in k: bisection,
            // on values divided by their largest so xᵏ cannot overflow.
            let largest = values.max()!
            let scaled = values.map { $0 / largest }
            let scaledLogs = scaled.map { log($0) }
            let meanScaledLog = scaledLogs.reduce(0, +) / n
            func excess(_ k: Double) -> Double {
                var weighted = 0.0, total = 0.0
                for (x, lx) in zip(scaled, scaledLogs) {
                    let p = pow(x, k)
                    weighted += p * lx
                    total += p
                }
                return weighted / total - 1 / k - meanScaledLog
            }
            var low = 0.02, high = 200.0
            guard excess(low) < 0, excess(high) > 0 else { throw StochasticsError("fit: weibull shape outside [0.02, 200]") }
            for _ in 0..<200 {
                let middle = (low * high).squareRoot()
                if excess(middle) < 0 { low = middle } else { high = middle }
            }
            let k = (low * high).squareRoot()
            let scale = largest * pow(scaled.reduce(0) { $0 + pow($1, k) } / n, 1 / k)
            distribution = try .weibull(shape: k, scale: scale)
            parameters = [("shape", k), ("scale", scale)]
            cdf = { gsl_cdf_weibull_P($0, scale, k) }
        case .normal:
            let sd = (values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / (n - 1)).squareRoot()
            guard sd > 0 else { throw StochasticsError("fit: normal needs values that are not all equal") }
            distribution = try .normal(mean: mean, standardDeviation: sd)
            parameters = [("mean", mean), ("sd", sd)]
            cdf = { gsl_cdf_gaussian_P($0 - mean, sd) }
        }
        return DistributionFit(
            family: family, parameters: parameters, distribution: distribution,
            ksDistance: Self.ksDistance(values.sorted(), cdf), count: values.count)
    }

    /// The family, among `families`, whose maximum-likelihood fit is closest (smallest D);
    /// families that cannot be fitted are skipped. Also returns every fit, closest first.
    public static func best(of families: [Family], to values: [Double]) throws(StochasticsError) -> (best: DistributionFit, all: [DistributionFit]) {
        var fits: [DistributionFit] = []
        var lastError: StochasticsError?
        for family in families {
            do {
                fits.append(try fit(family, to: values))
            } catch {
                lastError = error
            }
        }
        fits.sort { $0.ksDistance < $1.ksDistance }
        guard let best = fits.first else { throw lastError ?? StochasticsError("fit: no family to fit") }
        return (best, fits)
    }

    /// sup |Fₙ(x) − F(x)| over sorted values.
    static func ksDistance(_ sorted: [Double], _ cdf: (Double) -> Double) -> Double {
        let n = Double(sorted.count)
        var distance = 0.0
        for (i, x) in sorted.enumerated() {
            let f = cdf(x)
            distance = max(distance, f - Double(i) / n, Double(i + 1) / n - f)
        }
        return distance
    }
}
