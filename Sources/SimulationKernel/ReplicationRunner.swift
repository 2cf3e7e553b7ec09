import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Runs independent replications on a fixed number of threads, each replication entirely
/// on one thread with its own ``SimulationExecutor``.
///
/// Results come back indexed by replication, so the output is the same whatever `jobs` is
/// and whichever thread ran which replication.
public enum ReplicationRunner {
    /// Runs `replication(i)` for i in 0..<count on `jobs` threads and returns the results
    /// in replication order. `progress` is called (under a lock) after each one finishes.
    public static func run<Result: Sendable>(
        count: Int,
        jobs: Int,
        progress: (@Sendable (_ finished: Int, _ total: Int) -> Void)? = nil,
        _ replication: @escaping @Sendable (Int) -> Result
    ) -> [Result] {
        precondition(count >= 0 && jobs >= 1, "ReplicationRunner: count must be ≥ 0 and jobs ≥ 1")
        let state = RunnerState<Result>(count: count, progress: progress)
        let workers = min(jobs, max(count, 1))
        if workers == 1 {
            state.work(replication)
        } else {
            var threads: [pthread_t] = []
            for _ in 0..<workers {
                let context = Unmanaged.passRetained(WorkerContext { state.work(replication) })
                var thread = pthread_t()
                let status = pthread_create(
                    &thread, nil,
                    { raw in
                        let context = Unmanaged<WorkerContext>.fromOpaque(raw!).takeRetainedValue()
                        context.body()
                        return nil
                    }, context.toOpaque())
                precondition(status == 0, "ReplicationRunner: could not start a worker thread (errno \(status))")
                threads.append(thread)
            }
            for thread in threads { pthread_join(thread, nil) }
        }
        return state.results()
    }
}

private final class WorkerContext: Sendable {
    let body: @Sendable () -> Void
    init(_ body: @escaping @Sendable () -> Void) { self.body = body }
}

private final class RunnerState<Result: Sendable>: Sendable {
    private let next = Atomic<Int>(0)
    private let slots: Mutex<[Result?]>
    private let finished = Mutex<Int>(0)
    private let count: Int
    private let progress: (@Sendable (Int, Int) -> Void)?

    init(count: Int, progress: (@Sendable (Int, Int) -> Void)?) {
        self.count = count
        self.progress = progress
        self.slots = Mutex(Array(repeating: nil, count: count))
    }

    func work(_ replication: @Sendable (Int) -> Result) {
        while true {
            let index = next.wrappingAdd(1, ordering: .relaxed).oldValue
            guard index < count else { return }
            let result = replication(index)
            slots.withLock { $0[index] = result }
            finished.withLock { done in
                done += 1
                progress?(done, count)
            }
        }
    }

    func results() -> [Result] {
        slots.withLock { $0.map { $0! } }
    }
}
