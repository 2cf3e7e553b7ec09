/// Limits how many retries a route may send, so that retries cannot multiply load on an
/// upstream that is already failing (the sustaining effect of metastable failures).
public enum RetryBudgetConfig: Sendable, Equatable {
    /// The kinds by name, as a config writes them.
    public enum Kind: String, CaseIterable, Sendable {
        case unlimited, finagle, grpc
        case adaptiveThrottling = "adaptive_throttling"
    }

    /// No budget: every retry the retry policy allows is sent.
    case unlimited
    /// Finagle `RetryBudget(ttl, minRetriesPerSec, percentCanRetry)`: over any window of
    /// `ttlSeconds`, retries ≤ minRetriesPerSecond·ttl + percentCanRetry·requests.
    /// Finagle's defaults: ttl 10 s, 10 retries/s, 20%.
    case finagle(ttlSeconds: Double, minRetriesPerSecond: Double, percentCanRetry: Double)
    /// gRPC `retryThrottling{maxTokens, tokenRatio}`: a failure costs one token, a success
    /// earns `tokenRatio`; retries stop while tokens ≤ maxTokens/2.
    case grpc(maxTokens: Double, tokenRatio: Double)
    /// Google SRE client-side adaptive throttling: an attempt is refused locally with
    /// probability max(0, (requests − K·accepts)/(requests + 1)) over the last `windowSeconds`
    /// (SRE book: K = 2, 2 minutes). An attempt counts as a request when its answer comes back
    /// (an accept unless the backend rejected it as overloaded or failing) or when it is
    /// refused locally, as gRPC's adaptive throttler counts: attempts still on their way are
    /// no evidence yet, so a gateway that has just started, with nothing answered, refuses
    /// nothing (counted at sending, its second request would be refused half the time before
    /// the first could answer).
    case adaptiveThrottling(k: Double, windowSeconds: Double)

    /// Finagle's default budget.
    public static let finagleDefault = RetryBudgetConfig.finagle(ttlSeconds: 10, minRetriesPerSecond: 10, percentCanRetry: 0.2)
    /// gRPC's example throttling policy (maxTokens 10, tokenRatio 0.1).
    public static let grpcDefault = RetryBudgetConfig.grpc(maxTokens: 10, tokenRatio: 0.1)
    /// The SRE book's adaptive throttling (K = 2 over two minutes).
    public static let adaptiveThrottlingDefault = RetryBudgetConfig.adaptiveThrottling(k: 2, windowSeconds: 120)
}

/// The running state of a retry budget.
public struct RetryBudget: Sendable {
    public let config: RetryBudgetConfig
    /// Over the window: requests and retries (Finagle) or answered-or-refused attempts and
    /// accepts (adaptive throttling).
    private var window: SlidingWindowCounter
    private var tokens: Double

    public init(_ config: RetryBudgetConfig) {
        self.config = config
        switch config {
        case .finagle(let ttl, _, _): window = SlidingWindowCounter(windowSeconds: ttl)
        case .adaptiveThrottling(_, let seconds): window = SlidingWindowCounter(windowSeconds: seconds)
        case .unlimited, .grpc: window = SlidingWindowCounter(windowSeconds: 1)
        }
        if case .grpc(let maxTokens, _) = config { tokens = maxTokens } else { tokens = 0 }
    }

    /// A new request (first attempt) arrives: Finagle's budget grows with requests.
    public mutating func recordRequest(at now: RoutingInstant) {
        if case .finagle = config { add(first: 1, second: 0, at: now) }
    }

    /// Whether a retry may be sent now; when it may, it is counted against the budget.
    public mutating func tryWithdrawRetry(at now: RoutingInstant) -> Bool {
        switch config {
        case .unlimited:
            return true
        case .finagle(let ttl, let minPerSecond, let percent):
            let (requests, retries) = window.totals(at: now)
            guard retries + 1 <= minPerSecond * ttl + percent * requests else { return false }
            add(first: 0, second: 1, at: now)
            return true
        case .grpc(let maxTokens, _):
            return tokens > maxTokens / 2
        case .adaptiveThrottling:
            return true
        }
    }

    /// Adaptive throttling: the probability that an attempt is refused locally right now.
    public mutating func rejectionProbability(at now: RoutingInstant) -> Double {
        guard case .adaptiveThrottling(let k, _) = config else { return 0 }
        let (requests, accepts) = window.totals(at: now)
        return max(0, (requests - k * accepts) / (requests + 1))
    }

    /// Adaptive throttling: an attempt refused locally counts as a request (and not an accept).
    public mutating func recordLocalRefusal(at now: RoutingInstant) {
        if case .adaptiveThrottling = config { add(first: 1, second: 0, at: now) }
    }

    /// The outcome of an attempt: gRPC tokens move; adaptive throttling counts a request, and
    /// an accept for any answer the backend gave that was not an overload rejection or a
    /// failure (a cancelled attempt was never answered: it counts for nothing).
    public mutating func recordOutcome(_ outcome: OutcomeClass, at now: RoutingInstant) {
        switch config {
        case .grpc(let maxTokens, let ratio):
            if outcome == .success {
                tokens = min(maxTokens, tokens + ratio)
            } else if outcome.countsAsTargetFailure || outcome == .rateLimited {
                tokens = max(0, tokens - 1)
            }
        case .adaptiveThrottling:
            guard outcome != .cancelled else { return }
            add(first: 1, second: outcome.countsAsTargetFailure || outcome == .rateLimited ? 0 : 1, at: now)
        case .unlimited, .finagle:
            return
        }
    }

    /// gRPC token count (for tests and reports).
    public var grpcTokens: Double { tokens }

    /// What the budget has left now, for a gauge: Finagle, the retries it would still allow in
    /// its window; gRPC, its tokens (retries go out while more than half the maximum remain);
    /// adaptive throttling, the probability that an attempt is sent rather than refused
    /// locally. Nil for an unlimited budget.
    public mutating func balance(at now: RoutingInstant) -> Double? {
        switch config {
        case .unlimited:
            return nil
        case .finagle(let ttl, let minPerSecond, let percent):
            let (requests, retries) = window.totals(at: now)
            return max(0, (minPerSecond * ttl + percent * requests - retries).rounded(.down))
        case .grpc:
            return tokens
        case .adaptiveThrottling:
            return 1 - rejectionProbability(at: now)
        }
    }

    private mutating func add(first: Double, second: Double, at now: RoutingInstant) {
        window.add(first: first, second: second, at: now)
    }
}
