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
    /// The transport of the requests each local pool answered, summed by pool (model ns).
    var poolTransport: [String: Int64]
    /// How late each arrival was sent (real nanoseconds).
    var lateness: LatencyHistogram
    /// The requests that failed after the warm-up (up to ``LiveFailure/limitPerTeam``).
    var failures: [LiveFailure]
}
