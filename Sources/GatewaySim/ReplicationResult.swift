import RoutingCore
import SimulationKernel

/// Everything one replication measured.
public struct ReplicationResult: Sendable {
    public var teams: [TeamMetrics]
    public var timeSeries: [TimeBuckets]
    /// Providers first, then pools, in spec order.
    public var upstreams: [UpstreamMetrics]
    public var ledger: Ledger
    /// Breaker openings per router target.
    public var breakerOpenings: [Int]
    public var events: UInt64
    public var decisions: Int
    /// Simulated nanoseconds until the last event (arrivals end at the horizon, then drain).
    public var endNanoseconds: Int64
    /// The decision log, when it was asked for.
    public var decisionLog: [Decision]?
}
