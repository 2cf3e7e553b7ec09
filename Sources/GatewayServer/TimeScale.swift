/// How much faster than real time the router's clock runs. 1 in production; the live twin
/// (`brownout twin`) runs a spec's hours in minutes, so the router reads `factor` times the
/// real elapsed time and every wait it asks for (a backoff, a hedge delay, an attempt's
/// limits) lasts `1 / factor` of its configured length. Everything an upstream tells the
/// router (Retry-After) is in the router's time: a twin's mock providers speak it too.
public struct TimeScale: Sendable, Equatable {
    public let factor: Int64

    public init(factor: Int64 = 1) {
        precondition(factor >= 1, "TimeScale: the factor must be ≥ 1, got \(factor)")
        self.factor = factor
    }

    public static let realTime = TimeScale()

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
