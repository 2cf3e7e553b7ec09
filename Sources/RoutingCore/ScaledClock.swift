/// Monotonic time that runs `factor` times faster than real time and reads zero at the
/// wall-clock instant `startUnixNanoseconds`. With factor 1, read from its making: a production
/// gateway's router clock. Faster, from an instant chosen ahead: the live twin's model time,
/// the same in each of its processes (the upstreams, the gateway, the load generator), which
/// agree on it through their command lines. The one place real and scaled time are converted.
public struct ScaledClock: RoutingClock, Sendable {
    public let factor: Int64
    /// The wall-clock instant it reads zero, in Unix nanoseconds.
    public let startUnixNanoseconds: Int64
    /// The monotonic instant it reads zero.
    private let origin: ContinuousClock.Instant

    /// `startUnixNanoseconds`: when it reads zero (nil: now).
    public init(factor: Int64 = 1, startUnixNanoseconds: Int64? = nil) {
        precondition(factor >= 1, "ScaledClock: the factor must be ≥ 1, got \(factor)")
        self.factor = factor
        let monotonic = ContinuousClock.now
        let wall = SystemWallClock().unixNanoseconds
        self.startUnixNanoseconds = startUnixNanoseconds ?? wall
        origin = monotonic + .nanoseconds((startUnixNanoseconds ?? wall) - wall)
    }

    public var now: RoutingInstant { RoutingInstant(nanoseconds: nanoseconds(at: .now)) }

    /// What it reads at a real instant (negative before its zero).
    public func nanoseconds(at instant: ContinuousClock.Instant = .now) -> Int64 {
        scaled(origin.duration(to: instant))
    }

    /// The real instant at which it reads `nanoseconds`.
    public func instant(at nanoseconds: Int64) -> ContinuousClock.Instant {
        origin + realDuration(of: nanoseconds)
    }

    /// Scaled nanoseconds for `nanoseconds` of real time (saturating).
    public func scaled(real nanoseconds: Int64) -> Int64 {
        let (product, overflow) = nanoseconds.multipliedReportingOverflow(by: factor)
        return overflow ? (nanoseconds < 0 ? Int64.min / 2 : Int64.max / 2) : product
    }

    /// Scaled nanoseconds for a real duration.
    public func scaled(_ duration: Duration) -> Int64 {
        scaled(real: Seconds.nanoseconds(duration))
    }

    /// The real length of `nanoseconds` of scaled time: a wait the router asks for lasts this.
    public func realDuration(of nanoseconds: Int64) -> Duration {
        .nanoseconds(nanoseconds / factor)
    }
}
