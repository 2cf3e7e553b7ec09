import Foundation

/// Where the router reads the calendar: UTC time as nanoseconds since the Unix epoch. Only
/// budget periods use it (a daily budget resets at midnight UTC); every duration the router
/// measures comes from its monotonic ``RoutingClock``.
public protocol WallClock {
    var unixNanoseconds: Int64 { get }
}

/// The system's real-time clock, for a production gateway.
public struct SystemWallClock: WallClock, Sendable {
    public init() {}

    public var unixNanoseconds: Int64 { Seconds.nanoseconds(Date().timeIntervalSince1970) }
}

/// A wall clock that is a routing clock plus a fixed offset: the simulator's calendar (the
/// run starts at a chosen UTC time) and tests'.
public struct OffsetWallClock: WallClock {
    public let clock: any RoutingClock
    /// The UTC time, in nanoseconds since the Unix epoch, at which `clock` reads zero.
    public let unixNanosecondsAtZero: Int64

    public init(clock: any RoutingClock, unixNanosecondsAtZero: Int64) {
        self.clock = clock
        self.unixNanosecondsAtZero = unixNanosecondsAtZero
    }

    public var unixNanoseconds: Int64 { unixNanosecondsAtZero + clock.now.nanoseconds }
}
