/// What a replication measures, in simulated nanoseconds: from the end of the warm-up to the
/// end of the run, in time-series buckets that cover the horizon plus one last bucket for the
/// drain (what happens after the horizon, however long a heavy tail makes it).
public struct MeasurementWindow: Sendable, Equatable {
    /// The end of the warm-up: nothing before it is counted.
    public let warmUp: Int64
    /// When arrivals stop (`run.duration_s`).
    public let horizon: Int64
    /// The length of a time-series bucket (`run.bucket_s`).
    public let bucket: Int64

    public init(warmUp: Int64, horizon: Int64, bucket: Int64) {
        self.warmUp = warmUp
        self.horizon = horizon
        self.bucket = max(1, bucket)
    }

    /// The index of the drain bucket: the first bucket that starts at or after the horizon.
    public var drainBucket: Int { Int((horizon + bucket - 1) / bucket) }

    /// The bucket an instant belongs to; everything after the horizon's buckets is the drain's.
    @inlinable
    public func bucketIndex(at time: Int64) -> Int {
        min(Int(max(0, time) / bucket), drainBucket)
    }
}
