import RoutingCore

/// The router as the conduct calls it: RoutingCore's ``Router`` behind whatever each gateway
/// wraps it in (a lock and a trace in the server, the event calendar in the simulator). Every
/// call is made at the driver's current time; an implementation logs the decision it returns.
public protocol ConductRouter: ~Copyable {
    /// A request arrives (``Router/begin(_:)-(RequestState)``): `state`, made by
    /// ``RequestState/init(unbegun:)``, begins in place, and the router's first decision is returned.
    mutating func begin(_ state: inout RequestState) -> Decision
    /// An attempt ended as the gateway observed it (``Router/attemptFinished(measuredAt:_:attempt:_:)``
    /// applies what a gateway measures). `firstTokenNanoseconds`: from the send to the attempt's
    /// first output, for the trace only.
    mutating func attemptFinished(_ state: inout RequestState, attempt: Int32, _ outcome: AttemptOutcome, firstTokenNanoseconds: Int64?) -> Decision
    /// A send the conduct did not carry out (the client already has another attempt's bytes,
    /// or is gone): the router learns the attempt ended `cancelled` at once.
    mutating func attemptWithheld(_ state: inout RequestState, attempt: Int32) -> Decision
    mutating func resume(_ state: inout RequestState) -> Decision
    mutating func hedgeDue(_ state: inout RequestState) -> Decision
    /// The first byte of `attempt` reached the client (no router call; a trace records it).
    mutating func firstByteReachedClient(requestID: UInt64, attempt: Int32)
    /// The client went away (no router call; a trace records it).
    mutating func clientWentAway(requestID: UInt64)
}

extension Router {
    /// An attempt ended, as a gateway observes it: its latency is the gateway's own, from the
    /// send to `now` (queueing at the upstream included, not the upstream's service time), and
    /// a local pool's attempt is charged its share of the replica's GPUs for that time
    /// (success, cancelled or cut after its first byte: the replica worked all along). Both
    /// gateways call the router through this; returns the outcome the router was given.
    public mutating func attemptFinished(
        measuredAt now: Int64, _ state: inout RequestState, attempt: Int32,
        _ outcome: AttemptOutcome
    ) -> (AttemptOutcome, Decision) {
        var measured = outcome
        if let started = state.attemptStartedAt(attempt) { measured.latencyNanoseconds = now - started }
        if let target = state.attemptTarget(attempt), let capacity = config.targets[target.index].localCapacity {
            switch measured.outcome {
            case .success, .cancelled, .failedAfterFirstByte:
                measured.gpuSeconds = capacity.gpuSeconds(forSeconds: Double(measured.latencyNanoseconds) / 1e9)
            default:
                measured.gpuSeconds = 0
            }
        }
        return (measured, attemptFinished(&state, attempt: attempt, measured))
    }
}
