import GatewaySim
import SimulationKernel

/// What one live team measured.
struct LiveTeamResult: Sendable {
    /// Latencies net of the twin's transport: what the simulation predicts.
    var metrics: TeamMetrics
    /// Latencies as measured at the client.
    var rawMetrics: TeamMetrics
    /// The transport of each successful request (model nanoseconds).
    var transport: LatencyHistogram
    /// The requests a local pool answered, for the GPU time the gateway billed beyond the plan.
    var poolAnswers: [PoolAnswer]
    /// How late each arrival was sent (real nanoseconds).
    var lateness: LatencyHistogram
    /// The requests that failed after the warm-up (up to ``LiveFailure/limitPerTeam``).
    var failures: [LiveFailure]
}

/// A request a local pool answered, live: the gateway replica and its id of the request, the
/// pool, and how long the mock served it by its plan (model nanoseconds).
struct PoolAnswer: Sendable {
    let replica: Int
    let requestID: UInt64
    let pool: String
    let plannedNanoseconds: Int64
}
