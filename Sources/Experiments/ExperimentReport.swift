import Foundation
import GatewaySim
import RoutingCore
import SimulationKernel
import Stochastics

/// The tables of a run, computed from its replications: `summary.csv`, `per_team.csv`,
/// `per_provider.csv`, `timeseries.csv`, and the plain-language summary.
public struct ExperimentReport {
    public let spec: ExperimentSpec
    public let results: [ReplicationResult]
    /// The variant these results belong to (`baseline` for the spec as written).
    public let variant: String
    let failureLabels: [String]

    static let percentiles: [(String, Double)] = [("p50", 50), ("p90", 90), ("p99", 99), ("p999", 99.9)]

    /// - Parameter failureLabels: the failure labels to report (pass the union over all
    ///   variants so that every variant has the same rows); nil: those seen here.
    public init(spec: ExperimentSpec, results: [ReplicationResult], variant: String = "baseline", failureLabels: [String]? = nil) {
        self.spec = spec
        self.results = results
        self.variant = variant
        self.failureLabels = failureLabels ?? ExperimentReport.failureLabels(in: results)
    }

    /// Every failure label seen in `results`, sorted.
    public static func failureLabels(in results: [ReplicationResult]) -> [String] {
        Set(results.flatMap { $0.teams.flatMap { $0.failures.keys } }).sorted()
    }

    // MARK: Metrics per replication

    /// (scope, metric, value) for one replication, in a fixed order.
    func metrics(_ result: ReplicationResult) -> [(String, String, Double)] {
        var rows: [(String, String, Double)] = []
        var all = TeamMetrics(name: "all")
        var allSpend = TeamSpend()
        for (index, team) in result.teams.enumerated() {
            let spendIndex = spec.world.router.teams.firstIndex { $0.name == team.name } ?? index
            let spend = result.ledger.teams[spendIndex]
            rows += teamRows(team, spend: spend, scope: team.name)
            all.absorb(team)
            allSpend.add(spend)
        }
        rows += teamRows(all, spend: allSpend, scope: "all")
        rows.append(("all", "breaker_openings", Double(result.breakerOpenings.reduce(0, +))))
        for index in result.upstreams.indices {
            let scope = (index < spec.world.providers.count ? "provider:" : "pool:") + result.upstreams[index].name
            rows += upstreamValues(result, index).map { (scope, $0.0, $0.1) }
        }
        return rows
    }

    /// Metrics bounded to [0, 1]: their intervals are cut to it.
    static let proportionMetrics: Set<String> = ["availability", "degraded_share", "utilisation", "degraded_time_share"]

    /// One provider's or pool's metrics in one replication (`per_provider.csv`'s columns after
    /// `kind`, and the `provider:NAME` and `pool:NAME` scopes of summary.csv).
    func upstreamValues(_ result: ReplicationResult, _ index: Int) -> [(String, Double)] {
        let metrics = result.upstreams[index]
        let pool = index >= spec.world.providers.count ? spec.world.pools[index - spec.world.providers.count] : nil
        let target = spec.world.router.targets.firstIndex { $0.name == metrics.name }
        let end = result.endNanoseconds
        let servers = pool.map { metrics.replicas.average(at: end) * Double($0.maxConcurrencyPerReplica) } ?? Double(metrics.capacity)
        let totalStateTime = Double(metrics.timeInState.reduce(0, +))
        let gpuHours = pool.map { ExperimentReport.gpuHours(metrics, of: $0, in: result) } ?? 0
        // In the order of `upstreamMetricNames`.
        let values =
            [
                Double(metrics.offered),
                Double(metrics.accepted),
                metrics.busy.average(at: end) / max(1, servers),
                metrics.queueLength.average(at: end),
                metrics.waits.count > 0 ? metrics.waits.mean : 0,
                totalStateTime > 0 ? 1 - Double(metrics.timeInState[0]) / totalStateTime : 0,
                target.map { Double(result.breakerOpenings[$0]) } ?? 0,
                pool == nil ? 0 : metrics.replicas.average(at: end),
                gpuHours,
                gpuHours * (pool?.gpuPricePerHour ?? 0),
            ] + Self.errorClasses.map { Double(metrics.errors[$0] ?? 0) }
        precondition(values.count == Self.upstreamMetricNames.count, "upstreamValues and upstreamMetricNames disagree")
        return Array(zip(Self.upstreamMetricNames, values))
    }

    private func teamRows(_ team: TeamMetrics, spend: TeamSpend, scope: String) -> [(String, String, Double)] {
        var rows: [(String, String, Double)] = [
            (scope, "requests", Double(team.requests)),
            (scope, "availability", team.availability),
            (scope, "degraded_share", team.succeeded > 0 ? Double(team.succeededFallback) / Double(team.succeeded) : 0),
            (scope, "succeeded_frontier", Double(team.succeededFrontier)),
            (scope, "succeeded_fallback", Double(team.succeededFallback)),
        ]
        for label in failureLabels { rows.append((scope, "failed_\(label)", Double(team.failures[label] ?? 0))) }
        rows.append((scope, "latency_mean_s", team.totalLatency.meanSeconds))
        for (name, p) in Self.percentiles { rows.append((scope, "latency_\(name)_s", team.totalLatency.seconds(atPercentile: p))) }
        rows.append((scope, "first_token_mean_s", team.firstTokenLatency.meanSeconds))
        for (name, p) in Self.percentiles { rows.append((scope, "first_token_\(name)_s", team.firstTokenLatency.seconds(atPercentile: p))) }
        rows += [
            (scope, "attempts_per_request", team.attempts.count > 0 ? team.attempts.mean : 0),
            (scope, "hedges", Double(team.hedges)),
            (scope, "sdk_retries", Double(team.sdkRetries)),
            (scope, "cost_successful_usd", spend.successfulUSD),
            (scope, "cost_retried_usd", spend.retriedUSD),
            (scope, "cost_wasted_usd", spend.wastedUSD),
            (scope, "cost_fallback_gpu_usd", spend.fallbackUSD),
            (scope, "fallback_gpu_seconds", spend.fallbackGPUSeconds),
            (scope, "cost_bypass_usd", spend.bypassUSD),
            (scope, "cost_total_usd", spend.totalUSD),
        ]
        return rows
    }

    /// Mean and 95% interval of every metric over the replications, in metric order.
    func summary() -> [(scope: String, metric: String, interval: MeanInterval)] {
        let perReplication = results.map(metrics)
        guard let first = perReplication.first else { return [] }
        return first.indices.map { index in
            let interval = MeanInterval(perReplication.map { $0[index].2 })
            let metric = first[index].1
            return (first[index].0, metric, Self.proportionMetrics.contains(metric) ? interval.bounded(to: 0...1) : interval)
        }
    }

    // MARK: Tables

    static let summaryHeader = ["variant", "scope", "metric", "mean", "ci95_low", "ci95_high", "n"]

    func summaryRows() -> [[String]] {
        summary().map { row in
            [
                variant, row.scope, row.metric, CSVTable.number(row.interval.mean), CSVTable.number(row.interval.lower),
                CSVTable.number(row.interval.upper), String(row.interval.count),
            ]
        }
    }

    static let perTeamHeader = [
        "variant", "team", "tier", "requests", "availability", "slo_availability", "slo_availability_met", "latency_slo_percentile",
        "latency_at_slo_percentile_s", "slo_latency_s", "slo_latency_met", "spend_successful_usd", "spend_retried_usd",
        "spend_wasted_usd", "fallback_gpu_seconds", "fallback_gpu_usd", "bypass_usd", "total_usd",
        "budget_usd", "budget_period_s",
    ]

    func perTeamRows() -> [[String]] {
        let rows = summary()
        func mean(_ scope: String, _ metric: String) -> Double { rows.first { $0.scope == scope && $0.metric == metric }?.interval.mean ?? 0 }
        var table: [[String]] = []
        for team in spec.world.teams {
            let tier = spec.world.router.teams.first { $0.name == team.name }?.tier ?? 0
            let latencies = results.map { result in
                result.teams.first { $0.name == team.name }?.totalLatency.seconds(atPercentile: team.sloLatencyPercentile) ?? 0
            }
            let latency = MeanInterval(latencies).mean
            let availability = mean(team.name, "availability")
            let budget = spec.world.router.budgets.first { $0.scope == .team(team.name) }
            table.append([
                variant, team.name, String(tier), CSVTable.number(mean(team.name, "requests")), CSVTable.number(availability),
                CSVTable.number(team.sloAvailability), availability >= team.sloAvailability ? "true" : "false",
                CSVTable.number(team.sloLatencyPercentile), CSVTable.number(latency), CSVTable.number(team.sloLatencySeconds),
                latency <= team.sloLatencySeconds ? "true" : "false",
                CSVTable.number(mean(team.name, "cost_successful_usd")), CSVTable.number(mean(team.name, "cost_retried_usd")),
                CSVTable.number(mean(team.name, "cost_wasted_usd")), CSVTable.number(mean(team.name, "fallback_gpu_seconds")),
                CSVTable.number(mean(team.name, "cost_fallback_gpu_usd")), CSVTable.number(mean(team.name, "cost_bypass_usd")),
                CSVTable.number(mean(team.name, "cost_total_usd")),
                budget.map { CSVTable.number($0.limitUSD) } ?? "", budget.map { CSVTable.number($0.period.nominalSeconds) } ?? "",
            ])
        }
        return table
    }

    static let errorClasses = OutcomeClass.failures
    /// Each provider's and pool's metrics, in the order ``upstreamValues(_:_:)`` gives them.
    static let upstreamMetricNames =
        [
            "offered", "accepted", "utilisation", "mean_queue_length", "mean_wait_s", "degraded_time_share",
            "breaker_openings", "replicas_mean", "gpu_hours", "gpu_usd",
        ] + errorClasses.map { "errors_\($0.rawValue)" }
    static let perProviderHeader = ["variant", "upstream", "kind"] + upstreamMetricNames

    func perProviderRows() -> [[String]] {
        var table: [[String]] = []
        let count = results.first?.upstreams.count ?? 0
        for index in 0..<count {
            let perReplication = results.map { upstreamValues($0, index) }
            let kind = index < spec.world.providers.count ? "provider" : "pool"
            var fields = [variant, results[0].upstreams[index].name, kind]
            for column in perReplication[0].indices {
                fields.append(CSVTable.number(MeanInterval(perReplication.map { $0[column].1 }).mean))
            }
            table.append(fields)
        }
        return table
    }

    static let timeSeriesHeader = ["variant", "bucket_start_s", "team", "requests", "succeeded", "succeeded_fallback", "failed"]

    /// How many buckets the time series have: every bucket to the end of the run (quiet ones
    /// at the end included), the last one holding the whole drain after the horizon.
    var bucketCount: Int {
        let toEnd =
            results.map { result in
                result.window.bucketIndex(at: max(0, result.endNanoseconds - 1)) + 1
            }.max() ?? 0
        return max(toEnd, results.flatMap { $0.timeSeries.map(\.requests.count) }.max() ?? 0)
    }

    /// Replication means per bucket and team.
    func timeSeriesRows() -> [[String]] {
        var table: [[String]] = []
        let bucketSeconds = spec.world.bucketSeconds
        let length = bucketCount
        for (teamIndex, team) in spec.world.teams.enumerated() {
            let series = results.map { $0.timeSeries[teamIndex] }
            let n = Double(max(1, results.count))
            for bucket in 0..<length {
                func mean(_ pick: (TimeBuckets) -> [Int]) -> String {
                    CSVTable.number(series.reduce(0.0) { total, s in total + Double(bucket < pick(s).count ? pick(s)[bucket] : 0) } / n)
                }
                table.append([
                    variant, CSVTable.number(Double(bucket) * bucketSeconds), team.name, mean(\.requests), mean(\.succeeded), mean(\.fallback),
                    mean(\.failed),
                ])
            }
        }
        return table
    }

    static let providerTimeSeriesHeader = ["variant", "bucket_start_s", "upstream", "kind", "degraded_share"]

    /// Replication means per bucket and provider: the share of the bucket the provider spent
    /// outside its healthy state. Pools have no health states and are not listed. The buckets
    /// are those of `timeseries.csv`.
    func providerTimeSeriesRows() -> [[String]] {
        var table: [[String]] = []
        let bucketSeconds = spec.world.bucketSeconds
        let length = bucketCount
        let n = Double(max(1, results.count))
        for (index, provider) in spec.world.providers.enumerated() {
            for bucket in 0..<length {
                let share =
                    results.reduce(0.0) { total, result in
                        let metrics = result.upstreams[index]
                        let degraded = bucket < metrics.degradedPerBucket.count ? metrics.degradedPerBucket[bucket] : 0
                        return total + Double(degraded) / Double(metrics.bucketNanoseconds)
                    } / n
                table.append([variant, CSVTable.number(Double(bucket) * bucketSeconds), provider.name, "provider", CSVTable.number(share)])
            }
        }
        return table
    }

    /// One paragraph for a person: availability per team, degraded share, cost, the worst window.
    public func plainSummary() -> String {
        let rows = summary()
        func interval(_ scope: String, _ metric: String) -> MeanInterval? { rows.first { $0.scope == scope && $0.metric == metric }?.interval }
        var sentences: [String] = []
        for team in spec.world.teams {
            guard let availability = interval(team.name, "availability"), let degraded = interval(team.name, "degraded_share"),
                let p99 = interval(team.name, "latency_p99_s")
            else { continue }
            let met = availability.mean >= team.sloAvailability ? "meets" : "misses"
            sentences.append(
                String(
                    format:
                        "%@ was %.3f%% available (95%% interval %.3f–%.3f%%; %@ its %.2f%% SLO), %.1f%% served degraded by local fallback, p99 latency %.1f s.",
                    team.name, availability.mean * 100, availability.lower * 100, availability.upper * 100, met, team.sloAvailability * 100,
                    degraded.mean * 100, p99.mean))
        }
        if let total = interval("all", "cost_total_usd"), let retried = interval("all", "cost_retried_usd"),
            let wasted = interval("all", "cost_wasted_usd"),
            let gpu = interval("all", "cost_fallback_gpu_usd")
        {
            sentences.append(
                String(
                    format: "Spend was $%.2f per run (±%.2f): $%.2f on retries that then succeeded, $%.2f wasted, $%.2f of it local GPU time.",
                    total.mean, total.halfWidth, retried.mean, wasted.mean, gpu.mean))
        }
        if !spec.world.pools.isEmpty {
            let poolCost = MeanInterval(
                results.map { result in
                    spec.world.pools.indices.reduce(0.0) { total, index in
                        let pool = spec.world.pools[index]
                        let metrics = result.upstreams[spec.world.providers.count + index]
                        return total + ExperimentReport.gpuHours(metrics, of: pool, in: result) * pool.gpuPricePerHour
                    }
                })
            sentences.append(String(format: "Keeping the local pools online cost $%.2f in GPU time, busy or idle.", poolCost.mean))
        }
        if let worst = worstWindow() {
            sentences.append(
                String(
                    format: "The worst %.0f-second window began at %@, with %.1f%% of requests answered.",
                    spec.world.bucketSeconds, clock(worst.start), worst.availability * 100))
        }
        let title = variant == "baseline" ? spec.name : "\(spec.name) [\(variant)]"
        return "\(title), \(results.count) replications: " + sentences.joined(separator: " ")
    }

    /// GPU-hours a pool was online (busy or idle) over a replication of `end` nanoseconds.
    /// A pool's GPU-hours over the measured window (after the warm-up, to the end of the run).
    static func gpuHours(_ metrics: UpstreamMetrics, of pool: FallbackPoolSpec, in result: ReplicationResult) -> Double {
        gpuHours(replicasAverage: metrics.replicas.average(at: result.endNanoseconds), of: pool, measuredNanoseconds: result.measuredNanoseconds)
    }

    /// GPU hours of a pool that averaged `replicasAverage` replicas over the measured time.
    static func gpuHours(replicasAverage: Double, of pool: FallbackPoolSpec, measuredNanoseconds: Int64) -> Double {
        replicasAverage * Double(measuredNanoseconds) / 3.6e12 * Double(pool.gpusPerReplica)
    }

    func worstWindow() -> (start: Double, availability: Double)? {
        var worst: (Double, Double)?
        let length = results.flatMap { $0.timeSeries.map(\.requests.count) }.max() ?? 0
        for bucket in 0..<length {
            var succeeded = 0, failed = 0
            for result in results {
                for series in result.timeSeries where bucket < series.succeeded.count {
                    succeeded += series.succeeded[bucket]
                    failed += series.failed[bucket]
                }
            }
            guard succeeded + failed >= 10 else { continue }
            let availability = Double(succeeded) / Double(succeeded + failed)
            if worst == nil || availability < worst!.1 { worst = (Double(bucket) * spec.world.bucketSeconds, availability) }
        }
        return worst
    }

    /// Run time as HH:MM:SS, or the time of day HH:MM when the spec says when the run starts.
    private func clock(_ seconds: Double) -> String {
        if let start = spec.startOfDaySeconds {
            let total = Int((start + seconds).truncatingRemainder(dividingBy: 86_400))
            return String(format: "%02d:%02d", total / 3_600, total / 60 % 60)
        }
        let total = Int(seconds)
        return String(format: "%02d:%02d:%02d", total / 3_600, total / 60 % 60, total % 60)
    }
}
