import Foundation
import CoreMetrics
import Prometheus
import RoutingCore

/// The gateway's metrics, through swift-metrics into a Prometheus registry of its own,
/// exposed at `/metrics` in the Prometheus text format. Every series the config can produce
/// is created at start (at zero), so a request only increments, and a dashboard sees a
/// team or an outcome before its first occurrence.
final class GatewayMetrics: Sendable {
    /// How a request ended, as the `result` label says it.
    enum RequestResult: String, CaseIterable, Sendable {
        case success, error, rejected
    }

    static let overheadBuckets: [Duration] = [
        .microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1), .microseconds(2_500),
        .milliseconds(5), .milliseconds(10), .milliseconds(50), .milliseconds(250),
    ]

    let registry = PrometheusCollectorRegistry()
    private let inFlight: CoreMetrics.Meter
    private let fallback: CoreMetrics.Counter
    private let overhead: CoreMetrics.Timer
    /// By team (the last row: requests without a team), then by result.
    private let requests: [[RequestResult: CoreMetrics.Counter]]
    /// By upstream, then by outcome class.
    private let attempts: [[OutcomeClass: CoreMetrics.Counter]]
    private let breakers: [CoreMetrics.Gauge]
    private let spend: [CoreMetrics.Gauge]
    /// By route; none for a route whose retries are unlimited.
    private let retryBudgets: [CoreMetrics.Gauge?]
    /// By upstream: attempts billed by the gateway's own count because the upstream reported
    /// no usage (finance sees how much of the spend is estimated).
    private let estimatedUsage: [CoreMetrics.Counter]
    /// Requests refused before routing because their body could not be taken, by reason.
    private let bodyRefusals: [BodyRefusal: CoreMetrics.Counter]
    /// Bytes of request bodies held now (each request keeps its body until it ends).
    private let bodyBytes: CoreMetrics.Meter
    /// Saved spend rows whose team or key the spec no longer has (kept, not restored).
    private let unknownSpendRows: CoreMetrics.Gauge
    /// Streamed answers cut because their client read slower than the answer came.
    private let slowClients: CoreMetrics.Counter
    private let linesLost: [LineLog: CoreMetrics.Counter]
    /// By upstream, then by what the gateway did about a stream's flaw.
    private let streamRepairs: [[StreamRepair: CoreMetrics.Counter]]
    /// The spend ledger's way to PostgreSQL (all zero with `state: sqlite`).
    private let ledgerSpooled: CoreMetrics.Gauge
    private let ledgerShipped: CoreMetrics.Counter
    private let ledgerDatabaseUp: CoreMetrics.Gauge
    private let sharedBreakersUp: CoreMetrics.Gauge
    private let budgetLeasesUp: CoreMetrics.Gauge
    private let budgetLeaseRoundTrips: CoreMetrics.Counter
    private let replicasAlive: CoreMetrics.Gauge
    private let breakerNoticesDropped: CoreMetrics.Counter
    private let ledgerRoundTrips: CoreMetrics.Counter

    /// A flaw in an upstream's stream the gateway dealt with instead of failing the answer.
    enum StreamRepair: String, CaseIterable, Sendable {
        /// An event that was not JSON, left out (`on_malformed_event: drop`).
        case malformedEventDropped = "malformed_event_dropped"
        /// A stream whose last choice finished and whose body ended cleanly, but without
        /// `[DONE]`: finished with `[DONE]` by the gateway.
        case completedWithoutDone = "completed_without_done"
        /// A stream silent for longer than its idle limit, cut.
        case idleCut = "idle_cut"
        /// A held answer (a route's stream commit policy) that reached the most the gateway
        /// holds for one request, sent on to the client then.
        case committedAtHoldLimit = "committed_at_hold_limit"
    }

    /// Why a request's body was not taken.
    /// The files the gateway appends lines to.
    enum LineLog: String, CaseIterable, Sendable {
        case decisionLog = "decision_log"
        case trace
    }

    enum BodyRefusal: String, CaseIterable, Sendable {
        /// Larger than the limit (413).
        case tooLarge = "too_large"
        /// Not all of it arrived within the read limit (408).
        case tooSlow = "too_slow"
        /// Broken on the way: a malformed chunk, a reset (400).
        case malformed
        /// The gateway holds as many bodies' bytes as it may (503).
        case gatewayFull = "gateway_full"
    }

    init(config: RouterConfig) {
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.durationHistogramBuckets["brownout_gateway_overhead_seconds"] = Self.overheadBuckets
        inFlight = CoreMetrics.Meter(label: "brownout_in_flight_requests", factory: factory)
        fallback = CoreMetrics.Counter(label: "brownout_fallback_requests_total", factory: factory)
        overhead = CoreMetrics.Timer(label: "brownout_gateway_overhead_seconds", factory: factory)
        requests = (config.teams.map(\.name) + ["unattributed"]).map { team in
            Dictionary(
                uniqueKeysWithValues: RequestResult.allCases.map {
                    (
                        $0,
                        CoreMetrics.Counter(
                            label: "brownout_requests_total", dimensions: [("team", team), ("result", $0.rawValue)], factory: factory)
                    )
                })
        }
        attempts = config.targets.map { target in
            Dictionary(
                uniqueKeysWithValues: OutcomeClass.allCases.map {
                    (
                        $0,
                        CoreMetrics.Counter(
                            label: "brownout_attempts_total", dimensions: [("upstream", target.name), ("outcome", $0.rawValue)], factory: factory)
                    )
                })
        }
        breakers = config.targets.map { CoreMetrics.Gauge(label: "brownout_breaker_state", dimensions: [("upstream", $0.name)], factory: factory) }
        spend = config.teams.map { CoreMetrics.Gauge(label: "brownout_team_spend_usd", dimensions: [("team", $0.name)], factory: factory) }
        retryBudgets = config.routes.map { route in
            let kind =
                switch route.retryBudget {
                case .unlimited: nil as String?
                case .finagle: "finagle"
                case .grpc: "grpc"
                case .adaptiveThrottling: "adaptive_throttling"
                }
            return kind.map {
                CoreMetrics.Gauge(label: "brownout_retry_budget_balance", dimensions: [("route", route.name), ("kind", $0)], factory: factory)
            }
        }
        estimatedUsage = config.targets.map {
            CoreMetrics.Counter(label: "brownout_usage_estimated_attempts_total", dimensions: [("upstream", $0.name)], factory: factory)
        }
        bodyRefusals = Dictionary(
            uniqueKeysWithValues: BodyRefusal.allCases.map {
                ($0, CoreMetrics.Counter(label: "brownout_request_bodies_refused_total", dimensions: [("reason", $0.rawValue)], factory: factory))
            })
        bodyBytes = CoreMetrics.Meter(label: "brownout_request_body_bytes_held", factory: factory)
        unknownSpendRows = CoreMetrics.Gauge(label: "brownout_spend_rows_unknown", factory: factory)
        slowClients = CoreMetrics.Counter(label: "brownout_slow_clients_cut_total", factory: factory)
        linesLost = Dictionary(
            uniqueKeysWithValues: LineLog.allCases.map {
                ($0, CoreMetrics.Counter(label: "brownout_log_lines_lost_total", dimensions: [("log", $0.rawValue)], factory: factory))
            })
        streamRepairs = config.targets.map { target in
            Dictionary(
                uniqueKeysWithValues: StreamRepair.allCases.map {
                    (
                        $0,
                        CoreMetrics.Counter(
                            label: "brownout_stream_repairs_total", dimensions: [("upstream", target.name), ("repair", $0.rawValue)], factory: factory
                        )
                    )
                })
        }
        ledgerSpooled = CoreMetrics.Gauge(label: "brownout_ledger_rows_spooled", factory: factory)
        ledgerShipped = CoreMetrics.Counter(label: "brownout_ledger_rows_shipped_total", factory: factory)
        ledgerDatabaseUp = CoreMetrics.Gauge(label: "brownout_ledger_database_up", factory: factory)
        ledgerRoundTrips = CoreMetrics.Counter(label: "brownout_ledger_database_round_trips_total", factory: factory)
        sharedBreakersUp = CoreMetrics.Gauge(label: "brownout_shared_breakers_up", factory: factory)
        budgetLeasesUp = CoreMetrics.Gauge(label: "brownout_budget_leases_up", factory: factory)
        budgetLeaseRoundTrips = CoreMetrics.Counter(label: "brownout_budget_lease_round_trips_total", factory: factory)
        replicasAlive = CoreMetrics.Gauge(label: "brownout_replicas_alive", factory: factory)
        breakerNoticesDropped = CoreMetrics.Counter(label: "brownout_breaker_notices_dropped_total", factory: factory)
        sharedBreakersUp.record(0)
        budgetLeasesUp.record(0)
        budgetLeaseRoundTrips.increment(by: 0)
        replicasAlive.record(1)
        breakerNoticesDropped.increment(by: 0)
        ledgerSpooled.record(0)
        ledgerDatabaseUp.record(0)
        ledgerShipped.increment(by: 0)
        ledgerRoundTrips.increment(by: 0)
        inFlight.set(0)
        bodyBytes.set(0)
        unknownSpendRows.record(0)
        fallback.increment(by: 0)
        slowClients.increment(by: 0)
        for counter in estimatedUsage + BodyRefusal.allCases.map({ bodyRefusals[$0]! }) + LineLog.allCases.map({ linesLost[$0]! }) {
            counter.increment(by: 0)
        }
        for counter in requests.flatMap(\.values) + attempts.flatMap(\.values) + streamRepairs.flatMap(\.values) { counter.increment(by: 0) }
    }

    func requestStarted() { inFlight.increment() }

    func requestEnded(team: TeamID?, result: RequestResult, fallback served: Bool, overhead time: Duration) {
        inFlight.decrement()
        requests[team?.index ?? requests.count - 1][result]?.increment()
        if served { fallback.increment() }
        overhead.recordNanoseconds(Seconds.nanoseconds(time))
    }

    func attemptEnded(upstream: TargetID, outcome: OutcomeClass, usageEstimated: Bool) {
        attempts[upstream.index][outcome]?.increment()
        if usageEstimated { estimatedUsage[upstream.index].increment() }
    }

    func slowClientCut() { slowClients.increment() }

    /// Lines of `log` dropped (the writer fell too far behind) or not written (a write failed).
    func linesLost(_ log: LineLog, _ count: Int) { linesLost[log]?.increment(by: Int64(count)) }

    func streamRepaired(upstream: TargetID, _ repair: StreamRepair) { streamRepairs[upstream.index][repair]?.increment() }

    func bodyRefused(_ reason: BodyRefusal) { bodyRefusals[reason]?.increment() }

    func bodyBytesHeld(changedBy bytes: Int) { bytes >= 0 ? bodyBytes.increment(by: Double(bytes)) : bodyBytes.decrement(by: Double(-bytes)) }

    func spendRowsUnknown(_ count: Int) { unknownSpendRows.record(count) }

    /// The ledger's rows waiting in the spool, and whether the database answered last time.
    func ledgerState(spooled: Int, databaseUp: Bool) {
        ledgerSpooled.record(spooled)
        ledgerDatabaseUp.record(databaseUp ? 1 : 0)
    }

    func ledgerShipped(rows: Int) { ledgerShipped.increment(by: Int64(rows)) }

    /// One query sent to the ledger's database (never on a request's path).
    func ledgerRoundTrip() { ledgerRoundTrips.increment() }

    /// Whether the shared breakers' connection to the database is up.
    func sharedBreakers(up: Bool) { sharedBreakersUp.record(up ? 1 : 0) }

    /// Whether the database granting budget slices answered last time.
    func budgetLeases(up: Bool) { budgetLeasesUp.record(up ? 1 : 0) }

    /// The replicas counted alive (rate limits shared: each enforces 1/N of them).
    func replicas(alive: Int) { replicasAlive.record(alive) }

    /// One statement sent to the database for budget slices (never on a request's path).
    func budgetLeaseRoundTrip() { budgetLeaseRoundTrips.increment() }

    /// A breaker change not shared (no connection to the database, or its NOTIFY failed).
    func breakerNoticeDropped() { breakerNoticesDropped.increment() }

    /// The exposition, with the router's state read now: breaker states (0 closed,
    /// 1 half-open, 2 open), per-team spend, and what each route's retry budget has left
    /// (Finagle: retries; gRPC: tokens; adaptive throttling: the chance an attempt is sent).
    func render(breakers states: [CircuitBreaker.State?], ledger: Ledger, retryBudgets balances: [Double?]) -> String {
        for (gauge, state) in zip(breakers, states) {
            guard let state else { continue }
            let value: Double =
                switch state {
                case .closed: 0;
                case .halfOpen: 1;
                case .open: 2
                }
            gauge.record(value)
        }
        for (gauge, team) in zip(spend, ledger.teams) { gauge.record(team.totalUSD) }
        for (gauge, balance) in zip(retryBudgets, balances) {
            if let balance { gauge?.record(balance) }
        }
        var buffer: [UInt8] = []
        registry.emit(into: &buffer)
        return Self.ordered(String(decoding: buffer, as: UTF8.self))
    }

    /// The registry writes its families and series in hash order, which changes from run to
    /// run; the exposition is put in a fixed order: families by name, series by labels, a
    /// histogram's buckets in their own (ascending) order.
    static func ordered(_ exposition: String) -> String {
        var families: [(name: Substring, lines: [Substring])] = []
        for line in exposition.split(separator: "\n") {
            if line.hasPrefix("# TYPE ") || line.hasPrefix("# HELP ") {
                let name = line.split(separator: " ")[2]
                if families.last?.name != name { families.append((name, [])) }
                families[families.count - 1].lines.append(line)
            } else if !families.isEmpty {
                families[families.count - 1].lines.append(line)
            }
        }
        families.sort { $0.name < $1.name }
        var text = ""
        for family in families {
            let comments = family.lines.filter { $0.hasPrefix("#") }
            let samples = family.lines.filter { !$0.hasPrefix("#") }.enumerated().sorted { a, b in
                let (keyA, keyB) = (seriesKey(a.element), seriesKey(b.element))
                return keyA != keyB ? keyA < keyB : a.offset < b.offset
            }
            for line in comments + samples.map(\.element) { text += line + "\n" }
        }
        return text
    }

    /// A sample line's series without its `le` label (so a histogram's buckets stay together).
    private static func seriesKey(_ line: Substring) -> String {
        let series = line.split(separator: " ").first.map(String.init) ?? ""
        guard let le = series.range(of: #"le="[^"]*",?"#, options: .regularExpression) else { return series }
        return series.replacingCharacters(in: le, with: "")
    }
}
