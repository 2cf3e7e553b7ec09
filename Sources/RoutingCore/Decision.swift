/// What the gateway must do next for one request.
public enum RoutingAction: String, Codable, Sendable {
    /// Send attempt `attempt` to `target` now.
    case send
    /// Send a hedge (a concurrent attempt) to `target` now.
    case hedge
    /// Wait `delayNanoseconds`, then call ``Router/resume(_:)``.
    case wait
    /// Nothing to do now (another attempt is still in flight).
    case none
    /// The request succeeded; cancel `cancelAttempt` if set.
    case complete
    /// The request failed after attempts.
    case fail
    /// The request was refused before any attempt (admission, budget, shedding).
    case reject
}

/// A target the router considered and passed over, and why.
public struct RejectedAlternative: Codable, Sendable, Equatable {
    public let target: String
    public let reason: ReasonCodes

    public init(target: String, reason: ReasonCodes) {
        self.target = target
        self.reason = reason
    }
}

/// One routing decision: a value that can be logged as a JSON line and compared between a
/// production gateway and the simulator.
public struct Decision: Codable, Sendable, Equatable {
    public var action: RoutingAction
    public var requestID: UInt64
    public var time: RoutingInstant
    public var route: Int32
    /// The target index (in `RouterConfig.targets`), -1 when none.
    public var target: Int32
    /// 1 for the first attempt; hedges and retries count up.
    public var attempt: Int32
    public var reasons: ReasonCodes
    /// Wait before resuming (``RoutingAction/wait``), in nanoseconds.
    public var delayNanoseconds: Int64
    /// Per-try limits for a send: until the first token, and in total (0: none).
    public var firstTokenTimeoutNanoseconds: Int64
    public var attemptTimeoutNanoseconds: Int64
    /// For a first send on a hedging route: when to call ``Router/hedgeDue(_:)`` (0: never).
    public var hedgeAfterNanoseconds: Int64
    /// For a completion: the attempt to cancel (0: none).
    public var cancelAttempt: Int32
    /// For fail: the last attempt's outcome.
    public var outcome: OutcomeClass?
    public var rejected: [RejectedAlternative]

    @inlinable
    init(action: RoutingAction, requestID: UInt64, time: RoutingInstant, route: Int32, target: Int32 = -1, attempt: Int32 = 0, reasons: ReasonCodes) {
        self.action = action
        self.requestID = requestID
        self.time = time
        self.route = route
        self.target = target
        self.attempt = attempt
        self.reasons = reasons
        self.delayNanoseconds = 0
        self.firstTokenTimeoutNanoseconds = 0
        self.attemptTimeoutNanoseconds = 0
        self.hedgeAfterNanoseconds = 0
        self.cancelAttempt = 0
        self.outcome = nil
        self.rejected = []
    }
}

/// One request as the router sees it on arrival.
public struct RoutingRequest: Sendable, Equatable {
    public var id: UInt64
    public var route: Int32
    public var team: Int32
    /// The API key's index in the config's key budgets, -1 when it has none.
    public var key: Int32
    public var inputTokens: Int
    /// The most output tokens the request may produce (reserved against hard budgets).
    public var maxOutputTokens: Int

    public init(id: UInt64, route: Int32, team: Int32, key: Int32 = -1, inputTokens: Int, maxOutputTokens: Int) {
        self.id = id
        self.route = route
        self.team = team
        self.key = key
        self.inputTokens = inputTokens
        self.maxOutputTokens = maxOutputTokens
    }
}

/// How one attempt ended, reported by the gateway.
public struct AttemptOutcome: Sendable, Equatable {
    public var outcome: OutcomeClass
    /// The time the attempt took as the gateway measured it: from sending it to its answer
    /// (or to the gateway giving up on it), queueing at the upstream included.
    public var latencyNanoseconds: Int64
    /// Tokens billed for the attempt (a failure after the first byte still bills).
    public var inputTokens: Int
    public var outputTokens: Int
    /// GPU-seconds used, for local targets.
    public var gpuSeconds: Double
    /// The provider's Retry-After, if it sent one.
    public var retryAfterSeconds: Double?

    public init(outcome: OutcomeClass, latencyNanoseconds: Int64, inputTokens: Int = 0, outputTokens: Int = 0,
                gpuSeconds: Double = 0, retryAfterSeconds: Double? = nil) {
        self.outcome = outcome
        self.latencyNanoseconds = latencyNanoseconds
        self.inputTokens = inputTokens
        self.outputTokens = outputTokens
        self.gpuSeconds = gpuSeconds
        self.retryAfterSeconds = retryAfterSeconds
    }
}
