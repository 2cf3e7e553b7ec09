import RoutingCore

/// The time the gateway's router lives in. In production: a ``RoutingCore/ScaledClock`` at
/// factor 1 from the gateway's start, and the real calendar. The live twin (`brownout twin`)
/// runs a spec's hours in minutes: the router's clock runs `factor` times real time from the
/// twin's common start, every wait it asks for (a backoff, a hedge delay, an attempt's limits)
/// lasts `1 / factor` of its configured length, and its calendar (which budget periods follow)
/// starts at the spec's start time. Everything an upstream tells the router (Retry-After) is in
/// the router's time: a twin's upstreams speak it too.
public struct RouterTime: Sendable {
    public let clock: ScaledClock
    /// What the router's calendar reads when its clock reads zero (nil: the real time then).
    public let calendarUnixNanosecondsAtZero: Int64?

    /// `startUnixNanoseconds`: the wall-clock instant the router's clock reads zero (nil: now).
    public init(factor: Int64 = 1, startUnixNanoseconds: Int64? = nil, calendarUnixNanosecondsAtZero: Int64? = nil) {
        clock = ScaledClock(factor: factor, startUnixNanoseconds: startUnixNanoseconds)
        self.calendarUnixNanosecondsAtZero = calendarUnixNanosecondsAtZero
    }

    /// Real time, read from now.
    public static var realTime: RouterTime { RouterTime() }

    public var factor: Int64 { clock.factor }

    /// What the router's calendar reads when its clock reads zero.
    var unixNanosecondsAtZero: Int64 { calendarUnixNanosecondsAtZero ?? clock.startUnixNanoseconds }
}
