import Foundation

/// What the router knows about one target right now: health, load, latency, limits.
struct TargetState: Sendable {
    var breaker: CircuitBreaker?
    var consecutiveFailures = 0
    var ejectedUntil: Int64 = 0
    var ejections = 0
    var retryAfterUntil: Int64 = 0
    var outstanding = 0
    var latencyEWMASeconds = 0.0
    var latencySamples = 0
    var latencies = LatencyBuckets()
    var requestBucket: TokenBucket?
    var tokenBucket: TokenBucket?

    /// An attempt goes to this target: its breaker counts it (a half-open probe) and the
    /// provider limits as the router knows them are charged, in one access to the state.
    mutating func attemptStarted(inputTokens: Int, at now: RoutingInstant) {
        breaker?.attemptStarted()
        _ = requestBucket?.take(1, at: now)
        _ = tokenBucket?.take(Double(inputTokens), at: now)
    }

    /// A success's latency: into the moving average, and into the histogram when some route
    /// hedges at a latency percentile (nothing else reads it).
    mutating func observeLatency(_ nanoseconds: Int64, weight: Double, histogram: Bool) {
        let seconds = Double(nanoseconds) / 1e9
        latencyEWMASeconds = latencySamples == 0 ? seconds : weight * seconds + (1 - weight) * latencyEWMASeconds
        latencySamples += 1
        if histogram { latencies.record(seconds) }
    }
}

/// A small latency histogram on a geometric grid (1 ms × 1.25ᵏ, 64 buckets, up to ~20
/// minutes) whose counts halve every 1,024 observations, so percentiles follow recent
/// behaviour. Used for percentile-based hedging delays.
struct LatencyBuckets: Sendable {
    private var counts = [Double](repeating: 0, count: 64)
    private var sinceDecay = 0
    private(set) var total = 0.0

    private static let ratio = 1.25
    private static let logRatio = 0.22314355131420976  // ln 1.25

    mutating func record(_ seconds: Double) {
        let index = seconds <= 0.001 ? 0 : min(63, Int(log(seconds / 0.001) / LatencyBuckets.logRatio) + 1)
        counts[index] += 1
        total += 1
        sinceDecay += 1
        if sinceDecay == 1_024 {
            for i in counts.indices { counts[i] *= 0.5 }
            total *= 0.5
            sinceDecay = 0
        }
    }

    /// The upper edge of the bucket holding `percentile` (0–100), in seconds.
    func seconds(atPercentile percentile: Double) -> Double {
        guard total > 0 else { return 0 }
        let rank = percentile / 100 * total
        var cumulative = 0.0
        for (index, count) in counts.enumerated() {
            cumulative += count
            if cumulative >= rank {
                return 0.001 * pow(LatencyBuckets.ratio, Double(index))
            }
        }
        return 0.001 * pow(LatencyBuckets.ratio, 63)
    }
}
