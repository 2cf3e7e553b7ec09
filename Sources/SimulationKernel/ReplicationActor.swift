/// An actor that belongs to one replication: it runs on that replication's
/// ``SimulationExecutor`` (its `unownedExecutor` must be `simulationExecutor`'s).
///
/// Because every actor of a replication shares one serial executor, code running on that
/// executor may enter any of them synchronously with ``enter(_:_:)`` — the simulator's
/// cheap equivalent of `assumeIsolated`.
public protocol ReplicationActor: Actor {
    /// The executor of the replication this actor belongs to.
    nonisolated var simulationExecutor: SimulationExecutor { get }
}

extension ReplicationActor {
    /// Runs `operation` isolated to this actor, synchronously, from code already running on
    /// the replication's executor; traps on any other thread.
    ///
    /// Pass the values the operation needs as `argument` instead of capturing them: a closure
    /// that captures nothing has no context, so the call allocates nothing (a capturing
    /// closure works, but allocates its context on every call). The check is a
    /// thread comparison, sound because the replication's serial executor runs one job at a
    /// time on its own thread; it replaces `assumeIsolated`, whose generic thunks allocate.
    @inlinable
    public nonisolated func enter<Argument, Result>(
        _ argument: Argument,
        _ operation: @escaping (isolated Self, Argument) -> Result
    ) -> Result {
        simulationExecutor.preconditionOnOwnerThread()
        return unsafeBitCast(operation, to: ((Self, Argument) -> Result).self)(self, argument)
    }
}
