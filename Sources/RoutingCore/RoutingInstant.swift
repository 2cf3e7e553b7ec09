/// A point in time for routing decisions: integer nanoseconds on the clock the router was
/// given (wall time in a gateway server, simulated time in the simulator).
public struct RoutingInstant: Comparable, Hashable, Codable, Sendable {
    public var nanoseconds: Int64

    @inlinable
    public init(nanoseconds: Int64) {
        self.nanoseconds = nanoseconds
    }

    @inlinable
    public static func < (lhs: RoutingInstant, rhs: RoutingInstant) -> Bool {
        lhs.nanoseconds < rhs.nanoseconds
    }

    @inlinable
    public func adding(nanoseconds delta: Int64) -> RoutingInstant {
        RoutingInstant(nanoseconds: nanoseconds + delta)
    }

    public init(from decoder: any Decoder) throws {
        nanoseconds = try decoder.singleValueContainer().decode(Int64.self)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(nanoseconds)
    }
}

/// Where the router reads the time. Inject a wall clock in a server and the simulation's
/// clock in the simulator; the router never reads time any other way.
public protocol RoutingClock {
    var now: RoutingInstant { get }
}

/// A clock set by hand, for tests and for replaying recorded traces.
public final class ManualClock: RoutingClock {
    public var now: RoutingInstant

    public init(now: RoutingInstant = RoutingInstant(nanoseconds: 0)) {
        self.now = now
    }

    public func advance(seconds: Double) {
        now = now.adding(nanoseconds: Seconds.nanoseconds(seconds))
    }
}

/// Monotonic wall time since the clock was made, for a production gateway.
public struct MonotonicClock: RoutingClock, Sendable {
    private let origin = ContinuousClock.now

    public init() {}

    public var now: RoutingInstant {
        let (seconds, attoseconds) = origin.duration(to: ContinuousClock.now).components
        return RoutingInstant(nanoseconds: seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}

/// Conversions between configured seconds and the router's integer nanoseconds.
public enum Seconds {
    /// Seconds to nanoseconds, rounded to nearest; saturates at ±(2⁶² − 1) ns (about 146 years; NaN counts as +), the one rule shared with the other modules' conversions, so that no sum of two converted durations can overflow.
    @inlinable
    public static func nanoseconds(_ seconds: Double) -> Int64 {
        let ns = (seconds * 1e9).rounded()
        if ns.isNaN || ns >= 4.6e18 { return Int64.max / 2 }
        if ns <= -4.6e18 { return Int64.min / 2 }
        return Int64(ns)
    }

    @inlinable
    public static func seconds(_ nanoseconds: Int64) -> Double {
        Double(nanoseconds) / 1e9
    }
}
