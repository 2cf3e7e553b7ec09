/// The time the gateway's router lives in. In production: real time from the gateway's start,
/// and the real calendar. The live twin (`brownout twin`) runs a spec's hours in minutes:
/// the router reads `factor` times the real time elapsed since the twin's common start,
/// every wait it asks for (a backoff, a hedge delay, an attempt's limits) lasts `1 / factor`
/// of its configured length, and its calendar (which budget periods follow) starts at the
/// spec's start time. Everything an upstream tells the router (Retry-After) is in the
/// router's time: a twin's mock providers speak it too.
public struct RouterTime: Sendable, Equatable {
    public let factor: Int64
    /// The wall-clock instant the router's clock reads zero (nil: the gateway's start).
    public let startUnixNanoseconds: Int64?
    /// What the router's calendar reads when its clock reads zero (nil: the real time then).
    public let calendarUnixNanosecondsAtZero: Int64?

    public init(factor: Int64 = 1, startUnixNanoseconds: Int64? = nil, calendarUnixNanosecondsAtZero: Int64? = nil) {
        precondition(factor >= 1, "RouterTime: the factor must be ≥ 1, got \(factor)")
        self.factor = factor
        self.startUnixNanoseconds = startUnixNanoseconds
        self.calendarUnixNanosecondsAtZero = calendarUnixNanosecondsAtZero
    }

    public static let realTime = RouterTime()

    /// Router nanoseconds for `nanoseconds` of real time.
    func routerNanoseconds(real nanoseconds: Int64) -> Int64 {
        nanoseconds.multipliedReportingOverflow(by: factor).overflow ? Int64.max : nanoseconds * factor
    }

    /// The real duration of a wait of `nanoseconds` on the router's clock.
    func realDuration(router nanoseconds: Int64) -> Duration {
        .nanoseconds(nanoseconds / factor)
    }

    /// Router nanoseconds for a real duration.
    func routerNanoseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        return routerNanoseconds(real: seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}
