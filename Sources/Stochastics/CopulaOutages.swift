import CGSL
import Foundation
import SimulationKernel

/// Outage indicators per time slot, correlated across targets by a one-factor copula.
///
/// In each slot, target i is out (state 1) when its latent variable falls below its
/// marginal quantile: Xᵢ = √ρ·M + √(1−ρ)·εᵢ with M, εᵢ standard normal (Gaussian copula);
/// for the t copula Xᵢ is further divided by √(W/ν), W ~ χ²(ν), which makes joint
/// outages more likely in the tails. Marginals are exact: P(target i out) = pᵢ.
public struct CopulaOutages: DegradationProcess {
    /// The dependence family.
    public enum Family: Sendable, Equatable {
        case gaussian
        case studentT(degreesOfFreedom: Double)
    }

    public let outageProbabilities: [Double]
    public let correlation: Double
    public let family: Family
    public let slotNanoseconds: Int64
    public let initialStates: [Int]
    private let thresholds: [Double]
    private let stream: RandomStream
    private var states: [Int]
    private var slotStart: Int64 = 0
    private var pending: [HealthChange] = []

    public var targetCount: Int { outageProbabilities.count }

    /// - Parameters:
    ///   - outageProbabilities: per target, the probability of being out in a slot (0 < p < 1).
    ///   - correlation: the factor loading ρ in [0, 1).
    ///   - slotSeconds: slot length; states hold for a whole slot.
    public init(
        outageProbabilities: [Double], correlation: Double, family: Family, slotSeconds: Double, stream: RandomStream
    ) throws(StochasticsError) {
        guard !outageProbabilities.isEmpty else {
            throw StochasticsError("copula outages: needs at least one target")
        }
        for (index, p) in outageProbabilities.enumerated() where !(p > 0 && p < 1) {
            throw StochasticsError("copula outages: outage probability of target \(index) must be in (0, 1), got \(p)")
        }
        guard correlation.isFinite, correlation >= 0, correlation < 1 else {
            throw StochasticsError("copula outages: correlation must be in [0, 1), got \(correlation)")
        }
        if case .studentT(let nu) = family {
            try StochasticsError.requirePositive(nu, "copula outages: t degrees of freedom")
        }
        try StochasticsError.requirePositive(slotSeconds, "copula outages: slot length (seconds)")
        self.outageProbabilities = outageProbabilities
        self.correlation = correlation
        self.family = family
        self.slotNanoseconds = Swift.max(1, SimulationInstant.nanoseconds(fromSeconds: slotSeconds))
        self.stream = stream
        let thresholds = outageProbabilities.map { p in
            switch family {
            case .gaussian: return gsl_cdf_ugaussian_Pinv(p)
            case .studentT(let nu): return gsl_cdf_tdist_Pinv(p, nu)
            }
        }
        self.thresholds = thresholds
        let first = CopulaOutages.drawSlot(thresholds: thresholds, correlation: correlation, family: family, stream: stream)
        self.states = first
        self.initialStates = first
    }

    public mutating func nextChange() -> HealthChange? {
        while pending.isEmpty {
            slotStart += slotNanoseconds
            let next = CopulaOutages.drawSlot(thresholds: thresholds, correlation: correlation, family: family, stream: stream)
            for target in 0..<targetCount where next[target] != states[target] {
                pending.append(HealthChange(time: slotStart, target: target, state: next[target]))
            }
            states = next
        }
        return pending.removeFirst()
    }

    private static func drawSlot(thresholds: [Double], correlation: Double, family: Family, stream: RandomStream) -> [Int] {
        let r = stream.generator
        let factor = gsl_ran_ugaussian(r)
        let scale: Double
        switch family {
        case .gaussian: scale = 1
        case .studentT(let nu): scale = 1 / (gsl_ran_chisq(r, nu) / nu).squareRoot()
        }
        let loading = correlation.squareRoot()
        let idiosyncratic = (1 - correlation).squareRoot()
        return thresholds.map { threshold in
            let latent = (loading * factor + idiosyncratic * gsl_ran_ugaussian(r)) * scale
            return latent < threshold ? 1 : 0
        }
    }

    /// P(every target in `targets` is out in the same slot), by numerical integration over
    /// the common factor (and, for t, over the χ² mixing variable): the closed form the
    /// simulation is validated against.
    public func jointOutageProbability(targets: [Int]) -> Double {
        let loading = correlation.squareRoot()
        let idiosyncratic = (1 - correlation).squareRoot()
        // Midpoint rule over M ∈ [−9, 9]; the integrand is smooth and the tails negligible.
        let steps = 3600
        let width = 18.0 / Double(steps)
        func conditional(_ scale: Double) -> Double {
            var total = 0.0
            for step in 0..<steps {
                let m = -9 + (Double(step) + 0.5) * width
                var product = gsl_ran_ugaussian_pdf(m) * width
                for target in targets {
                    product *= gsl_cdf_ugaussian_P((thresholds[target] / scale - loading * m) / idiosyncratic)
                }
                total += product
            }
            return total
        }
        switch family {
        case .gaussian:
            return conditional(1)
        case .studentT(let nu):
            // Average over equiprobable quantiles of W ~ χ²(ν); scale = 1/√(W/ν).
            let quantiles = 400
            var total = 0.0
            for k in 0..<quantiles {
                let w = gsl_cdf_chisq_Pinv((Double(k) + 0.5) / Double(quantiles), nu)
                total += conditional(1 / (w / nu).squareRoot())
            }
            return total / Double(quantiles)
        }
    }
}
