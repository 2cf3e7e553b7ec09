import RoutingCore

/// What a provider (or the gateway) is like in one health state: how often attempts fail and
/// how, how much slower it answers, and how much of its capacity is left.
public struct HealthStateSpec: Sendable {
    public var name: String
    /// Per attempt, the probability of each failure class (the rest succeed). Order matters
    /// only for how one uniform draw is split, which is fixed: the order given.
    public var errorMix: [(OutcomeClass, Double)]
    /// Per attempt, the probability of each fault inside a stream (``StreamFault``), split
    /// from the same draw after the classes of ``errorMix``.
    public var streamFaultMix: [(StreamFault, Double)]
    /// Multiplies time to first token and generation time.
    public var latencyMultiplier: Double
    /// The fraction of concurrency capacity left (1: all of it).
    public var capacityFraction: Double
    /// The Retry-After sent with 429/529 answers in this state.
    public var retryAfterSeconds: Double?

    public init(
        name: String, errorMix: [(OutcomeClass, Double)] = [], streamFaultMix: [(StreamFault, Double)] = [], latencyMultiplier: Double = 1,
        capacityFraction: Double = 1, retryAfterSeconds: Double? = nil
    ) {
        self.name = name
        self.errorMix = errorMix
        self.streamFaultMix = streamFaultMix
        self.latencyMultiplier = latencyMultiplier
        self.capacityFraction = capacityFraction
        self.retryAfterSeconds = retryAfterSeconds
    }

    /// All attempts answered, at full speed and capacity.
    public static let healthy = HealthStateSpec(name: "healthy")

    /// Total probability of the mix: failure classes and stream faults.
    public var failureProbability: Double { errorMix.reduce(0) { $0 + $1.1 } + streamFaultMix.reduce(0) { $0 + $1.1 } }

    /// The failure class for a uniform draw `u` in [0, 1), or nil for success.
    @inlinable
    public func failure(for u: Double) -> OutcomeClass? {
        var remaining = u
        for (outcome, probability) in errorMix {
            if remaining < probability { return outcome }
            remaining -= probability
        }
        return nil
    }

    /// The stream fault for a uniform draw `u` in [0, 1) that ``failure(for:)`` found no class
    /// for, or nil for success.
    public func streamFault(for u: Double) -> StreamFault? {
        var remaining = u - errorMix.reduce(0) { $0 + $1.1 }
        guard remaining >= 0 else { return nil }
        for (fault, probability) in streamFaultMix {
            if remaining < probability { return fault }
            remaining -= probability
        }
        return nil
    }
}
