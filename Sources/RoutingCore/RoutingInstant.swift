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
