import Foundation
import GatewaySim
import RoutingCore
import SimulationKernel
import Stochastics

/// Finds the smallest local pool (in replicas) that meets every SLO at a confidence level,
/// judged by the interval's bound rather than the mean. Sizes are fixed pools: autoscaling
/// is switched off while sizing.
///
/// Every size runs the same replications with the same seed (common random numbers), so
/// sizes differ only by the pool. A size is tested sequentially (``SequentialLooks``): its
/// intervals are read at the spec's replications, then at twice and four times as many, and
/// the test stops at the first look that decides every SLO, the confidence spent over the
/// looks so that the verdict holds at the stated confidence. ``SizeSearch`` walks the sizes:
/// first looks up from the pool's size to one that meets the SLOs, thorough tests below it,
/// then the neighbour above the answer.
public enum FallbackSizing {
    /// `team.metric>=value` or `team.metric<=value` (team may be `all`).
    public struct Objective: Sendable, Equatable {
        public let scope: String
        public let metric: String
        public let atLeast: Bool
        public let value: Double
        public let text: String

        public init(parsing text: String, teams: [String]) throws(ExperimentFailure) {
            let op = text.contains(">=") ? ">=" : (text.contains("<=") ? "<=" : "")
            guard !op.isEmpty, let range = text.range(of: op) else {
                throw ExperimentFailure("--slo must be team.metric>=value or team.metric<=value (e.g. search.availability>=0.999), got '\(text)'")
            }
            let left = text[..<range.lowerBound]
            guard let dot = left.firstIndex(of: "."), let value = Double(text[range.upperBound...].trimmingCharacters(in: .whitespaces)) else {
                throw ExperimentFailure("--slo must be team.metric>=value or team.metric<=value (e.g. search.availability>=0.999), got '\(text)'")
            }
            let scope = String(left[..<dot]).trimmingCharacters(in: .whitespaces)
            let metric = String(left[left.index(after: dot)...]).trimmingCharacters(in: .whitespaces)
            guard scope == "all" || teams.contains(scope) else {
                throw ExperimentFailure("--slo \(text): unknown team '\(scope)'; teams: \(teams.joined(separator: ", ")), or all")
            }
            guard FallbackSizing.metrics.contains(metric) || metric.hasPrefix("failed_") else {
                var message = "--slo \(text): unknown metric '\(metric)'"
                if let suggestion = NameSuggestion.closest(to: metric, in: FallbackSizing.metrics) { message += "; did you mean '\(suggestion)'?" }
                throw ExperimentFailure(message + " Metrics: \(FallbackSizing.metrics.joined(separator: ", "))")
            }
            self.scope = scope
            self.metric = metric
            self.atLeast = op == ">="
            self.value = value
            self.text = text
        }

        func met(by interval: MeanInterval) -> Bool? {
            if atLeast {
                if interval.lower >= value { return true }
                if interval.upper < value { return false }
            } else {
                if interval.upper <= value { return true }
                if interval.lower > value { return false }
            }
            return nil
        }
    }

    /// The metrics an SLO may name (plus `failed_<label>`).
    public static let metrics = [
        "requests", "availability", "degraded_share", "succeeded_frontier", "succeeded_fallback",
        "latency_p50_s", "latency_p90_s", "latency_p99_s", "latency_p999_s",
        "first_token_p50_s", "first_token_p90_s", "first_token_p99_s", "first_token_p999_s",
        "attempts_per_request", "hedges", "sdk_retries", "cost_successful_usd", "cost_retried_usd", "cost_wasted_usd",
        "cost_fallback_gpu_usd", "fallback_gpu_seconds", "cost_bypass_usd", "cost_total_usd", "breaker_openings",
    ]

    public enum Goal: String, Sendable, CaseIterable {
        /// The fewest replicas that meet the SLOs.
        case smallest
        /// Among sizes that meet the SLOs, the least pool GPU cost plus spend over the run.
        case cheapest
    }

    struct Evaluation {
        let size: Int
        let replications: Int
        /// The confidence of its look's intervals (``SequentialLooks``).
        let confidence: Double
        let intervals: [MeanInterval]
        let verdicts: [Bool?]
        let runCostUSD: Double
        var meets: Bool { verdicts.allSatisfy { $0 == true } }
        /// Whether the SLOs are decided: all met, or one missed.
        var decided: Bool { meets || verdicts.contains(false) }
    }

    /// What the search reads of one replication at one pool size: each SLO's value and the
    /// run's cost (the pool's GPU time and the frontier spend), and whether the pool's size
    /// mattered in it.
    struct ReplicationFigures: Sendable {
        let sloValues: [Double]
        private(set) var runCostUSD: Double
        private let frontierUSD: Double
        /// The pool's servers in the run, and the most attempts it held at once.
        private(set) var poolServers: Int
        private let poolPeakHeld: Int
        private let window: MeasurementWindow
        private let endNanoseconds: Int64

        /// `poolAbsent`: the run of size 0, the pool taken out of every route (``withoutPool(_:_:)``):
        /// it costs nothing, and the run answers for no other size.
        init(_ result: ReplicationResult, spec: ExperimentSpec, slos: [Objective], poolIndex: Int, poolAbsent: Bool = false) {
            // A replication's metrics do not depend on the others' (a failure label it did not
            // see reads as 0 here as in a report of many).
            let rows = ExperimentReport(spec: spec, results: [result]).metrics(result)
            sloValues = slos.map { slo in rows.first { $0.0 == slo.scope && $0.1 == slo.metric }?.2 ?? 0 }
            let poolSpec = spec.world.pools[poolIndex]
            let metrics = result.upstreams[spec.world.providers.count + poolIndex]
            frontierUSD = result.ledger.teams.reduce(0) { $0 + $1.frontierUSD }
            runCostUSD =
                poolAbsent ? frontierUSD : ExperimentReport.gpuHours(metrics, of: poolSpec, in: result) * poolSpec.gpuPricePerHour + frontierUSD
            poolServers = poolAbsent ? 0 : poolSpec.servers
            poolPeakHeld = metrics.peakHeld
            window = result.window
            endNanoseconds = result.endNanoseconds
        }

        /// This replication run with the pool at another size (`pool`: its spec at that size),
        /// when this run shows the size could not have mattered: the pool never held as many
        /// attempts as it had servers, here nor there, so no attempt waited or was turned away
        /// and the gateway never found it full (it never has more outstanding than the pool
        /// holds) — every event is the same, and so is every SLO figure (the sizes share their
        /// random numbers). Only the pool's GPU time differs: priced at the new size. Nil when
        /// the size may have mattered.
        func resized(to pool: FallbackPoolSpec) -> ReplicationFigures? {
            guard poolServers > 0, poolPeakHeld < poolServers, poolPeakHeld < pool.servers else { return nil }
            var figures = self
            figures.poolServers = pool.servers
            let replicas = UpstreamMetrics.fixedReplicasAverage(pool.replicas, window: window, at: endNanoseconds)
            figures.runCostUSD =
                ExperimentReport.gpuHours(replicasAverage: replicas, of: pool, measuredNanoseconds: endNanoseconds - window.warmUp)
                * pool.gpuPricePerHour
                + frontierUSD
            return figures
        }
    }

    /// The spec with pool `pool` taken out of every route (its fallbacks and context-window
    /// fallbacks): the size-0 pool, which serves nothing and costs nothing. Nil when a route's
    /// chain names the pool: without it those routes would be other routes, not the same ones
    /// with no pool, so the search does not consider 0.
    static func withoutPool(_ spec: ExperimentSpec, _ pool: String) -> ExperimentSpec? {
        var spec = spec
        for index in spec.world.router.routes.indices {
            var route = spec.world.router.routes[index]
            if route.chain.contains(where: { $0.targets.contains(pool) }) { return nil }
            route.contextWindowFallbacks.removeAll { $0 == pool }
            if var fallback = route.fallback {
                fallback.targets.removeAll { $0 == pool }
                route.fallback = fallback.targets.isEmpty ? nil : fallback
            }
            spec.world.router.routes[index] = route
        }
        return spec
    }

    /// Runs the search and writes `sizing.csv`; returns the answer and a sentence about it.
    public static func run(
        path: String, overrides: [String], pool: String, slos sloTexts: [String], maxReplicas: Int?, confidence: Double,
        goal: Goal, directory: String, jobs: Int, progress: (@Sendable (Int, Int) -> Void)?, reuseAcrossSizes: Bool = true
    ) throws(ExperimentFailure) -> String {
        let (document, base, _) = try Experiment.load(path: path, overrides: overrides)
        guard let poolIndex = base.world.pools.firstIndex(where: { $0.name == pool }) else {
            let pools = base.world.pools.map(\.name)
            throw ExperimentFailure(
                "--pool \(pool): no such pool; " + (pools.isEmpty ? "the spec has no pools" : "pools: \(pools.joined(separator: ", "))"))
        }
        guard !sloTexts.isEmpty else { throw ExperimentFailure("give at least one --slo team.metric>=value") }
        let slos = try sloTexts.map { (text) throws(ExperimentFailure) in try Objective(parsing: text, teams: base.world.teams.map(\.name)) }
        let current = base.world.pools[poolIndex].replicas
        let limit = maxReplicas ?? max(16, current * 4)
        guard limit >= current else { throw ExperimentFailure("--max \(limit) is below the pool's current size (\(current) replicas)") }
        guard confidence > 0 && confidence < 1 else { throw ExperimentFailure("--confidence must be in (0, 1), got \(confidence)") }

        let looks = SequentialLooks(first: base.replications, confidence: confidence).looks
        /// Size 0, when the pool is only ever a fallback.
        let withoutPool = Self.withoutPool(base, pool)
        let smallestSize = withoutPool == nil ? 1 : 0
        var evaluated: [Int: Evaluation] = [:]
        var specs: [Int: ExperimentSpec] = [:]
        var figures: [Int: [ReplicationFigures]] = [:]
        /// By replication: its runs simulated so far, at any size (``ReplicationFigures/resized(to:)``).
        var simulatedRuns: [[ReplicationFigures]] = []
        let started = ContinuousClock.now
        var simulatedReplications = 0
        var reusedReplications = 0
        /// The size's verdict after its first look, or (`thorough`) after as many looks as it
        /// takes; each look simulates only the replications it adds, and of those only the ones
        /// no run at another size already answers.
        func evaluate(_ size: Int, thorough: Bool) throws(ExperimentFailure) -> Evaluation {
            var look = evaluated[size].map { known in looks.firstIndex { $0.replications == known.replications }! + 1 } ?? 0
            if let known = evaluated[size], known.decided || !thorough || look == looks.count { return known }
            if specs[size] == nil {
                specs[size] =
                    size == 0
                    ? withoutPool
                    : try Experiment.load(
                        path: path, overrides: overrides + ["pools.\(pool).replicas=\(size)", "pools.\(pool).autoscaling.max_replicas=\(size)"]
                    ).1
            }
            var spec = specs[size]!
            let poolAtSize = spec.world.pools[poolIndex]
            var done = figures[size] ?? []
            var evaluation: Evaluation
            repeat {
                let target = looks[look]
                // Replication i is the same run at every count and, where the pool's size did not
                // matter in it, at every size: only the rest is simulated, each read once, on
                // the thread that simulated it.
                let fresh = done.count..<target.replications
                var answered: [Int: ReplicationFigures] = [:]
                if reuseAcrossSizes && size > 0 {
                    for index in fresh where index < simulatedRuns.count {
                        answered[index] = simulatedRuns[index].lazy.compactMap { $0.resized(to: poolAtSize) }.first
                    }
                }
                let missing = fresh.filter { answered[$0] == nil }
                let sized = spec
                let simulated = try Experiment.simulate(spec, replications: missing, jobs: jobs, progress: progress) { result in
                    ReplicationFigures(result, spec: sized, slos: slos, poolIndex: poolIndex, poolAbsent: size == 0)
                }
                for (index, run) in zip(missing, simulated) {
                    while simulatedRuns.count <= index { simulatedRuns.append([]) }
                    simulatedRuns[index].append(run)
                    answered[index] = run
                }
                done += fresh.map { answered[$0]! }
                simulatedReplications += missing.count
                reusedReplications += fresh.count - missing.count
                spec.replications = target.replications
                let intervals = slos.indices.map { slo in MeanInterval(done.map { $0.sloValues[slo] }, confidence: target.confidence) }
                evaluation = Evaluation(
                    size: size, replications: target.replications, confidence: target.confidence, intervals: intervals,
                    verdicts: zip(slos, intervals).map { $0.met(by: $1) }, runCostUSD: MeanInterval(done.map(\.runCostUSD)).mean)
                look += 1
            } while thorough && !evaluation.decided && look < looks.count
            // Kept only while a later look may still need them.
            figures[size] = evaluation.decided || look == looks.count ? nil : done
            evaluated[size] = evaluation
            return evaluation
        }

        var answer = try SizeSearch.smallest(start: current, lowest: smallestSize, limit: limit) {
            (size, thorough) throws(ExperimentFailure) -> Bool? in
            let evaluation = try evaluate(size, thorough: thorough)
            if evaluation.meets { return true }
            if evaluation.verdicts.contains(false) { return false }
            return thorough ? false : nil
        }
        // Monotonicity at the answer: the next size must meet too.
        if let found = answer, found + 1 <= limit { _ = try evaluate(found + 1, thorough: true) }
        if goal == .cheapest, let smallest = answer {
            for candidate in smallest...min(limit, max(1, smallest * 2)) { _ = try evaluate(candidate, thorough: true) }
            answer = evaluated.values.filter { $0.meets && $0.size >= smallest }.min { ($0.runCostUSD, $0.size) < ($1.runCostUSD, $1.size) }?.size
        }

        var table = CSVTable(
            header: ["replicas_in_pool", "replications", "look_confidence"]
                + slos.flatMap { ["\($0.text) mean", "\($0.text) ci_low", "\($0.text) ci_high", "\($0.text) met"] }
                + ["all_met", "run_cost_usd", "monthly_pool_gpu_usd"])
        let poolSpec = base.world.pools[poolIndex]
        let monthly: (Int) -> Double = { Double($0 * poolSpec.gpusPerReplica) * poolSpec.gpuPricePerHour * 730 }
        for evaluation in evaluated.values.sorted(by: { $0.size < $1.size }) {
            var row = [String(evaluation.size), String(evaluation.replications), CSVTable.number(evaluation.confidence)]
            for (interval, verdict) in zip(evaluation.intervals, evaluation.verdicts) {
                row += [
                    CSVTable.number(interval.mean), CSVTable.number(interval.lower), CSVTable.number(interval.upper),
                    verdict.map { $0 ? "true" : "false" } ?? "inconclusive",
                ]
            }
            row += [evaluation.meets ? "true" : "false", CSVTable.number(evaluation.runCostUSD), CSVTable.number(monthly(evaluation.size))]
            table.append(row)
        }
        let elapsed = started.duration(to: .now)
        let wall = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let url = URL(fileURLWithPath: directory)
        do {
            try AtomicOutput.prepare(directory: url)
            try AtomicOutput.write(table.text, to: url.appendingPathComponent("sizing.csv"))
            let manifest = SizingManifest(
                spec: base, specPath: path, document: document, looks: looks, pool: pool, slos: sloTexts, confidence: confidence,
                objective: goal.rawValue, answer: answer, maxReplicas: limit, smallestSizeConsidered: smallestSize,
                evaluations: evaluated.count,
                simulatedReplications: simulatedReplications, reusedReplications: reusedReplications, wallSeconds: wall)
            try AtomicOutput.write(manifest.json(), to: url.appendingPathComponent("sizing.json"))
        } catch {
            throw ExperimentFailure("\(url.path): could not write sizing.csv and sizing.json (\(error.localizedDescription))")
        }
        guard let answer else {
            return "No size up to \(limit) replicas meets every SLO at \(Int(confidence * 100))% confidence; see \(directory)/sizing.csv."
        }
        var tail = ""
        if let next = evaluated[answer + 1], !next.meets {
            tail += " Warning: \(answer + 1) \(answer + 1 == 1 ? "replica does" : "replicas do") not meet them (not monotone here; add replications)."
        }
        tail += " Evaluated: " + evaluated.keys.sorted().map(String.init).joined(separator: ", ") + "; see \(directory)/sizing.csv."
        if answer == 0 {
            return String(
                format: "No %@ pool is needed: with it taken out of every route, every SLO is met at %.0f%% confidence.", pool, confidence * 100)
                + tail
        }
        let gpus = answer * poolSpec.gpusPerReplica
        let sentence = String(
            format: "The %@ %@ pool that meets every SLO at %.0f%% confidence has %d %@ (%d %@): $%.0f a month in GPU time.",
            goal == .smallest ? "smallest" : "cheapest", pool, confidence * 100, answer, answer == 1 ? "replica" : "replicas",
            gpus, gpus == 1 ? "GPU" : "GPUs", monthly(answer))
        return sentence + tail
    }
}
