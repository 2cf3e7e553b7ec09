/// A provider health state reduced to the numbers read on every attempt. It holds no
/// strings or arrays, so reading one copies nothing reference-counted (a
/// ``HealthStateSpec`` copy retains its name and error mix).
public struct HealthEffect: Sendable {
    public let latencyMultiplier: Double
    /// Servers usable in this state.
    public let capacity: Int
    public let retryAfterSeconds: Double?
    /// The chance that an attempt fails: draws at or above it succeed without a look at the mix.
    public let failureProbability: Double

    public init(_ state: HealthStateSpec, concurrency: Int) {
        latencyMultiplier = state.latencyMultiplier
        capacity = Int((Double(concurrency) * state.capacityFraction).rounded(.down))
        retryAfterSeconds = state.retryAfterSeconds
        failureProbability = state.failureProbability
    }
}
