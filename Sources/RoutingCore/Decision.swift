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
///
/// Its fields are declared small ones first, so that none pads another: a decision is copied
/// on every event of a simulation. It is plain data (no array, no reference), so a copy is a
/// copy of its bytes; the targets a decision passed over are the router's
/// (``Router/rejectedAlternatives``), read as it is made.
public struct Decision: Sendable, Equatable {
    public var action: RoutingAction
    /// For fail: the last attempt's outcome.
    public var outcome: OutcomeClass?
    /// 1 for the first attempt; hedges and retries count up (0 before any attempt).
    public var attempt: Int32
    public var requestID: UInt64
    public var time: RoutingInstant
    public var reasons: ReasonCodes
    /// Wait before resuming (``RoutingAction/wait``), in nanoseconds.
    public var delayNanoseconds: Int64

    // Stored as plain numbers (the hot path); read through the optionals below.
    @usableFromInline var routeIndex: Int32
    @usableFromInline var targetIndex: Int32 = -1
    @usableFromInline var cancelAttemptNumber: Int32 = 0
    @usableFromInline var firstTokenTimeout: Int64 = 0
    @usableFromInline var attemptTimeout: Int64 = 0
    @usableFromInline var idleTimeout: Int64 = 0
    @usableFromInline var hedgeAfter: Int64 = 0

    /// The route in force.
    @inlinable public var route: RouteID { RouteID(raw: routeIndex) }
    /// Where to send (send, hedge) or where the deciding attempt went; nil when none.
    @inlinable public var target: TargetID? { targetIndex >= 0 ? TargetID(raw: targetIndex) : nil }
    /// A send's limits: until the first token, and in total; nil when the route sets none.
    @inlinable public var firstTokenTimeoutNanoseconds: Int64? { firstTokenTimeout > 0 ? firstTokenTimeout : nil }
    @inlinable public var attemptTimeoutNanoseconds: Int64? { attemptTimeout > 0 ? attemptTimeout : nil }
    /// A send's longest gap between two frames of a stream once its first token came.
    @inlinable public var idleTimeoutNanoseconds: Int64? { idleTimeout > 0 ? idleTimeout : nil }
    /// For a first send on a hedging route: when to call ``Router/hedgeDue(_:)``.
    @inlinable public var hedgeAfterNanoseconds: Int64? { hedgeAfter > 0 ? hedgeAfter : nil }
    /// For a completion: the losing attempt to cancel.
    @inlinable public var cancelAttempt: Int32? { cancelAttemptNumber > 0 ? cancelAttemptNumber : nil }

    @inlinable
    init(
        action: RoutingAction, requestID: UInt64, time: RoutingInstant, route: Int32, target: TargetID? = nil, attempt: Int32 = 0,
        reasons: ReasonCodes
    ) {
        self.action = action
        self.requestID = requestID
        self.time = time
        self.routeIndex = route
        self.targetIndex = target?.raw ?? -1
        self.attempt = attempt
        self.reasons = reasons
        self.delayNanoseconds = 0
        self.outcome = nil
    }
}

/// One request as the router sees it on arrival. Make one with
/// ``Router/request(id:route:team:key:inputTokens:maxOutputTokens:)`` from names (an unknown
/// name is an error), or from identifiers the config gave.
public struct RoutingRequest: Sendable, Equatable {
    public var id: UInt64
    public var inputTokens: Int
    /// The most output tokens the request may produce (reserved against hard budgets).
    public var maxOutputTokens: Int
    @usableFromInline var routeIndex: Int32
    @usableFromInline var teamIndex: Int32
    @usableFromInline var keyIndex: Int32
    /// Whether the client asked for a stream (`stream: true`), else a whole answer: what the
    /// client receives first decides when the request's conduct commits (`RequestConduct`).
    public var streamed: Bool
    /// The API the client speaks: a route with `cross_protocol: false` sends it only to
    /// targets that speak it too.
    public var apiProtocol: APIProtocol

    public var route: RouteID { RouteID(raw: routeIndex) }
    /// Who is charged; nil only when the config has no teams.
    public var team: TeamID? { teamIndex >= 0 ? TeamID(raw: teamIndex) : nil }
    /// The API key, when it has a budget of its own.
    public var key: KeyID? { keyIndex >= 0 ? KeyID(raw: keyIndex) : nil }

    public init(
        id: UInt64, route: RouteID, team: TeamID?, key: KeyID? = nil, inputTokens: Int, maxOutputTokens: Int, streamed: Bool = true,
        apiProtocol: APIProtocol = .openai
    ) {
        self.id = id
        self.streamed = streamed
        self.apiProtocol = apiProtocol
        self.routeIndex = route.raw
        self.teamIndex = team?.raw ?? -1
        self.keyIndex = key?.raw ?? -1
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
    /// A ``OutcomeClass/clientError`` that refused the request for its context length (the
    /// route's context-window fallbacks may take it).
    public var contextWindowExceeded: Bool

    public init(
        outcome: OutcomeClass, latencyNanoseconds: Int64, inputTokens: Int = 0, outputTokens: Int = 0,
        gpuSeconds: Double = 0, retryAfterSeconds: Double? = nil, contextWindowExceeded: Bool = false
    ) {
        self.contextWindowExceeded = contextWindowExceeded
        self.outcome = outcome
        self.latencyNanoseconds = latencyNanoseconds
        self.inputTokens = inputTokens
        self.outputTokens = outputTokens
        self.gpuSeconds = gpuSeconds
        self.retryAfterSeconds = retryAfterSeconds
    }
}

extension Decision {
    /// How the request this decision fails or refuses is counted wherever failures are told
    /// apart — the simulator's reports (`failed_LABEL`), the gateway's `x-brownout-failure`
    /// header, the twin's comparison: the outcome class of the attempt that failed it, else its
    /// last refusal reason (a budget refusal by its reason, whatever the last attempt did).
    public var failureLabel: String { Self.failureLabel(action: action, outcome: outcome, reasons: reasons) }

    /// The failure label of a decision that did `action`, with `outcome` and `reasons`.
    public static func failureLabel(action: RoutingAction, outcome: OutcomeClass?, reasons: ReasonCodes) -> String {
        if let outcome, action == .fail, !reasons.contains(.budgetExhausted) { return outcome.rawValue }
        return reasons.labels.last ?? "rejected"
    }
}

extension DecisionRecord {
    /// ``Decision/failureLabel`` of the decision recorded (its reasons by label).
    public var failureLabel: String {
        if let outcome, action == .fail, !reasons.contains(ReasonCodes.budgetExhausted.labels[0]) { return outcome.rawValue }
        return reasons.last ?? "rejected"
    }
}
