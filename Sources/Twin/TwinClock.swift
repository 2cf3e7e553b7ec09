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

    /// Sleeps until model time `nanoseconds` (at once if it has passed).
    public func sleep(untilModel nanoseconds: Int64) async throws {
        try await Task.sleep(until: instant(model: nanoseconds), clock: .continuous)
    }
}
