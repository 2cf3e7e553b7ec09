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
    public static func nanoseconds(of duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }

    /// Converts seconds to nanoseconds, rounding to nearest; saturates at `Int64.max`
    /// so that a sampled duration from a heavy tail cannot trap.
    @inlinable
    public static func nanoseconds(fromSeconds seconds: Double) -> Int64 {
        let ns = (seconds * 1e9).rounded()
        if ns >= 9.2e18 { return Int64.max / 2 }
        if ns <= -9.2e18 { return Int64.min / 2 }
        return Int64(ns)
    }
}
