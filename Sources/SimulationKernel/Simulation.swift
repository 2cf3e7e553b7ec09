/// One replication's world: its executor, event calendar and clock, and the loop that
/// delivers events to the components (actors) registered with the calendar.
///
/// Every actor of the replication, `Simulation` included, runs on ``executor``; events are
/// delivered by synchronous entry into the receiving actor, so the hot path costs no task,
/// continuation or closure allocation. Process-style code (``spawn(_:)`` and
/// ``SimulationClock``) interleaves deterministically: a task woken at time t runs before
/// the next event is delivered.
public actor Simulation {
    public nonisolated let executor: SimulationExecutor
    public nonisolated let calendar: EventCalendar
    public nonisolated let clock: SimulationClock

    /// Number of events delivered so far.
    public private(set) var deliveredEvents: UInt64 = 0

    public nonisolated var unownedExecutor: UnownedSerialExecutor {
        executor.asUnownedSerialExecutor()
    }

    deinit {
        // The replication is over: let its actors (and their tables and histograms) go.
        calendar.releaseHandlers()
    }

    /// Ends the replication for good: the calendar lets go of its actors, which hold the
    /// calendar and often this simulation too (a cycle that would otherwise keep a whole
    /// replication in memory). Call it once the results have been read; no event is delivered
    /// after it.
    public func finish() {
        calendar.releaseHandlers()
    }

    public init(executor: SimulationExecutor) {
        self.executor = executor
        self.calendar = EventCalendar(executor: executor)
        self.clock = SimulationClock(calendar: calendar)
    }

    /// Starts process-style code on the replication's executor.
    public nonisolated func spawn(_ body: sending @escaping () async -> Void) {
        Task(executorPreference: executor) {
            await body()
        }
    }

    /// Delivers events in (time, insertion) order until none is left or the next one lies
    /// after `end`; the clock then stands at the last delivered event.
    public func run(until end: SimulationInstant? = nil) async {
        let limit = end?.nanoseconds ?? Int64.max
        let calendar = self.calendar
        var delivered: UInt64 = 0
        while true {
            if executor.hasPendingJobs {
                await Task.yield()
                continue
            }
            guard let event = calendar.popDue(notAfter: limit) else { break }
            delivered &+= 1
            if event.target == EventCalendar.wakeTarget {
                calendar.wake(slot: Int(event.payload))
            } else {
                calendar.handlers.withUnsafeBufferPointer { entries in
                    let entry = entries[Int(event.target.rawValue)]
                    entry.handler._withUnsafeGuaranteedRef { entry.deliver($0, event) }
                }
            }
        }
        deliveredEvents &+= delivered
    }
}
