/// Circuit breaker settings for one target.
///
/// Semantics follow resilience4j/Hystrix: the breaker opens after `consecutiveFailures`
/// failures in a row, or when the failure rate over the last `windowSeconds` reaches
/// `failureRateThreshold` with at least `minimumRequests` calls; it stays open for
/// `openSeconds`, then lets `halfOpenProbes` probes through; all probes succeeding closes it,
/// any failure re-opens it for `openSeconds·openGrowth^k` (k = re-opens so far), at most
/// `maxOpenSeconds`.
public struct BreakerConfig: Sendable, Equatable {
    public var consecutiveFailures: Int?
    public var failureRateThreshold: Double?
    public var windowSeconds: Double
    public var minimumRequests: Int
    public var openSeconds: Double
    public var halfOpenProbes: Int
    public var openGrowth: Double
    public var maxOpenSeconds: Double

    public init(
        consecutiveFailures: Int?, failureRateThreshold: Double?, windowSeconds: Double = 10,
        minimumRequests: Int = 20, openSeconds: Double = 30, halfOpenProbes: Int = 1,
        openGrowth: Double = 2, maxOpenSeconds: Double = 300
    ) {
        self.consecutiveFailures = consecutiveFailures
        self.failureRateThreshold = failureRateThreshold
        self.windowSeconds = windowSeconds
        self.minimumRequests = minimumRequests
        self.openSeconds = openSeconds
        self.halfOpenProbes = halfOpenProbes
        self.openGrowth = openGrowth
        self.maxOpenSeconds = maxOpenSeconds
    }

    /// The breaker the router uses unless told otherwise: 5 failures in a row, or 50% over
    /// 10 s with at least 20 calls.
    public static let standard = BreakerConfig(consecutiveFailures: 5, failureRateThreshold: 0.5)

    /// A breaker written as a name instead of its settings.
    public enum Preset: String, CaseIterable, Sendable {
        /// No breaker at all.
        case none
        /// ``liteLLMCooldown``.
        case litellmCooldown = "litellm_cooldown"
    }

    /// LiteLLM's router cooldown: a deployment that fails `allowed_fails` (3) times within a
    /// minute is cooled down for `cooldown_time` (5 s), then simply used again.
    public static let liteLLMCooldown = BreakerConfig(
        consecutiveFailures: nil, failureRateThreshold: nil, windowSeconds: 60, minimumRequests: 3,
        openSeconds: 5, halfOpenProbes: 1, openGrowth: 1, maxOpenSeconds: 5
    )

    /// The LiteLLM preset counts failures (not a rate) over the window.
    var countsFailuresInWindow: Bool { consecutiveFailures == nil && failureRateThreshold == nil }
}

/// The state of one target's circuit breaker.
public struct CircuitBreaker: Sendable {
    public enum State: String, Codable, Sendable {
        case closed, open, halfOpen = "half_open"
    }

    public let config: BreakerConfig
    public private(set) var state: State = .closed
    public private(set) var openings = 0
    private var consecutive = 0
    private var reopenCount = 0
    private var openUntil: Int64 = 0
    private var probesInFlight = 0
    private var probeSuccesses = 0
    private var window: SlidingWindowCounter
    /// Open because another replica opened it (a shared breaker): this one sends no probe of
    /// its own when the open time ends — the replica that opened it probes and says how it went
    /// — unless no word comes by this time (that replica gone), when it probes itself.
    private var heldForPeerUntil: Int64 = 0

    public init(_ config: BreakerConfig) {
        self.config = config
        self.window = SlidingWindowCounter(windowSeconds: config.windowSeconds)
    }

    /// Whether a request may go to this target now (open → half-open when the open time is
    /// over); a half-open breaker admits at most `halfOpenProbes` probes at once.
    public mutating func allows(at now: RoutingInstant) -> Bool {
        switch state {
        case .closed:
            return true
        case .open:
            guard now.nanoseconds >= openUntil && now.nanoseconds >= heldForPeerUntil else { return false }
            state = .halfOpen
            heldForPeerUntil = 0
            probesInFlight = 0
            probeSuccesses = 0
            return true
        case .halfOpen:
            return probesInFlight < config.halfOpenProbes
        }
    }

    /// Peeks without changing state (for lints and reports).
    public func isOpen(at now: RoutingInstant) -> Bool {
        state == .open && now.nanoseconds < max(openUntil, heldForPeerUntil)
    }

    /// How long the breaker stays open from `now` before it probes (0 when it is not open).
    public func openNanoseconds(at now: RoutingInstant) -> Int64 {
        state == .open ? max(0, openUntil - now.nanoseconds) : 0
    }

    /// Another replica opened its breaker of this target for `nanoseconds` (a shared breaker,
    /// `breaker_scope: shared`): this one opens too, until then — or later, if it was already
    /// open longer — and leaves the probe to that replica, waiting for its word at most the
    /// base open time more before probing itself. Not counted in ``openings`` (this replica
    /// did not see the failures). `keepsProbe`: this replica opened it too, on its own
    /// failures, and outranks the other (lower rank): it keeps its own open time and probe.
    public mutating func openedElsewhere(forNanoseconds nanoseconds: Int64, at now: RoutingInstant, keepsProbe: Bool = false) {
        if keepsProbe && (state == .halfOpen || (state == .open && heldForPeerUntil == 0)) { return }
        let until = now.nanoseconds + max(0, nanoseconds)
        if state == .open { openUntil = max(openUntil, until) } else { openUntil = until }
        state = .open
        heldForPeerUntil = openUntil + Seconds.nanoseconds(config.openSeconds)
        probesInFlight = 0
        probeSuccesses = 0
        consecutive = 0
        window.reset()
    }

    /// Another replica's probes succeeded and closed its breaker of this target: the target
    /// answers again, so this one closes too.
    public mutating func closedElsewhere() {
        guard state != .closed else { return }
        state = .closed
        heldForPeerUntil = 0
        reopenCount = 0
        consecutive = 0
        probesInFlight = 0
        probeSuccesses = 0
        window.reset()
    }

    /// An attempt was sent to this target.
    public mutating func attemptStarted() {
        if state == .halfOpen { probesInFlight += 1 }
    }

    /// The outcome of an attempt to this target. Returns true when this outcome opened the breaker.
    @discardableResult
    public mutating func record(_ outcome: OutcomeClass, at now: RoutingInstant) -> Bool {
        recordChange(outcome, at: now) == .opened
    }

    /// What an outcome did to the breaker.
    enum Change { case unchanged, opened, closed }

    /// The outcome of an attempt to this target, and whether it opened or closed the breaker.
    mutating func recordChange(_ outcome: OutcomeClass, at now: RoutingInstant) -> Change {
        // The caller's own errors and its organisation's rate limits say nothing about the
        // target's health: ignored, like resilience4j's ignored exceptions.
        if outcome != .success && !outcome.countsAsTargetFailure {
            if state == .halfOpen { probesInFlight = max(0, probesInFlight - 1) }
            return .unchanged
        }
        let failed = outcome.countsAsTargetFailure
        switch state {
        case .halfOpen:
            probesInFlight = max(0, probesInFlight - 1)
            if failed {
                reopenCount += 1
                open(at: now)
                return .opened
            }
            probeSuccesses += 1
            if probeSuccesses >= config.halfOpenProbes {
                state = .closed
                reopenCount = 0
                consecutive = 0
                window.reset()
                return .closed
            }
            return .unchanged
        case .open:
            return .unchanged
        case .closed:
            consecutive = failed ? consecutive + 1 : 0
            window.add(first: 1, second: failed ? 1 : 0, at: now)
            if let limit = config.consecutiveFailures, consecutive >= limit {
                open(at: now)
                return .opened
            }
            let (calls, failures) = window.totals(at: now)
            if config.countsFailuresInWindow {
                if failures >= Double(config.minimumRequests) {
                    open(at: now)
                    return .opened
                }
            } else if let threshold = config.failureRateThreshold, calls >= Double(config.minimumRequests), failures / calls >= threshold {
                open(at: now)
                return .opened
            }
            return .unchanged
        }
    }

    private mutating func open(at now: RoutingInstant) {
        var growth = 1.0
        for _ in 0..<min(reopenCount, 60) { growth *= config.openGrowth }
        let seconds = min(config.maxOpenSeconds, config.openSeconds * growth)
        openUntil = now.nanoseconds + Seconds.nanoseconds(seconds)
        heldForPeerUntil = 0
        state = .open
        openings += 1
        consecutive = 0
        window.reset()
    }
}
