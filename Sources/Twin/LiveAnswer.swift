import GatewaySim
import RoutingCore

/// What a live upstream does with one attempt.
public enum LiveAnswer: Sendable {
    /// Turned away without service (the organisation's limits, a full queue): answered with
    /// `outcome` after `afterSeconds` of model time.
    case refused(OutcomeClass, afterSeconds: Double, retryAfterSeconds: Double?)
    /// The prompt is longer than the model's context window of `windowTokens`: a 400
    /// `context_length_exceeded` after `afterSeconds` of model time.
    case refusedForContextLength(windowTokens: Int, afterSeconds: Double)
    /// Served from model time `startedAt` on (after any wait in the queue), as `plan` says.
    case served(ServicePlan, startedAt: Int64)
}
