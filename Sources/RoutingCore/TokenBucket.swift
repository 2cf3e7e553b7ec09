/// A token bucket: `ratePerSecond` tokens refill continuously up to `burst`. Used for
/// request and token rate limits (per team, per route) and for a provider's RPM/TPM limits
/// as the router knows them.
public struct TokenBucket: Sendable, Equatable {
    public let ratePerSecond: Double
    public let burst: Double
    public private(set) var tokens: Double
    private var updated: Int64

    public init(ratePerSecond: Double, burst: Double, at start: RoutingInstant = RoutingInstant(nanoseconds: 0)) {
        self.ratePerSecond = ratePerSecond
        self.burst = burst
        self.tokens = burst
        self.updated = start.nanoseconds
    }

    /// Whether `amount` tokens are available now (without taking them).
    public mutating func canTake(_ amount: Double, at now: RoutingInstant) -> Bool {
        refill(at: now)
        return tokens >= amount
    }

    /// Takes `amount` tokens if available; returns whether it did.
    public mutating func take(_ amount: Double, at now: RoutingInstant) -> Bool {
        refill(at: now)
        guard tokens >= amount else { return false }
        tokens -= amount
        return true
    }

    /// The tokens there would be at `now`, without changing the bucket.
    public func availableTokens(at now: RoutingInstant) -> Double {
        let elapsed = now.nanoseconds - updated
        guard elapsed > 0 else { return tokens }
        return min(burst, tokens + ratePerSecond * Double(elapsed) / 1e9)
    }

    /// Seconds from `now` until `amount` tokens are available (0 if they already are).
    public func secondsUntilAvailable(_ amount: Double, at now: RoutingInstant) -> Double {
        max(0, (amount - availableTokens(at: now)) / ratePerSecond)
    }

    /// Takes `amount` even if that leaves the bucket in debt (actual usage reported after the fact).
    public mutating func charge(_ amount: Double, at now: RoutingInstant) {
        refill(at: now)
        tokens -= amount
    }

    /// The bucket with its rate and burst times `factor` (a replica's share of a limit the
    /// replicas share, ``Router/setRateShare(_:)``), its tokens scaled alike; a burst is at
    /// least one (a request must be able to pass).
    func scaled(by factor: Double, at now: RoutingInstant) -> TokenBucket {
        var bucket = self
        bucket.refill(at: now)
        var scaled = TokenBucket(ratePerSecond: ratePerSecond * factor, burst: max(1, burst * factor), at: now)
        scaled.tokens = min(scaled.burst, bucket.tokens * factor)
        return scaled
    }

    mutating func refill(at now: RoutingInstant) {
        let elapsed = now.nanoseconds - updated
        guard elapsed > 0 else { return }
        tokens = min(burst, tokens + ratePerSecond * Double(elapsed) / 1e9)
        updated = now.nanoseconds
    }
}

/// A rate limit as configured: requests and/or tokens per minute, each with a burst.
public struct RateLimit: Sendable, Equatable {
    public var requestsPerMinute: Double?
    public var tokensPerMinute: Double?
    /// How many seconds' worth of the rate may be spent at once (default 1 s: Anthropic's
    /// "60 RPM may be enforced as 1 request/s").
    public var burstSeconds: Double

    public init(requestsPerMinute: Double? = nil, tokensPerMinute: Double? = nil, burstSeconds: Double = 1) {
        self.requestsPerMinute = requestsPerMinute
        self.tokensPerMinute = tokensPerMinute
        self.burstSeconds = burstSeconds
    }

    /// Fresh buckets for this limit: requests and tokens, each with its burst.
    public func buckets() -> (requests: TokenBucket?, tokens: TokenBucket?) {
        let requests = requestsPerMinute.map { TokenBucket(ratePerSecond: $0 / 60, burst: max(1, $0 / 60 * burstSeconds)) }
        let tokens = tokensPerMinute.map { TokenBucket(ratePerSecond: $0 / 60, burst: max(1, $0 / 60 * burstSeconds)) }
        return (requests, tokens)
    }
}
