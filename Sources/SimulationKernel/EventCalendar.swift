/// The pending events of one replication and its current time.
///
/// Ordering guarantee: events are delivered in order of time; events at the same time are
/// delivered in the order they were scheduled (FIFO). Nothing else — no thread, hash or
/// address — influences the order.
///
/// - warning: An `EventCalendar` **is not thread-safe**. It belongs to one replication and
///   may only be touched from that replication's executor thread; every schedule checks
///   this and traps otherwise.
public final class EventCalendar: @unchecked Sendable {
    /// Current simulated time in nanoseconds.
    @inlinable
    public var now: Int64 { currentTime }

    // Read through the inlinable `now`: a client module reading a stored property of this
    // class directly emits its own dynamic exclusivity check (a thread-local lookup),
    // whatever the attribute says; inlined code keeps the unchecked access.
    @usableFromInline @exclusivity(unchecked)
    internal var currentTime: Int64 = 0
    @usableFromInline
    internal var stopTime = Int64.max

    // Touched on every event from one thread only (checked on schedule); the unchecked
    // exclusivity saves a dynamic access check per touch on the hot path.
    @usableFromInline @exclusivity(unchecked)
    internal var queue = EventQueue()
    @usableFromInline @exclusivity(unchecked)
    internal var nextSequence: UInt64 = 0
    @usableFromInline
    internal let executor: SimulationExecutor

    @usableFromInline @exclusivity(unchecked)
    internal var handlers: ContiguousArray<HandlerEntry> = []
    /// Keeps the handlers alive (``HandlerEntry`` does not) for as long as the calendar.
    @usableFromInline
    internal var registeredHandlers: [AnyObject] = []
    private var sleepers: [UnsafeContinuation<Void, Never>?] = []
    private var freeSleeperSlots: [Int] = []

    /// The handler id reserved for waking process-style code.
    @usableFromInline
    internal static let wakeTarget = HandlerID(rawValue: -1)

    public init(executor: SimulationExecutor) {
        self.executor = executor
    }

    /// Number of events waiting to be delivered.
    public var pendingEventCount: Int { queue.count }

    /// Drops the calendar's references to its handlers when the replication is over. The
    /// handlers hold the calendar (to schedule), and the calendar holds them (so that delivery
    /// and peers need no retain): a cycle that only this breaks. Called when the replication's
    /// ``Simulation`` ends or goes away, when no event can be delivered any more.
    internal func releaseHandlers() {
        handlers.removeAll()
        registeredHandlers.removeAll()
    }

    /// Registers a component: `make` receives the id that events for it must carry.
    /// The component must run on this calendar's executor.
    @inlinable
    public func register<Handler: EventHandler>(_ make: (HandlerID) -> Handler) -> Handler {
        executor.preconditionOnOwnerThread()
        let id = HandlerID(rawValue: Int32(handlers.count))
        let handler = make(id)
        precondition(
            handler.simulationExecutor === executor,
            "EventCalendar.register: the handler belongs to another replication's executor"
        )
        registeredHandlers.append(handler)
        handlers.append(HandlerEntry(handler))
        return handler
    }

    /// Schedules an event at an absolute time, which must not lie in the past.
    @inlinable
    public func schedule(at time: Int64, to target: HandlerID, kind: Int32, payload: Int64 = 0) {
        executor.preconditionOnOwnerThread()
        precondition(time >= now, "EventCalendar: event scheduled in the past")
        queue.insert(Event(time: time, sequence: nextSequence, target: target, kind: kind, payload: payload))
        nextSequence &+= 1
    }

    /// Schedules an event `delay` nanoseconds from now.
    @inlinable
    public func schedule(after delay: Int64, to target: HandlerID, kind: Int32, payload: Int64 = 0) {
        schedule(at: SimulationInstant.adding(now, delay), to: target, kind: kind, payload: payload)
    }

    internal func scheduleWake(at time: Int64, _ continuation: UnsafeContinuation<Void, Never>) {
        let slot: Int
        if let free = freeSleeperSlots.popLast() {
            slot = free
            sleepers[slot] = continuation
        } else {
            slot = sleepers.count
            sleepers.append(continuation)
        }
        schedule(at: max(time, now), to: EventCalendar.wakeTarget, kind: 0, payload: Int64(slot))
    }

    internal func wake(slot: Int) {
        let continuation = sleepers[slot]
        sleepers[slot] = nil
        freeSleeperSlots.append(slot)
        continuation?.resume()
    }

    /// Ends the run at `time`: no event later than it is delivered (what is still queued then
    /// is work nobody waits for any more, such as health changes after the last request).
    public func stop(after time: Int64) {
        executor.preconditionOnOwnerThread()
        stopTime = min(stopTime, time)
    }

    @usableFromInline
    internal func popDue(notAfter end: Int64) -> Event? {
        guard let next = queue.first, next.time <= end, next.time <= stopTime else { return nil }
        let event = queue.popFirst().unsafelyUnwrapped
        currentTime = event.time
        return event
    }
}
