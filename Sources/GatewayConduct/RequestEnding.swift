import RoutingCore

/// How a request ended for its client, as both gateways tell it: the server turns it into a
/// status and headers (or a stream's last event), the simulator into what the team counts.
/// Plain values only: the simulator makes one per request, inside every event's effects.
public struct RequestEnding: Sendable, Equatable {
    /// What the decision that ended the request did: complete, fail or reject.
    public let action: RoutingAction
    /// For a failure after attempts: the last attempt's outcome.
    public let outcome: OutcomeClass?
    /// That decision's reasons.
    public let reasons: ReasonCodes
    /// The team the request was made for.
    public let team: TeamID?
    /// The attempt whose answer the client got, and where it went (success only).
    public let winner: Int32?
    public let winnerTarget: TargetID?
    /// Attempts sent, withheld ones included (the router's count).
    public let attempts: Int32
    /// Whether a hedge was sent.
    public let hedged: Bool
    /// Whether the client already had bytes when the request failed: a stream then ends in an
    /// error event, never a status.
    public let afterFirstByte: Bool
    /// Whether the client had gone away.
    public let clientGone: Bool
    /// When the first byte reached the client (0: it did not).
    public let firstByteAt: Int64

    /// `decision`: the complete, fail or reject decision that ended the request.
    init(
        decision: Decision, team: TeamID?, winner: Int32?, winnerTarget: TargetID?, attempts: Int32, hedged: Bool, firstByteAt: Int64,
        afterFirstByte: Bool, clientGone: Bool
    ) {
        action = decision.action
        outcome = decision.outcome
        reasons = decision.reasons
        self.team = team
        self.winner = winner
        self.winnerTarget = winnerTarget
        self.attempts = attempts
        self.hedged = hedged
        self.firstByteAt = firstByteAt
        self.afterFirstByte = afterFirstByte
        self.clientGone = clientGone
    }

    public var succeeded: Bool { action == .complete }

    /// Why the request failed, as the client is told (nil on success).
    public var failure: RequestFailure? { succeeded ? nil : RequestFailure(outcome: outcome, reasons: reasons) }

    /// Whether an official SDK may retry the failure on its own: what both gateways tell the
    /// client (`x-should-retry`, which the OpenAI and Anthropic SDKs honour) and what the
    /// simulated clients do. A failure on an outcome the SDKs retry by default (overload, 5xx,
    /// a timeout, a connection error) may be; a budget refusal, a client error or a stream cut
    /// after its first byte may not; a refusal before any attempt may only when no target was
    /// available (the gateway's own 503).
    public var sdkMayRetry: Bool {
        if succeeded { return false }
        if let outcome, action == .fail, !reasons.contains(.budgetExhausted) {
            return RetryPolicy.defaultRetryable.contains(outcome)
        }
        return reasons.contains(.noTargetAvailable)
    }

    /// The failure's label in metrics and headers ("" on success).
    public var failureLabel: String { succeeded ? "" : Decision.failureLabel(action: action, outcome: outcome, reasons: reasons) }
}

/// Why a request failed, in the client's terms, with the HTTP status both gateways mean by it.
public enum RequestFailure: Sendable, Equatable {
    /// The team's budget for the period is spent (429).
    case budgetExhausted
    /// The team's or the route's rate limit, or the gateway's own throttle (429).
    case rateLimited
    /// Shed by priority or a concurrency limit (503).
    case shed
    /// The upstream refused the request itself (a 4xx, a spend limit): its answer is passed back.
    case refusedByUpstream
    /// No attempt answered within its limits, or the request's deadline passed (504).
    case timedOut
    /// The answer broke after its first byte reached the client (502).
    case streamInterrupted
    /// Every attempt failed (502).
    case upstreamsFailed
    /// No target could be tried (503).
    case noUpstreamAvailable

    init(outcome: OutcomeClass?, reasons: ReasonCodes) {
        if reasons.contains(.budgetExhausted) {
            self = .budgetExhausted
        } else if reasons.contains(.rateLimited) || reasons.contains(.throttledLocally) {
            self = .rateLimited
        } else if reasons.contains(.shed) || reasons.contains(.concurrencyLimit) {
            self = .shed
        } else if outcome == .clientError || outcome == .spendLimit {
            self = .refusedByUpstream
        } else if outcome == .timeout || reasons.contains(.deadlineExceeded) {
            self = .timedOut
        } else if outcome == .failedAfterFirstByte {
            self = .streamInterrupted
        } else if outcome != nil {
            self = .upstreamsFailed
        } else {
            self = .noUpstreamAvailable
        }
    }

    /// The status the client gets (a refusal by the upstream: 400, unless its own is passed back).
    public var status: Int {
        switch self {
        case .budgetExhausted, .rateLimited: 429
        case .shed, .noUpstreamAvailable: 503
        case .refusedByUpstream: 400
        case .timedOut: 504
        case .streamInterrupted, .upstreamsFailed: 502
        }
    }
}
