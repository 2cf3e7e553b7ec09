import Foundation

/// A decision with its names resolved: the line a gateway or the simulator writes to its
/// decision log (JSON lines, keys sorted, one record per decision).
///
/// Fields: `request_id`, `time_ns`, `route`, `action` (send, hedge, wait, none, complete,
/// fail, reject), `target` (absent when none), `attempt` (1-based; 0 before any), `reasons`
/// (reason codes, see ``ReasonCodes/names``), `rejected` (targets passed over, with their
/// reasons), `delay_ns` (wait), `first_token_timeout_ns`, `attempt_timeout_ns`, `idle_timeout_ns`,
/// `hedge_after_ns`, `cancel_attempt` (each absent when there is none), `outcome` (fail only).
public struct DecisionRecord: Codable, Sendable, Equatable {
    public struct Rejection: Codable, Sendable, Equatable {
        public let target: String
        public let reasons: [String]
    }

    public let requestID: UInt64
    public let timeNanoseconds: Int64
    public let route: String
    public let action: RoutingAction
    public let target: String?
    public let attempt: Int32
    public let reasons: [String]
    public let rejected: [Rejection]
    public let delayNanoseconds: Int64
    public let firstTokenTimeoutNanoseconds: Int64?
    public let attemptTimeoutNanoseconds: Int64?
    public let idleTimeoutNanoseconds: Int64?
    public let hedgeAfterNanoseconds: Int64?
    public let cancelAttempt: Int32?
    public let outcome: OutcomeClass?

    enum CodingKeys: String, CodingKey {
        case requestID = "request_id", timeNanoseconds = "time_ns", route, action, target, attempt, reasons, rejected
        case delayNanoseconds = "delay_ns", firstTokenTimeoutNanoseconds = "first_token_timeout_ns"
        case attemptTimeoutNanoseconds = "attempt_timeout_ns", idleTimeoutNanoseconds = "idle_timeout_ns", hedgeAfterNanoseconds = "hedge_after_ns"
        case cancelAttempt = "cancel_attempt", outcome
    }

    /// `rejected`: the targets the decision passed over (``Router/rejectedAlternatives`` as it
    /// was made).
    public init(_ decision: Decision, rejected: [RejectedAlternative] = [], config: RouterConfig) {
        requestID = decision.requestID
        timeNanoseconds = decision.time.nanoseconds
        route = config.name(of: decision.route)
        action = decision.action
        target = decision.target.map(config.name(of:))
        attempt = decision.attempt
        reasons = decision.reasons.labels
        self.rejected = rejected.map { Rejection(target: $0.target, reasons: $0.reason.labels) }
        delayNanoseconds = decision.delayNanoseconds
        firstTokenTimeoutNanoseconds = decision.firstTokenTimeoutNanoseconds
        attemptTimeoutNanoseconds = decision.attemptTimeoutNanoseconds
        idleTimeoutNanoseconds = decision.idleTimeoutNanoseconds
        hedgeAfterNanoseconds = decision.hedgeAfterNanoseconds
        cancelAttempt = decision.cancelAttempt
        outcome = decision.outcome
    }

    /// The record as one JSON line (sorted keys, no trailing newline): the bytes JSONEncoder
    /// writes with `.sortedKeys` and `.withoutEscapingSlashes`, written by hand because a
    /// gateway writes one per router call (a test holds the two to the same bytes).
    public func jsonLine() -> String {
        var line = #"{"action":"# + JSONText.quoted(action.rawValue) + #","attempt":"# + String(attempt)
        if let attemptTimeoutNanoseconds { line += #","attempt_timeout_ns":"# + String(attemptTimeoutNanoseconds) }
        if let cancelAttempt { line += #","cancel_attempt":"# + String(cancelAttempt) }
        line += #","delay_ns":"# + String(delayNanoseconds)
        if let firstTokenTimeoutNanoseconds { line += #","first_token_timeout_ns":"# + String(firstTokenTimeoutNanoseconds) }
        if let hedgeAfterNanoseconds { line += #","hedge_after_ns":"# + String(hedgeAfterNanoseconds) }
        if let idleTimeoutNanoseconds { line += #","idle_timeout_ns":"# + String(idleTimeoutNanoseconds) }
        if let outcome { line += #","outcome":"# + JSONText.quoted(outcome.rawValue) }
        line += #","reasons":["# + reasons.map(JSONText.quoted).joined(separator: ",") + #"],"rejected":["#
        line += rejected.map {
            #"{"reasons":["# + $0.reasons.map(JSONText.quoted).joined(separator: ",") + #"],"target":"# + JSONText.quoted($0.target) + "}"
        }
        .joined(separator: ",")
        line += #"],"request_id":"# + String(requestID) + #","route":"# + JSONText.quoted(route)
        if let target { line += #","target":"# + JSONText.quoted(target) }
        return line + #","time_ns":"# + String(timeNanoseconds) + "}"
    }
}

extension Router {
    /// The decision this router has just returned, as the decision log records it: names
    /// resolved, and the targets it passed over (``rejectedAlternatives``, which the router's
    /// next call replaces).
    public func record(_ decision: Decision) -> DecisionRecord {
        DecisionRecord(decision, rejected: rejectedAlternatives, config: config)
    }
}
