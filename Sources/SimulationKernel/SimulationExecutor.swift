#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import DequeModule
import Synchronization

/// The one executor of a replication: every actor of the replication returns it from
/// `unownedExecutor`, and every task of the replication prefers it.
///
/// It runs jobs in FIFO order on the thread that called ``run(_:)``, so a replication is
/// single-threaded and its order of execution is a function of its inputs alone.
///
/// - warning: A `SimulationExecutor` **is not thread-safe**. A job enqueued from any other
///   thread — typically work that leaked to the global pool through `Task.detached`, a
///   `Task {}` in nonisolated code or `Task.sleep` on a wall clock, and then calls back into
///   the replication — is a precondition failure, because it would make the run depend on
///   thread timing.
public final class SimulationExecutor: SerialExecutor, TaskExecutor, @unchecked Sendable {
    // Touched only on the owner thread (enqueue checks it), at least once per event: the
    // unchecked exclusivity saves a dynamic access check (a thread-local lookup) each time.
    @exclusivity(unchecked) private var jobs = Deque<UnownedJob>()
    /// The thread running ``run(_:)`` (0: none). Atomic because the check that catches a leak
    /// reads it from the foreign thread that leaked; relaxed ordering suffices, since a thread
    /// compares it only with its own identity, which no other thread can store.
    private let owner = Atomic<UInt>(0)

    public init() {}

    public func enqueue(_ job: consuming ExecutorJob) {
        precondition(
            isOnOwnerThread,
            "SimulationExecutor: job enqueued from a foreign thread (work leaked out of the replication: use Task(executorPreference:) and the simulation clock)"
        )
        jobs.append(UnownedJob(job))
    }

    public func asUnownedSerialExecutor() -> UnownedSerialExecutor {
        UnownedSerialExecutor(ordinary: self)
    }

    public func checkIsolated() {
        precondition(isOnOwnerThread, "SimulationExecutor: not on the replication's thread")
    }

    /// True while ``run(_:)`` is executing on the calling thread.
    public var isOnOwnerThread: Bool {
        let current = owner.load(ordering: .relaxed)
        return current != 0 && current == SimulationExecutor.currentThread
    }

    /// This thread's identity as a number (pthread_t is an integer on Linux, a pointer on Darwin).
    @inline(__always)
    private static var currentThread: UInt {
        #if canImport(Darwin)
        UInt(bitPattern: pthread_self())
        #else
        UInt(pthread_self())
        #endif
    }

    /// Whether jobs are waiting to run (process-style code woken by the simulation clock).
    @usableFromInline
    internal var hasPendingJobs: Bool { !jobs.isEmpty }

    /// Traps unless called on the replication's thread: the guard on every schedule.
    @usableFromInline
    internal func preconditionOnOwnerThread() {
        precondition(isOnOwnerThread, "SimulationKernel: the replication was touched from a foreign thread")
    }

    /// Runs `operation` as the root task of a replication on the calling thread, and every
    /// job it leads to, until no job is left; returns the operation's result.
    ///
    /// A root task that has not finished when no job is left waited on something that can
    /// never happen in this replication (a continuation never resumed, or work that left
    /// the executor): that is a precondition failure, not a hang.
    public func run<Result: Sendable>(_ operation: @escaping @Sendable () async -> Result) -> Result {
        precondition(owner.load(ordering: .relaxed) == 0, "SimulationExecutor.run is not reentrant")
        owner.store(SimulationExecutor.currentThread, ordering: .relaxed)
        defer { owner.store(0, ordering: .relaxed) }
        let outcome = ResultBox<Result>()
        Task(executorPreference: self) {
            outcome.value = await operation()
        }
        while let job = jobs.popFirst() {
            job.runSynchronously(isolatedTo: asUnownedSerialExecutor(), taskExecutor: asUnownedTaskExecutor())
        }
        guard let value = outcome.value else {
            preconditionFailure("SimulationExecutor: the replication stalled (its root task is suspended and no job is left)")
        }
        return value
    }
}

/// Carries the root task's result out of the executor; touched only on the owner thread.
private final class ResultBox<Value>: @unchecked Sendable {
    var value: Value?
}
