/// A reference from one actor of a replication to another, held without reference counting.
///
/// Entering a peer through a strong or `unowned(unsafe)` reference retains and releases it
/// around every call — on the simulator's hot path, several times per request. A peer
/// reference enters the actor through a guaranteed reference instead. It is sound for
/// actors registered with the replication's ``EventCalendar``, which keeps every handler
/// alive until the replication ends; never point one at an actor that could be freed
/// while the reference is in use.
public struct PeerReference<Target: ReplicationActor>: @unchecked Sendable {
    @usableFromInline
    internal let unmanaged: Unmanaged<Target>

    /// A reference to `target`, which something else keeps alive (see the type's note).
    @inlinable
    public init(_ target: Target) {
        unmanaged = Unmanaged.passUnretained(target)
    }

    /// ``ReplicationActor/enter(_:_:)`` without a retain and release of the peer.
    @inlinable
    public func enter<Argument, Result>(
        _ argument: Argument,
        _ operation: @escaping (isolated Target, Argument) -> Result
    ) -> Result {
        unmanaged._withUnsafeGuaranteedRef { $0.enter(argument, operation) }
    }
}
