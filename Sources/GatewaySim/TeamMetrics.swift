import SimulationKernel

/// What one team experienced in a replication (requests that arrived after the warm-up).
public struct TeamMetrics: Sendable {
    public let name: String
    public var requests = 0
    public var succeededFrontier = 0
    /// Successes served by a local pool: degraded mode.
    public var succeededFallback = 0
    /// Final failures by label: an outcome class (`overloaded_529`, …) or a refusal reason
    /// (`shed`, `budget_exhausted`, `rate_limited`, `gateway_error`, …).
    public var failures: [String: Int] = [:]
    /// The label of a request the gateway itself failed (its own health, not an upstream's):
    /// no router decision names it.
    public static let gatewayFailure = "gateway_error"
    public var totalLatency = LatencyHistogram()
    public var firstTokenLatency = LatencyHistogram()
    /// Gateway attempts per request, over all SDK tries.
    public var attempts = Tally()
    public var hedges = 0
    public var sdkRetries = 0
    /// Requests still in flight when the run ended (0 after a full drain).
    public var unfinished = 0

    public init(name: String) {
        self.name = name
    }

    /// Adds another team's observations (for totals over teams).
    public mutating func absorb(_ other: TeamMetrics) {
        requests += other.requests
        succeededFrontier += other.succeededFrontier
        succeededFallback += other.succeededFallback
        for (label, count) in other.failures { failures[label, default: 0] += count }
        totalLatency.merge(other.totalLatency)
        firstTokenLatency.merge(other.firstTokenLatency)
        attempts.merge(other.attempts)
        hedges += other.hedges
        sdkRetries += other.sdkRetries
        unfinished += other.unfinished
    }

    public var succeeded: Int { succeededFrontier + succeededFallback }
    public var failed: Int { failures.values.reduce(0, +) }

    /// Successes over requests that ended.
    public var availability: Double {
        let ended = succeeded + failed
        return ended > 0 ? Double(succeeded) / Double(ended) : 1
    }
}

/// Counts per fixed time bucket, for the time series output.
public struct TimeBuckets: Sendable {
    public let window: MeasurementWindow
    public var bucketNanoseconds: Int64 { window.bucket }
    public private(set) var requests: [Int] = []
    public private(set) var succeeded: [Int] = []
    public private(set) var fallback: [Int] = []
    public private(set) var failed: [Int] = []

    init(window: MeasurementWindow) {
        self.window = window
    }

    mutating func record(at time: Int64, arrived: Bool = false, succeeded ok: Bool = false, fallback degraded: Bool = false, failed bad: Bool = false)
    {
        let index = window.bucketIndex(at: time)
        while requests.count <= index {
            requests.append(0); succeeded.append(0); fallback.append(0); failed.append(0)
        }
        if arrived { requests[index] += 1 }
        if ok { succeeded[index] += 1 }
        if degraded { fallback[index] += 1 }
        if bad { failed[index] += 1 }
    }
}
