import NIOCore
import NIOPosix
import RoutingCore

/// The live twin's shared clock: model time runs `scale` times faster than real time and
/// reads zero at the wall-clock instant `startUnixNanoseconds`, the same for every process
/// of the twin (mock providers, gateway, load generator), which agree on it through the
/// command line.
public struct TwinClock: Sendable {
    public let scale: Int64
    public let startUnixNanoseconds: Int64
    /// The monotonic instant at which model time is zero.
    private let origin: ContinuousClock.Instant

    public init(scale: Int64, startUnixNanoseconds: Int64) {
        precondition(scale >= 1, "TwinClock: scale must be ≥ 1")
        self.scale = scale
        self.startUnixNanoseconds = startUnixNanoseconds
        let monotonic = ContinuousClock.now
        origin = monotonic + .nanoseconds(startUnixNanoseconds - SystemWallClock().unixNanoseconds)
    }

    /// Model nanoseconds at a real instant (negative before the start).
    public func modelNanoseconds(at instant: ContinuousClock.Instant = .now) -> Int64 {
        let (seconds, attoseconds) = origin.duration(to: instant).components
        return (seconds * 1_000_000_000 + attoseconds / 1_000_000_000) * scale
    }

    /// The real instant at which model time reads `nanoseconds`.
    public func instant(model nanoseconds: Int64) -> ContinuousClock.Instant {
        origin + .nanoseconds(nanoseconds / scale)
    }

    /// Sleeps until model time `nanoseconds` (at once if it has passed). The wait is an
    /// event-loop timer (epoll's timerfd), on time to the microsecond: `Task.sleep` on the
    /// default executor goes through libdispatch, which lets a timer fire up to a tenth of
    /// its interval late, and a twin at 60× would read that as seconds of extra latency.
    public func sleep(untilModel nanoseconds: Int64) async throws {
        try await Self.sleep(until: instant(model: nanoseconds))
    }

    /// Sleeps until a real instant, by an event-loop timer (see ``sleep(untilModel:)``).
    public static func sleep(until instant: ContinuousClock.Instant) async throws {
        let (seconds, attoseconds) = ContinuousClock.now.duration(to: instant).components
        let delay = seconds * 1_000_000_000 + attoseconds / 1_000_000_000
        guard delay > 0 else { return try Task.checkCancellation() }
        let scheduled = MultiThreadedEventLoopGroup.singleton.any().scheduleTask(in: .nanoseconds(delay)) {}
        try await withTaskCancellationHandler {
            try await scheduled.futureResult.get()
        } onCancel: {
            scheduled.cancel()
        }
    }
}
