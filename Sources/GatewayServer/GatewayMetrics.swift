import Foundation
import RoutingCore
import Synchronization

/// The gateway's counters, exposed at `/metrics` in the Prometheus text format.
final class GatewayMetrics: Sendable {
    static let overheadBuckets = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05, 0.25]

    private struct Counters {
        var requests: [String: Int] = [:]
        var attempts: [String: Int] = [:]
        var inFlight = 0
        var fallback = 0
        var overheadCounts = Array(repeating: 0, count: GatewayMetrics.overheadBuckets.count + 1)
        var overheadSum = 0.0
    }

    private let counters = Mutex(Counters())

    func requestStarted() { counters.withLock { $0.inFlight += 1 } }

    func requestEnded(team: String, result: String, fallback: Bool, overheadSeconds: Double) {
        counters.withLock { c in
            c.inFlight -= 1
            c.requests[#"team="\#(team)",result="\#(result)""#, default: 0] += 1
            if fallback { c.fallback += 1 }
            let bucket = GatewayMetrics.overheadBuckets.firstIndex { overheadSeconds <= $0 } ?? GatewayMetrics.overheadBuckets.count
            c.overheadCounts[bucket] += 1
            c.overheadSum += overheadSeconds
        }
    }

    func attemptEnded(upstream: String, outcome: OutcomeClass) {
        counters.withLock { $0.attempts[#"upstream="\#(upstream)",outcome="\#(outcome.rawValue)""#, default: 0] += 1 }
    }

    /// The exposition, with the router's breaker states and per-team spend read now.
    func render(config: RouterConfig, breakers: [CircuitBreaker.State?], ledger: Ledger) -> String {
        let c = counters.withLock { $0 }
        var text = "# HELP brownout_requests_total Requests answered, by team and result.\n# TYPE brownout_requests_total counter\n"
        for (labels, value) in c.requests.sorted(by: { $0.key < $1.key }) { text += "brownout_requests_total{\(labels)} \(value)\n" }
        text += "# HELP brownout_attempts_total Upstream attempts, by upstream and outcome class.\n# TYPE brownout_attempts_total counter\n"
        for (labels, value) in c.attempts.sorted(by: { $0.key < $1.key }) { text += "brownout_attempts_total{\(labels)} \(value)\n" }
        text += "# HELP brownout_in_flight_requests Requests being answered now.\n# TYPE brownout_in_flight_requests gauge\nbrownout_in_flight_requests \(c.inFlight)\n"
        text += "# HELP brownout_fallback_requests_total Requests answered by a local pool (degraded mode).\n# TYPE brownout_fallback_requests_total counter\nbrownout_fallback_requests_total \(c.fallback)\n"
        text += "# HELP brownout_breaker_state Circuit breaker per upstream: 0 closed, 1 half-open, 2 open.\n# TYPE brownout_breaker_state gauge\n"
        for (target, state) in zip(config.targets, breakers) {
            guard let state else { continue }
            let value = switch state { case .closed: 0; case .halfOpen: 1; case .open: 2 }
            text += "brownout_breaker_state{upstream=\"\(target.name)\"} \(value)\n"
        }
        text += "# HELP brownout_team_spend_usd Spend charged to each team since start.\n# TYPE brownout_team_spend_usd counter\n"
        for (team, spend) in zip(config.teams, ledger.teams) { text += "brownout_team_spend_usd{team=\"\(team.name)\"} \(spend.totalUSD)\n" }
        text += "# HELP brownout_gateway_overhead_seconds The gateway's own time per request (outside upstream calls and backoff).\n# TYPE brownout_gateway_overhead_seconds histogram\n"
        var cumulative = 0
        for (index, bound) in GatewayMetrics.overheadBuckets.enumerated() {
            cumulative += c.overheadCounts[index]
            text += "brownout_gateway_overhead_seconds_bucket{le=\"\(bound)\"} \(cumulative)\n"
        }
        cumulative += c.overheadCounts.last!
        text += "brownout_gateway_overhead_seconds_bucket{le=\"+Inf\"} \(cumulative)\nbrownout_gateway_overhead_seconds_sum \(c.overheadSum)\nbrownout_gateway_overhead_seconds_count \(cumulative)\n"
        return text
    }
}
