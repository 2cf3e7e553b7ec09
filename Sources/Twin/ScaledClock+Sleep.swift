import NIOCore
import NIOPosix
import RoutingCore

/// The twin's waits on its shared clock (``RoutingCore/ScaledClock``, the model time).
extension ScaledClock {
    /// Sleeps until the clock reads `nanoseconds` (at once if it has passed). The wait is an
    /// event-loop timer (epoll's timerfd), on time to the microsecond: `Task.sleep` on the
    /// default executor goes through libdispatch, which lets a timer fire up to a tenth of
    /// its interval late, and a twin at 60× would read that as seconds of extra latency.
    public func sleep(until nanoseconds: Int64) async throws {
        try await Self.sleep(until: instant(at: nanoseconds))
    }

    /// Sleeps until a real instant, by an event-loop timer (see ``sleep(until:)-(Int64)``).
    public static func sleep(until instant: ContinuousClock.Instant) async throws {
        let delay = Seconds.nanoseconds(ContinuousClock.now.duration(to: instant))
        guard delay > 0 else { return try Task.checkCancellation() }
        let scheduled = MultiThreadedEventLoopGroup.singleton.any().scheduleTask(in: .nanoseconds(delay)) {}
        try await withTaskCancellationHandler {
            try await scheduled.futureResult.get()
        } onCancel: {
            scheduled.cancel()
        }
    }
}
