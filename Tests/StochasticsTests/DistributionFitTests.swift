import Foundation
import Testing
@testable import Stochastics

/// Maximum-likelihood fits recover the parameters of draws from a known distribution.
/// Tolerances: with n = 20,000 draws the estimators' standard errors are about 1% of the
/// parameters (lognormal: σ/√n for mu, σ/√(2n) for sigma; gamma and Weibull shapes about
/// 1.2 k/√n; normal: σ/√n and σ/√(2n)); each tolerance is at least four of them, and the
/// draws come from fixed seeds, so the test cannot flake.
@Suite("Distribution fits")
struct DistributionFitTests {
    static func draws(_ distribution: Distribution, seed: UInt64, count: Int = 20_000) -> [Double] {
        let stream = RandomStream(name: "fit", seed: seed, replication: 0)
        return (0..<count).map { _ in distribution.sample(stream) }
    }

    func parameters(_ fit: DistributionFit) -> [String: Double] {
        Dictionary(uniqueKeysWithValues: fit.parameters.map { ($0.name, $0.value) })
    }

    @Test("lognormal, gamma, Weibull and normal parameters are recovered, and the right family fits closest")
    func recovers() throws {
        let lognormal = try DistributionFit.fit(.lognormal, to: Self.draws(try .lognormal(mu: -3, sigma: 0.4), seed: 1))
        #expect(abs(parameters(lognormal)["mu"]! + 3) < 0.012 && abs(parameters(lognormal)["sigma"]! - 0.4) < 0.008)

        let gamma = try DistributionFit.fit(.gamma, to: Self.draws(try .gamma(shape: 2.5, scale: 0.2), seed: 2))
        #expect(abs(parameters(gamma)["shape"]! - 2.5) / 2.5 < 0.04 && abs(parameters(gamma)["scale"]! - 0.2) / 0.2 < 0.04)

        let weibull = try DistributionFit.fit(.weibull, to: Self.draws(try .weibull(shape: 1.7, scale: 3), seed: 3))
        #expect(abs(parameters(weibull)["shape"]! - 1.7) / 1.7 < 0.04 && abs(parameters(weibull)["scale"]! - 3) / 3 < 0.03)

        let normal = try DistributionFit.fit(.normal, to: Self.draws(try .normal(mean: 120, standardDeviation: 15), seed: 4))
        #expect(abs(parameters(normal)["mean"]! - 120) < 0.5 && abs(parameters(normal)["sd"]! - 15) < 0.5)

        // The Kolmogorov–Smirnov distance of the right family is small (about 0.89/√n for
        // fitted parameters at the 95th percentile, 0.0063 here); the wrong families are far.
        let values = Self.draws(try .lognormal(mu: 0, sigma: 1), seed: 5)
        let (best, all) = try DistributionFit.best(of: [.lognormal, .gamma, .weibull], to: values)
        #expect(best.family == .lognormal && best.ksDistance < 0.01)
        #expect(all.count == 3 && all.dropFirst().allSatisfy { $0.ksDistance > 3 * best.ksDistance })
    }

    @Test("too few, non-positive or identical values are refused with the reason")
    func refusals() {
        #expect(throws: StochasticsError.self) { try DistributionFit.fit(.lognormal, to: [1]) }
        #expect(throws: StochasticsError.self) { try DistributionFit.fit(.gamma, to: [1, -2, 3]) }
        #expect(throws: StochasticsError.self) { try DistributionFit.fit(.normal, to: [2, 2, 2]) }
    }
}
