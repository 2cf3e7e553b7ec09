import RoutingCore

/// A provider's limits for the organisation: requests and input tokens per minute, and the
/// output-TPM charged with a request's max output tokens. Shared by the simulation's
/// ``Provider`` and the live twin's mock providers.
public struct ProviderLimits: Sendable {
    private var requests: TokenBucket?
    private var tokens: TokenBucket?
    private var output: TokenBucket?

    public init(_ spec: ProviderSpec) {
        if let limits = spec.limits {
            (requests, tokens) = limits.buckets()
        }
        if let otpm = spec.outputTokensPerMinute {
            output = TokenBucket(ratePerSecond: otpm / 60, burst: max(1, otpm / 60))
        }
    }

    /// Takes an attempt's share of every bucket at `now`, or, when one is short, takes
    /// nothing and returns the seconds until it has enough (the 429's Retry-After).
    public mutating func admit(inputTokens: Int, outputTokens: Int, at now: RoutingInstant) -> Double? {
        if let bucket = requests, bucket.availableTokens(at: now) < 1 {
            return bucket.secondsUntilAvailable(1, at: now)
        }
        if let bucket = tokens, bucket.availableTokens(at: now) < Double(inputTokens) {
            return bucket.secondsUntilAvailable(Double(inputTokens), at: now)
        }
        if let bucket = output, bucket.availableTokens(at: now) < Double(outputTokens) {
            return bucket.secondsUntilAvailable(Double(outputTokens), at: now)
        }
        _ = requests?.take(1, at: now)
        _ = tokens?.take(Double(inputTokens), at: now)
        _ = output?.take(Double(outputTokens), at: now)
        return nil
    }
}
