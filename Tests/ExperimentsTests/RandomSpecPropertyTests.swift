import ConfigSchema
import Foundation
import Testing
@testable import Experiments
import GatewaySim
import RoutingCore

/// Writes random valid specs, as YAML, covering every section a user writes: providers with
/// health states and limits, pools (some autoscaling), routes with every balancing, backoff,
/// retry-budget and fallback kind, hedging and timeouts, breakers, teams with every arrival
/// kind, SDK retries and budgets, and degradation processes of several kinds.
struct RandomSpecWriter {
    var generator: SplitMix64

    mutating func below(_ n: Int) -> Int { Int(generator.next() % UInt64(n)) }
    mutating func chance(_ p: Double) -> Bool { generator.unitIntervalDraw() < p }
    mutating func uniform(_ low: Double, _ high: Double) -> Double { low + (high - low) * generator.unitIntervalDraw() }
    mutating func pick<T>(_ items: [T]) -> T { items[below(items.count)] }
    mutating func number(_ low: Double, _ high: Double) -> String { String(format: "%.3f", uniform(low, high)) }

    mutating func spec(name: String) -> String {
        let providers = (0..<(1 + below(3))).map { "p\($0)" }
        let pools = (0..<below(3)).map { "g\($0)" }
        var text =
            "name: \(name)\nrun: {duration_s: \(60 + below(240)), warmup_s: \(below(20)), replications: 2, seed: \(below(1_000)), bucket_s: 30}\n"
        text += "providers:\n"
        for provider in providers {
            let errors = pick(["overloaded_529", "server_error_5xx", "rate_limited_429", "timeout", "failed_after_first_byte", "connection_error"])
            text += "  \(provider):\n    concurrency: \(1 + below(20))\n    queue: \(below(40))\n"
            text += "    ttft_s: {lognormal: {median: \(number(0.1, 1)), p99: \(number(2, 8))}}\n"
            text +=
                "    output_tokens_per_s: "
                + (chance(0.5) ? "{constant: \(number(20, 200))}" : "{normal: {mean: \(number(50, 150)), sd: \(number(1, 20)), lower: 10}}") + "\n"
            text += "    input_usd_per_mtok: \(number(0.1, 5))\n    output_usd_per_mtok: \(number(1, 20))\n"
            if chance(0.3) { text += "    rpm: \(60 + below(2_000))\n" }
            text += "    hang_s: \(number(5, 60))\n"
            text += "    states:\n      bad: {errors: {\(errors): \(number(0.1, 1))}, latency_x: \(number(1, 3)), capacity: \(number(0.2, 1))}\n"
        }
        if !pools.isEmpty {
            text += "pools:\n"
            for pool in pools {
                text +=
                    "  \(pool): {replicas: \(1 + below(3)), concurrency_per_replica: \(1 + below(8)), queue: \(below(16)), replica_output_tokens_per_s: \(number(200, 2_000)), ttft_s: {constant: \(number(0.05, 1))}, gpus_per_replica: \(1 + below(4)), gpu_usd_per_hour: \(number(1, 5))"
                if chance(0.4) {
                    text +=
                        ", autoscaling: {max_replicas: \(4 + below(3)), spin_up_s: \(number(5, 60)), scale_up_queue: \(1 + below(5)), scale_down_idle_s: \(number(10, 120))}"
                }
                text += "}\n"
            }
        }
        text +=
            "gateway:\n  breaker: "
            + pick([
                "none", "litellm_cooldown", "{consecutive_failures: \(1 + below(6)), open_s: \(number(1, 30))}",
                "{failure_rate: \(number(0.2, 0.9)), window_s: 10, minimum_requests: \(1 + below(20))}",
            ]) + "\n"
        if chance(0.3) { text += "  outlier_detection: {consecutive_failures: \(1 + below(5))}\n" }
        let routes = (0..<(1 + below(2))).map { "r\($0)" }
        text += "routes:\n"
        for route in routes {
            var shuffled = providers
            shuffled.shuffle(using: &generator)
            let split = 1 + below(shuffled.count)
            let tiers = [Array(shuffled[..<split]), Array(shuffled[split...])].filter { !$0.isEmpty }
            let chain = tiers.map { tier -> String in
                let names = "[" + tier.joined(separator: ", ") + "]"
                switch below(4) {
                case 0: return names
                case 1: return "{targets: \(names), balancing: least_outstanding}"
                case 2: return "{targets: \(names), balancing: lowest_latency}"
                default: return "{targets: \(names), balancing: cost_aware, latency_bound_s: \(number(1, 10))}"
                }
            }
            text += "  \(route):\n    chain: [\(chain.joined(separator: ", "))]\n"
            let backoff = pick(["none", "exponential", "full_jitter", "equal_jitter", "decorrelated_jitter"])
            let backoffText = backoff == "none" ? "{kind: none}" : "{kind: \(backoff), base_s: 0.1, cap_s: 2}"
            text += "    retry: {max_attempts: \(1 + below(4)), backoff: \(backoffText), honour_retry_after: \(chance(0.5))}\n"
            text += "    retry_budget: {kind: \(pick(["finagle", "grpc", "adaptive_throttling", "unlimited"]))}\n"
            if chance(0.3) {
                text += "    hedging: " + (chance(0.5) ? "{after_s: \(number(0.5, 5))}" : "{latency_percentile: 90, minimum_samples: 10}") + "\n"
            }
            if chance(0.5) { text += "    timeouts: {first_token_s: \(number(1, 10)), overall_s: \(number(20, 120))}\n" }
            if !pools.isEmpty && chance(0.7) {
                let policy = pick(["when_frontier_unhealthy", "spillover, above_concurrency: \(1 + below(10))", "when_queue_fits"])
                text +=
                    "    fallback: {pools: [\(pools.shuffled(using: &generator).prefix(1 + below(pools.count)).joined(separator: ", "))], policy: \(policy)}\n"
            }
            if chance(0.3) { text += "    max_concurrency: \(5 + below(50))\n    shedding: [{tier: 1, above_utilization: \(number(0.3, 0.9))}]\n" }
        }
        text += "teams:\n"
        for team in (0..<(1 + below(3))).map({ "t\($0)" }) {
            let arrivals = pick([
                "{poisson: {rate_per_s: \(number(0.5, 6))}}",
                "{diurnal: {segments: [{duration_s: 40, rate_per_s: \(number(0.5, 5))}, {duration_s: 20, rate_per_s: 0}], repeat: true}}",
                "{mmpp: {rates_per_s: [\(number(0.5, 2)), \(number(3, 8))], mean_sojourn_s: [30, 10]}}",
            ])
            text += "  \(team):\n    tier: \(below(3))\n    route: \(pick(routes))\n    arrivals: \(arrivals)\n"
            text +=
                "    input_tokens: {lognormal: {median: \(number(100, 2_000)), p99: \(number(3_000, 9_000))}}\n    output_tokens: {constant: \(20 + below(500))}\n"
            text += "    sdk_retries: \(below(3))\n"
            if chance(0.3) { text += "    budget: {usd: \(number(0.01, 2)), period_s: 60, mode: \(pick(["hard_stop", "alert_only"]))}\n" }
        }
        var processes: [String] = []
        for provider in providers where chance(0.5) {
            processes.append(
                "  - name: \(provider)-outages\n    two_state: {provider: \(provider), mtbf_s: \(number(20, 200)), mttr_s: \(number(5, 60)), down_state: bad}\n"
            )
        }
        if chance(0.5) {
            let provider = pick(providers)
            processes.append("  - name: scripted\n    script: [{provider: \(provider), from: \(below(30)), to: \(30 + below(30)), state: bad}]\n")
        }
        if chance(0.4) {
            processes.append(
                "  - name: shocks\n    common_shock: {down_state: bad, shocks: [{providers: [\(providers.joined(separator: ", "))], rate_per_s: \(number(0.01, 0.05)), repair_s: {constant: \(number(5, 30))}}]}\n"
            )
        }
        if chance(0.3) {
            processes.append(
                "  - name: incidents\n    hawkes: {providers: [\(pick(providers))], base_rate_per_s: \(number(0.005, 0.02)), excitation: \(number(0, 0.5)), decay_per_s: 1, repair_s: {constant: \(number(2, 20))}, down_state: bad}\n"
            )
        }
        if !processes.isEmpty { text += "degradation:\n" + processes.joined() }
        return text
    }
}

@Suite("Random valid specs")
struct RandomSpecPropertyTests {
    /// 24 specs from a fixed seed: each must load, run both replications without a trap, end
    /// every request it counted (successes + failures = arrivals after the drain), and write the
    /// same table bytes with one thread and with two.
    @Test("every random valid spec runs, conserves requests, and writes the same bytes whatever --jobs is")
    func randomSpecs() throws {
        var writer = RandomSpecWriter(generator: SplitMix64(seed: 20_261_126))
        for index in 0..<24 {
            let text = writer.spec(name: "random-\(index)")
            let directory = try specDirectory(["spec.yaml": text])
            let experiment: ExperimentSpec
            do {
                experiment = try ExperimentSpec(decoding: try SpecDocument.load(path: directory + "/spec.yaml"))
            } catch {
                Issue.record("spec \(index) was refused: \(error)\n\(text)")
                continue
            }
            let serial = try Experiment.simulate([experiment], jobs: 1, progress: nil)[0]
            let parallel = try Experiment.simulate([experiment], jobs: 2, progress: nil)[0]
            for result in serial {
                for team in result.teams {
                    #expect(team.unfinished == 0, "spec \(index), \(team.name)\n\(text)")
                    #expect(team.succeeded + team.failed == team.requests, "spec \(index), \(team.name)\n\(text)")
                }
            }
            let one = RunTables(reports: [ExperimentReport(spec: experiment, results: serial)])
            let two = RunTables(reports: [ExperimentReport(spec: experiment, results: parallel)])
            #expect(
                one.summaryCSV == two.summaryCSV && one.perTeamCSV == two.perTeamCSV && one.perProviderCSV == two.perProviderCSV
                    && one.timeSeriesCSV == two.timeSeriesCSV && one.providerTimeSeriesCSV == two.providerTimeSeriesCSV, "spec \(index)")
        }
    }
}
