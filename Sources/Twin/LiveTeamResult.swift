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
    /// How late each arrival was sent (real nanoseconds).
    var lateness: LatencyHistogram
    /// The requests that failed after the warm-up (up to ``LiveFailure/limitPerTeam``).
    var failures: [LiveFailure]
}
