import ArgumentParser
import Foundation
import RoutingCore

/// `brownout-bench twin-spec --seed N`: one random, valid spec a live twin can run, printed
/// as YAML. The twin benchmark (`Benchmarks/twin-random`) and `make test` run specs from it
/// that nobody tuned the simulator on.
struct TwinSpecCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "twin-spec",
        abstract: "Print a random valid spec for `brownout twin`, covering the policies that change decisions.",
        discussion: """
            Every balancing kind, hedging by delay and by percentile, each retry target and retry-budget kind, \
            breakers and outlier detection, shedding, each fallback policy, budgets in each mode, SDK retries, \
            streamed and whole answers, idle limits, stream faults (stalls, malformed events, unterminated \
            streams) under each malformed-event policy, stream commit policies, context windows and their \
            fallbacks, and degradation \
            processes of several kinds; loads a 2-core machine sustains live at \
            the scale the spec's header comment names. The same seed prints the same bytes.
            """
    )

    @Option(help: "The spec's seed: it picks every choice, and is the spec's run seed too.")
    var seed: UInt64

    @Option(help: "Model seconds of the run, the first 60 of them warm-up (120 to 86400).")
    var duration: Int = 900

    func validate() throws {
        guard (120...86_400).contains(duration) else {
            throw ValidationError("--duration must be between 120 and 86400 seconds, got \(duration)")
        }
    }

    func run() throws {
        var writer = TwinSpecWriter(seed: seed)
        print(writer.spec(durationSeconds: duration), terminator: "")
    }
}

/// Writes one random twin-runnable spec. A live twin runs the real gateway and mock providers
/// on a scaled clock, so the spec keeps to what the twin can serve (no degradation of the
/// gateway itself) and to loads of a few requests a second, which 2 cores carry at 30×.
struct TwinSpecWriter {
    private var generator: SplitMix64
    let seed: UInt64

    init(seed: UInt64) {
        self.seed = seed
        generator = SplitMix64(seed: seed ^ 0x7715_5EED)
    }

    private mutating func below(_ n: Int) -> Int { Int(generator.next() % UInt64(n)) }
    private mutating func chance(_ p: Double) -> Bool { generator.unitIntervalDraw() < p }
    private mutating func uniform(_ low: Double, _ high: Double) -> Double { low + (high - low) * generator.unitIntervalDraw() }
    private mutating func pick<T>(_ items: [T]) -> T { items[below(items.count)] }
    private mutating func number(_ low: Double, _ high: Double, digits: Int = 2) -> String { String(format: "%.\(digits)f", uniform(low, high)) }

    mutating func spec(durationSeconds: Int) -> String {
        let providers = (0..<(2 + below(2))).map { "p\($0)" }
        let pools = chance(0.6) ? ["gpu"] : []
        var lines: [String] = []
        var features: [String] = []
        lines.append("name: twin-random-\(seed)")
        lines.append("run: {duration_s: \(durationSeconds), warmup_s: 60, replications: 20, seed: \(seed), bucket_s: 60}")

        lines.append("providers:")
        var windowless: [String] = []
        var windowed = false
        for provider in providers {
            let error = pick(["overloaded_529", "server_error_5xx", "rate_limited_429", "timeout", "failed_after_first_byte", "connection_error"])
            features.append("\(provider) bad: \(error)")
            var errors = "\(error): \(number(0.3, 0.6))"
            if chance(0.35) {
                let fault = pick(["stream_stall", "malformed_event", "unterminated_stream"])
                errors += ", \(fault): \(number(0.05, 0.3))"
                features.append("\(provider) bad: \(fault)")
            }
            lines.append("  \(provider):")
            lines.append("    concurrency: \(6 + below(25))")
            lines.append("    queue: \(below(20))")
            lines.append("    ttft_s: {lognormal: {median: \(number(0.3, 1.5)), p99: \(number(3, 8))}}")
            lines.append("    output_tokens_per_s: {constant: \(40 + below(80))}")
            lines.append("    input_usd_per_mtok: \(number(0.5, 5))")
            lines.append("    output_usd_per_mtok: \(number(2, 20))")
            lines.append("    hang_s: \(30 + below(30))")
            if chance(0.25) {
                lines.append("    context_window_tokens: \(1_000 + below(3_000))")
                features.append("\(provider) context window")
                windowed = true
            } else {
                windowless.append(provider)
            }
            lines.append("    states:")
            lines.append("      bad: {errors: {\(errors)}, latency_x: \(number(1, 3)), capacity: \(number(0.3, 1))}")
        }
        if !pools.isEmpty {
            lines.append("pools:")
            lines.append(
                "  gpu: {replicas: \(1 + below(2)), concurrency_per_replica: \(2 + below(5)), queue: \(below(10)), "
                    + "replica_output_tokens_per_s: \(500 + below(1_000)), ttft_s: {constant: \(number(0.1, 0.6))}, gpus_per_replica: 1, "
                    + "gpu_usd_per_hour: \(number(1, 4))}")
        }

        lines.append("gateway:")
        let breaker = pick([
            "none", "litellm_cooldown", "{consecutive_failures: \(2 + below(5)), open_s: \(5 + below(40))}",
            "{failure_rate: \(number(0.3, 0.8)), window_s: 20, minimum_requests: \(5 + below(15)), open_s: \(5 + below(40))}",
        ])
        lines.append("  breaker: \(breaker)")
        features.append("breaker \(breaker.hasPrefix("{consecutive") ? "consecutive" : breaker.hasPrefix("{failure") ? "failure_rate" : breaker)")
        if chance(0.3) {
            lines.append("  outlier_detection: {consecutive_failures: \(3 + below(5)), base_ejection_s: \(10 + below(30)), max_ejection_percent: 50}")
            features.append("outlier detection")
        }

        let routes = (0..<(1 + below(2))).map { "r\($0)" }
        lines.append("routes:")
        for route in routes {
            var shuffled = providers
            shuffled.shuffle(using: &generator)
            let split = 1 + below(shuffled.count)
            let tiers = [Array(shuffled[..<split]), Array(shuffled[split...])].filter { !$0.isEmpty }
            let chain = tiers.map { tier -> String in
                let names = "[" + tier.joined(separator: ", ") + "]"
                guard tier.count > 1 else { return names }
                let balancing = pick(LoadBalancing.Kind.allCases)
                features.append("\(route) \(balancing.rawValue)")
                switch balancing {
                case .weightedRandom:
                    return
                        "{targets: \(names), balancing: weighted_random, weights: [\(tier.map { _ in String(1 + below(4)) }.joined(separator: ", "))]}"
                case .costAware: return "{targets: \(names), balancing: cost_aware, latency_bound_s: \(number(1, 6))}"
                case .leastOutstanding, .lowestLatency: return "{targets: \(names), balancing: \(balancing.rawValue)}"
                }
            }
            lines.append("  \(route):")
            lines.append("    chain: [\(chain.joined(separator: ", "))]")
            let backoff = pick(["none", "exponential", "full_jitter", "equal_jitter", "decorrelated_jitter"])
            let backoffText = backoff == "none" ? "{kind: none}" : "{kind: \(backoff), base_s: \(number(0.1, 1)), cap_s: \(number(2, 8))}"
            let target = pick(RetryTarget.allCases)
            let sameRetries = target == .sameThenNext ? ", same_target_retries: \(below(3))" : ""
            lines.append(
                "    retry: {max_attempts: \(1 + below(4)), backoff: \(backoffText), honour_retry_after: \(chance(0.6)), target: \(target.rawValue)\(sameRetries)}"
            )
            features.append("\(route) retry \(target.rawValue)")
            let budget = pick(RetryBudgetConfig.Kind.allCases)
            lines.append("    retry_budget: {kind: \(budget.rawValue)}")
            features.append("\(route) retry budget \(budget.rawValue)")
            if chance(0.4) {
                let hedging = chance(0.5) ? "{after_s: \(number(0.8, 4))}" : "{latency_percentile: \(pick([75, 90, 95])), minimum_samples: 20}"
                lines.append("    hedging: \(hedging)")
                features.append("\(route) hedging \(hedging.contains("after_s") ? "by delay" : "by percentile")")
            }
            if chance(0.6) {
                // An idle limit of 5 s or more: a sixth of a second live at 30×, well above the
                // twin's timer jitter.
                let idle = chance(0.5) ? ", idle_s: \(number(5, 15))" : ""
                lines.append("    timeouts: {first_token_s: \(number(2, 8)), per_try_s: \(20 + below(40)), overall_s: \(80 + below(100))\(idle)}")
                features.append("\(route) timeouts" + (idle.isEmpty ? "" : " with idle"))
            }
            if chance(0.3) {
                lines.append("    on_malformed_event: fail")
                features.append("\(route) fails on malformed events")
            }
            if chance(0.25) {
                let commit = pick(["{after_s: \(number(1, 4))}", "{after_tokens: \(10 + below(60))}", "{complete: true}"])
                lines.append("    stream_commit: \(commit)")
                features.append(
                    "\(route) stream commit \(commit.contains("complete") ? "complete" : commit.contains("after_s") ? "by time" : "by tokens")")
            }
            if windowed && !windowless.isEmpty && chance(0.6) {
                lines.append("    context_window_fallbacks: [\(pick(windowless))]")
                features.append("\(route) context-window fallback")
            }
            if !pools.isEmpty && chance(0.8) {
                let policy = pick(["when_frontier_unhealthy", "spillover, above_concurrency: \(3 + below(10))", "when_queue_fits"])
                lines.append("    fallback: {pools: [gpu], policy: \(policy)}")
                features.append("\(route) fallback \(policy.split(separator: ",")[0])")
            }
            if chance(0.25) {
                lines.append("    max_concurrency: \(8 + below(30))")
                lines.append("    shedding: [{tier: 1, above_utilization: \(number(0.4, 0.9))}]")
                features.append("\(route) shedding")
            }
        }

        lines.append("teams:")
        let teamCount = 1 + below(3)
        for index in 0..<teamCount {
            let team = "t\(index)"
            let route = pick(routes)
            // About 1.5 to 4 requests a second in all: 45–120 a second live at 30×.
            let rate = uniform(1.5, 4) / Double(teamCount)
            let arrivals = pick([
                "{poisson: {rate_per_s: \(String(format: "%.3f", rate))}}",
                "{mmpp: {rates_per_s: [\(String(format: "%.3f", rate * 0.5)), \(String(format: "%.3f", rate * 2))], mean_sojourn_s: [120, 60]}}",
            ])
            let share = pick(["1", "0", "0.5", number(0.1, 0.9)])
            lines.append("  \(team):")
            lines.append("    tier: \(below(2))")
            lines.append("    route: \(route)")
            lines.append("    arrivals: \(arrivals)")
            lines.append("    input_tokens: {lognormal: {median: \(200 + below(1_500)), p99: \(4_000 + below(4_000))}}")
            lines.append("    output_tokens: {constant: \(40 + below(300))}")
            lines.append("    stream_share: \(share)")
            lines.append("    sdk_retries: \(below(3))")
            features.append("\(team) stream share \(share)")
            if chance(0.4) {
                let mode = pick(["hard_stop", "alert_only"] + (routes.count > 1 ? ["degrade"] : []))
                // A budget that binds partway: a few cents per 300 s period.
                var budget = "{usd: \(number(0.01, 0.2, digits: 3)), period_s: 300, mode: \(mode)"
                if mode == "degrade" { budget += ", degrade_to: \(routes.first { $0 != route } ?? route)" }
                lines.append("    budget: \(budget)}")
                features.append("\(team) budget \(mode)")
            }
        }

        var processes: [String] = []
        for provider in providers where chance(0.5) {
            processes.append(
                "  - name: \(provider)-outages\n    two_state: {provider: \(provider), mtbf_s: \(120 + below(400)), mttr_s: \(20 + below(100)), down_state: bad}"
            )
            features.append("\(provider) two-state outages")
        }
        if chance(0.4) {
            let provider = pick(providers)
            let from = 60 + below(durationSeconds / 2)
            processes.append("  - name: scripted\n    script: [{provider: \(provider), from: \(from), to: \(from + 60 + below(240)), state: bad}]")
            features.append("scripted incident")
        }
        if chance(0.3) {
            processes.append(
                "  - name: shocks\n    common_shock: {down_state: bad, shocks: [{providers: [\(providers.joined(separator: ", "))], "
                    + "rate_per_s: \(number(0.002, 0.008, digits: 4)), repair_s: {constant: \(30 + below(90))}}]}")
            features.append("common shocks")
        }
        if chance(0.3) {
            processes.append(
                "  - name: incidents\n    hawkes: {providers: [\(pick(providers))], base_rate_per_s: \(number(0.002, 0.006, digits: 4)), "
                    + "excitation: \(number(0, 0.6)), decay_per_s: 1, repair_s: {constant: \(20 + below(60))}, down_state: bad}")
            features.append("Hawkes incidents")
        }
        if !processes.isEmpty { lines.append("degradation:\n" + processes.joined(separator: "\n")) }
        let header = "# A random twin spec (brownout-bench twin-spec --seed \(seed)): " + features.joined(separator: "; ") + "."
        return ([header] + lines).joined(separator: "\n") + "\n"
    }
}
