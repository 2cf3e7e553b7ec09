/// A change of one target's breaker that the replicas of a gateway tell each other when
/// breakers are shared (`gateway.breaker_scope: shared`): the replica whose breaker changed
/// takes it from its router (``Router/takeBreakerNotices()``) and sends it to the others, and
/// each of them hands it to its own router (``Router/breakerChangedElsewhere(_:)``) — a call
/// in that replica's trace, so a replay reproduces what it did with it.
public enum BreakerNotice: Sendable, Equatable {
    /// The breaker opened, for this long before a probe, at the replica of rank `by`
    /// (``Router/replicaRank``): when several replicas open it at once, the one of lowest rank
    /// keeps it and probes, the others wait for its word.
    case opened(TargetID, forNanoseconds: Int64, by: UInt64)
    /// The breaker's probes succeeded: it closed.
    case closed(TargetID)

    public var target: TargetID {
        switch self {
        case .opened(let target, _, _), .closed(let target): target
        }
    }
}
