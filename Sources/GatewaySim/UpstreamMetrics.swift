import RoutingCore
import SimulationKernel

/// What one provider or pool saw in a replication: offered and accepted attempts, errors by
/// class, busy servers and queue length over time, waits, and time in each health state.
///
/// The warm-up rule: nothing before `countsFrom` (the end of `run.warmup_s`) is counted.
/// Attempts count when they arrive, and so do their acceptances and waits (recorded when a
/// server takes the attempt, counted in the window it was offered in, so that an attempt
/// queued across the warm-up's end is neither offered nor accepted); errors when they are
/// answered; time-weighted quantities and time in states integrate from
/// `countsFrom` to the end of the run.
public struct UpstreamMetrics: Sendable {
    public let name: String
    public let capacity: Int
    /// Attempts that arrived.
    public private(set) var offered = 0
    /// Attempts that got a server (at once or after queueing).
    public private(set) var accepted = 0
    public private(set) var errors: [OutcomeClass: Int] = [:]
    public private(set) var busy: TimeWeightedAverage
    public private(set) var queueLength: TimeWeightedAverage
    /// Seconds each accepted attempt waited in the queue.
    public private(set) var waits = Tally()
    /// Accepted attempts that had to wait at all.
    public private(set) var delayed = 0
    /// Replicas serving over time (pools; 0 for providers).
    public private(set) var replicas: TimeWeightedAverage
    /// The most attempts held at once over the whole run, warm-up included: waiting, served,
    /// or answered and not yet read by the gateway. The gateway never has more of them
    /// outstanding, so a run whose peak stays below a pool's servers never met its limits: a
    /// pool of any size above the peak would have run it the same (``FallbackSizing`` reads
    /// it so).
    public private(set) var peakHeld = 0
    /// Nanoseconds spent in each health state.
    public private(set) var timeInState: [Int64]
    /// The warm-up, horizon and buckets of the replication.
    public let window: MeasurementWindow
    /// The length of a time-series bucket (`run.bucket_s`).
    public var bucketNanoseconds: Int64 { window.bucket }
    /// Nanoseconds outside the healthy state (0) in each bucket up to the horizon, from time 0
    /// (none in the warm-up).
    public private(set) var degradedPerBucket: [Int64] = []
    /// When counting starts: the end of the warm-up.
    public var countsFrom: Int64 { window.warmUp }
    private var state = 0
    private var stateSince: Int64 = 0

    init(name: String, capacity: Int, stateCount: Int, window: MeasurementWindow) {
        self.name = name
        self.capacity = capacity
        self.timeInState = Array(repeating: 0, count: max(1, stateCount))
        self.window = window
        busy = TimeWeightedAverage(start: window.warmUp)
        queueLength = TimeWeightedAverage(start: window.warmUp)
        replicas = TimeWeightedAverage(start: window.warmUp)
    }

    mutating func recordOffer(at now: Int64) {
        if now >= countsFrom { offered += 1 }
    }

    mutating func recordError(_ outcome: OutcomeClass, at now: Int64) {
        if now >= countsFrom { errors[outcome, default: 0] += 1 }
    }

    /// A server took an attempt that had waited `nanoseconds` (offered `nanoseconds` ago).
    mutating func recordAccepted(waited nanoseconds: Int64, at now: Int64) {
        guard now - nanoseconds >= countsFrom else { return }
        accepted += 1
        waits.record(Double(nanoseconds) / 1e9)
        if nanoseconds > 0 { delayed += 1 }
    }

    mutating func busyChanged(to value: Int, at time: Int64) {
        busy.update(to: Double(value), at: time)
    }

    mutating func queueChanged(to value: Int, at time: Int64) {
        queueLength.update(to: Double(value), at: time)
    }

    mutating func replicasChanged(to value: Int, at time: Int64) {
        replicas.update(to: Double(value), at: time)
    }

    mutating func heldChanged(to count: Int) {
        peakHeld = max(peakHeld, count)
    }

    /// What ``replicas`` averages at `end` for a pool of `count` replicas that never scales
    /// (its only change is the one ``FallbackPool`` records at time 0).
    public static func fixedReplicasAverage(_ count: Int, window: MeasurementWindow, at end: Int64) -> Double {
        var metrics = UpstreamMetrics(name: "", capacity: 0, stateCount: 1, window: window)
        metrics.replicasChanged(to: count, at: 0)
        return metrics.replicas.average(at: end)
    }

    mutating func stateChanged(to newState: Int, at time: Int64) {
        let from = max(stateSince, countsFrom)
        if time > from {
            timeInState[state] += time - from
            if state != 0 { recordDegraded(from: from, to: time) }
        }
        state = newState
        stateSince = time
    }

    /// Spreads the degraded interval [start, end) over the buckets it covers, up to the horizon.
    private mutating func recordDegraded(from start: Int64, to stop: Int64) {
        let end = min(stop, window.horizon)
        var from = start
        while from < end {
            let bucket = Int(from / bucketNanoseconds)
            let bucketEnd = (Int64(bucket) + 1) * bucketNanoseconds
            let until = min(end, bucketEnd)
            if degradedPerBucket.count <= bucket { degradedPerBucket += Array(repeating: 0, count: bucket + 1 - degradedPerBucket.count) }
            degradedPerBucket[bucket] += until - from
            from = until
        }
    }

    /// Closes the books at the end of the replication.
    mutating func close(at time: Int64) {
        stateChanged(to: state, at: time)
    }
}
