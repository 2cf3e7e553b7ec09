/// A `Clock` that reads and waits on simulated time, for process-style code:
/// `try await clock.sleep(for: .seconds(5))` resumes when the replication's time reaches it.
///
/// Sleeping must happen on the replication's executor: inside a task made with
/// ``Simulation/spawn(_:)`` or in an actor of the replication. `Task.sleep` with its default
/// clock waits on wall time and leaves the replication: never use it in a model.
public struct SimulationClock: Clock, Sendable {
    public typealias Instant = SimulationInstant
    public typealias Duration = Swift.Duration

    private let calendar: EventCalendar

    public init(calendar: EventCalendar) {
        self.calendar = calendar
    }

    public var now: SimulationInstant { SimulationInstant(nanoseconds: calendar.now) }

    public var minimumResolution: Duration { .nanoseconds(1) }

    public func sleep(until deadline: SimulationInstant, tolerance: Duration? = nil) async throws {
        let calendar = self.calendar
        await withUnsafeContinuation { (continuation: UnsafeContinuation<Void, Never>) in
            calendar.scheduleWake(at: deadline.nanoseconds, continuation)
        }
    }
}
