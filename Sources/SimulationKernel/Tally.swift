/// Count, mean and variance of observations, by Welford's update (numerically stable,
/// one pass, constant memory).
public struct Tally: Sendable, Equatable {
    public private(set) var count: Int = 0
    public private(set) var mean: Double = 0
    private var sumOfSquaredDeviations: Double = 0
    public private(set) var minimum: Double = .infinity
    public private(set) var maximum: Double = -.infinity

    public init() {}

    @inlinable
    public mutating func record(_ value: Double) {
        add(value)
    }

    @usableFromInline
    internal mutating func add(_ value: Double) {
        count += 1
        let delta = value - mean
        mean += delta / Double(count)
        sumOfSquaredDeviations += delta * (value - mean)
        minimum = Swift.min(minimum, value)
        maximum = Swift.max(maximum, value)
    }

    /// Sample variance (n − 1 denominator); zero with fewer than two observations.
    public var variance: Double {
        count > 1 ? sumOfSquaredDeviations / Double(count - 1) : 0
    }

    public var standardDeviation: Double { variance.squareRoot() }

    /// Standard error of the mean.
    public var standardError: Double {
        count > 0 ? (variance / Double(count)).squareRoot() : 0
    }

    /// Combines two tallies as if every observation had been recorded in one
    /// (Chan et al.'s parallel update), for merging replications.
    public mutating func merge(_ other: Tally) {
        guard other.count > 0 else { return }
        guard count > 0 else { self = other; return }
        let total = count + other.count
        let delta = other.mean - mean
        sumOfSquaredDeviations +=
            other.sumOfSquaredDeviations
            + delta * delta * Double(count) * Double(other.count) / Double(total)
        mean += delta * Double(other.count) / Double(total)
        count = total
        minimum = Swift.min(minimum, other.minimum)
        maximum = Swift.max(maximum, other.maximum)
    }
}
