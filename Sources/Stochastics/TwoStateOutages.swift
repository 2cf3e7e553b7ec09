import SimulationKernel

/// One target alternating between up (state 0) and down (state 1), with exponential
/// times to failure (mean MTBF) and to repair (mean MTTR).
///
/// Long-run fraction of time down: MTTR/(MTBF + MTTR); availability MTBF/(MTBF + MTTR).
/// The initial state is drawn from that stationary distribution, so a replication does
/// not start with every provider freshly repaired.
public struct TwoStateOutages: DegradationProcess {
    public let mtbfSeconds: Double
    public let mttrSeconds: Double
    public let initialStates: [Int]
    private let stream: RandomStream
    private var state: Int
    private var time: Int64 = 0

    public var targetCount: Int { 1 }

    public init(mtbfSeconds: Double, mttrSeconds: Double, stream: RandomStream) throws(StochasticsError) {
        try StochasticsError.requirePositive(mtbfSeconds, "two-state outages: MTBF (seconds)")
        try StochasticsError.requirePositive(mttrSeconds, "two-state outages: MTTR (seconds)")
        self.mtbfSeconds = mtbfSeconds
        self.mttrSeconds = mttrSeconds
        self.stream = stream
        let down = stream.uniform() < mttrSeconds / (mtbfSeconds + mttrSeconds)
        self.state = down ? 1 : 0
        self.initialStates = [state]
    }

    /// Long-run availability, MTBF/(MTBF + MTTR).
    public var availability: Double { mtbfSeconds / (mtbfSeconds + mttrSeconds) }

    public mutating func nextChange() -> HealthChange? {
        let mean = state == 0 ? mtbfSeconds : mttrSeconds
        time += Swift.max(1, SimulationInstant.nanoseconds(fromSeconds: stream.exponential(mean: mean)))
        state = 1 - state
        return HealthChange(time: time, target: 0, state: state)
    }
}
