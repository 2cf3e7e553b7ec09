import GatewaySim
import SimulationKernel

/// What the twin compares, per team: each metric computed by one definition from a team's
/// ``TeamMetrics`` and its spend, for a simulated replication and for the live run alike.
public enum TwinMetric: String, CaseIterable, Sendable {
    /// Requests that arrived after the warm-up (the live run draws the arrivals of the
    /// simulation's replication it follows, so this one is exact, not statistical).
    case requests
    case availability
    /// Gateway attempts per request, over all the client SDK's tries.
    case attemptsPerRequest = "attempts_per_request"
    /// Successes served by a local pool, over successes.
    case fallbackShare = "fallback_share"
    /// From arrival to the last token, over all tries, of requests that succeeded.
    /// From arrival to the first token of the answer that succeeded.
    case firstTokenP50 = "first_token_p50_s"
    case latencyP50 = "latency_p50_s"
    case latencyP99 = "latency_p99_s"
    /// What the team was charged after the warm-up, GPU time included.
    case spend = "spend_usd"

    public func value(_ team: TeamMetrics, spendUSD: Double) -> Double {
        switch self {
        case .requests: return Double(team.requests)
        case .availability: return team.availability
        case .attemptsPerRequest: return team.attempts.count > 0 ? team.attempts.mean : 0
        case .fallbackShare: return team.succeeded > 0 ? Double(team.succeededFallback) / Double(team.succeeded) : 0
        case .firstTokenP50: return team.firstTokenLatency.seconds(atPercentile: 50)
        case .latencyP50: return team.totalLatency.seconds(atPercentile: 50)
        case .latencyP99: return team.totalLatency.seconds(atPercentile: 99)
        case .spend: return spendUSD
        }
    }

    /// The smallest change one event makes to the metric in a run like `team` (one request
    /// more or less, one failure in the requests that ended): the step of a
    /// ``PredictionInterval``'s continuity correction; 0 for continuous metrics.
    public func step(_ team: TeamMetrics) -> Double {
        switch self {
        case .requests: return 1
        case .availability: return team.succeeded + team.failed > 0 ? 1 / Double(team.succeeded + team.failed) : 0
        case .fallbackShare: return team.succeeded > 0 ? 1 / Double(team.succeeded) : 0
        case .attemptsPerRequest, .firstTokenP50, .latencyP50, .latencyP99, .spend: return 0
        }
    }

    /// The values the metric can take (proportions stay in [0, 1]).
    public var range: ClosedRange<Double> {
        switch self {
        case .availability, .fallbackShare: return 0...1
        default: return 0...Double.infinity
        }
    }
}
