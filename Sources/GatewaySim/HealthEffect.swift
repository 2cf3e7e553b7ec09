/// A provider health state reduced to the numbers read on every attempt. It holds no
/// strings or arrays, so reading one copies nothing reference-counted (a
/// ``HealthStateSpec`` copy retains its name and error mix).
struct HealthEffect: Sendable {
    let latencyMultiplier: Double
    /// Servers usable in this state.
    let capacity: Int
    let retryAfterSeconds: Double?
    /// The chance that an attempt fails: draws at or above it succeed without a look at the mix.
    let failureProbability: Double

    init(_ state: HealthStateSpec, concurrency: Int) {
        latencyMultiplier = state.latencyMultiplier
        capacity = Int((Double(concurrency) * state.capacityFraction).rounded(.down))
        retryAfterSeconds = state.retryAfterSeconds
        failureProbability = state.failureProbability
    }
}
