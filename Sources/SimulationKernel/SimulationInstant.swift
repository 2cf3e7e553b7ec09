/// A point in simulated time: integer nanoseconds since the start of a replication.
///
/// Time is an integer so that event order never depends on floating-point rounding:
/// two events scheduled for "the same" time compare equal and fall back to insertion order.
public struct SimulationInstant: InstantProtocol, Hashable, Sendable, CustomStringConvertible {
    public typealias Duration = Swift.Duration

    /// Nanoseconds since the start of the replication.
    public var nanoseconds: Int64

    /// The start of every replication.
    public static let zero = SimulationInstant(nanoseconds: 0)

    @inlinable
    public init(nanoseconds: Int64) {
        self.nanoseconds = nanoseconds
    }

    /// An instant `seconds` after the start, rounded to the nearest nanosecond.
    public init(seconds: Double) {
        self.nanoseconds = SimulationInstant.nanoseconds(fromSeconds: seconds)
    }

    /// Seconds since the start, for reports.
    public var seconds: Double { Double(nanoseconds) / 1e9 }

    public func advanced(by duration: Duration) -> SimulationInstant {
        SimulationInstant(nanoseconds: nanoseconds + SimulationInstant.nanoseconds(of: duration))
    }

    public func duration(to other: SimulationInstant) -> Duration {
        .nanoseconds(other.nanoseconds - nanoseconds)
    }

    public static func < (lhs: SimulationInstant, rhs: SimulationInstant) -> Bool {
        lhs.nanoseconds < rhs.nanoseconds
    }

    public var description: String { "t=\(nanoseconds)ns" }

    /// Converts a `Duration` to whole nanoseconds (attoseconds are truncated).
    static func nanoseconds(of duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }

    /// Converts seconds to nanoseconds, rounding to nearest; saturates at ±(2⁶² − 1) ns (about
    /// 146 years; NaN counts as +), so that no sum of two converted durations can overflow: a
    /// heavy-tailed draw becomes "never within the run", not a trap. The simulator's one
    /// conversion (Stochastics uses it too); RoutingCore's `Seconds.nanoseconds(_:)` is the
    /// same rule for the gateway (the two never import each other; a test holds them equal).
    @inlinable
    public static func nanoseconds(fromSeconds seconds: Double) -> Int64 {
        // Saturation is judged before rounding: at ±4.6e18 a double is a whole number.
        let ns = seconds * 1e9
        if ns.isNaN || ns >= 4.6e18 { return Int64.max / 2 }
        if ns <= -4.6e18 { return Int64.min / 2 }
        return NearestInteger.of(ns)
    }

    /// `time + delay`, saturating at `Int64.max` instead of trapping.
    @inlinable
    public static func adding(_ time: Int64, _ delay: Int64) -> Int64 {
        let (sum, overflow) = time.addingReportingOverflow(delay)
        return overflow ? (delay > 0 ? Int64.max : Int64.min) : sum
    }
}
