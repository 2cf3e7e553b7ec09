import CoreMetrics
import Foundation
import Prometheus
import RoutingCore

/// The gateway's metrics, through swift-metrics into a Prometheus registry of its own,
/// exposed at `/metrics` in the Prometheus text format.
final class GatewayMetrics: Sendable {
    static let overheadBuckets: [Duration] = [.microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1), .microseconds(2_500),
                                              .milliseconds(5), .milliseconds(10), .milliseconds(50), .milliseconds(250)]

    let registry = PrometheusCollectorRegistry()
    let factory: PrometheusMetricsFactory
    private let inFlight: CoreMetrics.Meter
    private let fallback: CoreMetrics.Counter
    private let overhead: CoreMetrics.Timer

    init() {
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.durationHistogramBuckets["brownout_gateway_overhead_seconds"] = Self.overheadBuckets
        self.factory = factory
        inFlight = CoreMetrics.Meter(label: "brownout_in_flight_requests", factory: factory)
        fallback = CoreMetrics.Counter(label: "brownout_fallback_requests_total", factory: factory)
        overhead = CoreMetrics.Timer(label: "brownout_gateway_overhead_seconds", factory: factory)
        inFlight.set(0)
        fallback.increment(by: 0)
    }

    func requestStarted() { inFlight.increment() }

    func requestEnded(team: String, result: String, fallback served: Bool, overheadSeconds: Double) {
        inFlight.decrement()
        CoreMetrics.Counter(label: "brownout_requests_total", dimensions: [("team", team), ("result", result)], factory: factory).increment()
        if served { fallback.increment() }
        overhead.recordNanoseconds(Int64(overheadSeconds * 1e9))
    }

    func attemptEnded(upstream: String, outcome: OutcomeClass) {
        CoreMetrics.Counter(label: "brownout_attempts_total", dimensions: [("upstream", upstream), ("outcome", outcome.rawValue)], factory: factory).increment()
    }

    /// The exposition, with the router's breaker states (0 closed, 1 half-open, 2 open) and
    /// per-team spend read now.
    func render(config: RouterConfig, breakers: [CircuitBreaker.State?], ledger: Ledger) -> String {
        for (target, state) in zip(config.targets, breakers) {
            guard let state else { continue }
            let value: Double = switch state { case .closed: 0; case .halfOpen: 1; case .open: 2 }
            CoreMetrics.Gauge(label: "brownout_breaker_state", dimensions: [("upstream", target.name)], factory: factory).record(value)
        }
        for (team, spend) in zip(config.teams, ledger.teams) {
            CoreMetrics.Gauge(label: "brownout_team_spend_usd", dimensions: [("team", team.name)], factory: factory).record(spend.totalUSD)
        }
        var buffer: [UInt8] = []
        registry.emit(into: &buffer)
        return String(decoding: buffer, as: UTF8.self)
    }
}
