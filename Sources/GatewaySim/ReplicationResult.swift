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
    /// The end of the run, in simulated nanoseconds: the horizon (`run.duration_s`, when
    /// arrivals stop), or the end of the drain if work in flight outlasted it.
    public var endNanoseconds: Int64
    /// The warm-up, horizon and buckets the replication was measured with.
    public var window: MeasurementWindow
    /// The length of the measured window, [warm-up end, end of the run].
    public var measuredNanoseconds: Int64 { endNanoseconds - window.warmUp }
    /// The decision log, when it was asked for.
    public var decisionLog: [DecisionRecord]?
}
