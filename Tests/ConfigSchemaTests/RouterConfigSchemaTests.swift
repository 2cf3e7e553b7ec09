import Foundation
import Synchronization
import Testing
import ConfigSchema
@testable import RoutingCore

@Suite("The routing config schema: one decoder for YAML and JSON")
struct RouterConfigSchemaTests {
    static let yaml = """
        providers:
          anthropic: {input_usd_per_mtok: 3, output_usd_per_mtok: 15, rpm: 4000, typical_retry_after_s: 30}
          openai: {input_usd_per_mtok: 2.5, output_usd_per_mtok: 10}
        pools:
          local: {gpu_usd_per_hour: 4.25, replicas: 2, concurrency_per_replica: 8, queue: 16, autoscaling: {max_replicas: 3}}
        routes:
          chat:
            chain: [[anthropic, openai]]
            retry: {max_attempts: 2, backoff: {kind: exponential, base_s: 1, cap_s: 4}}
            fallback: {pools: [local], policy: spillover, above_concurrency: 40}
        teams:
          search: {tier: 0, budget: {usd: 10, period: month, mode: alert_only}}
        """

    func decode(_ text: String) throws(SpecError) -> RouterConfig {
        try RouterConfig.decode(yamlOrJSON: text, file: "config.yaml")
    }

    func error(_ text: String) -> String {
        do {
            _ = try decode(text)
            return "no error"
        } catch {
            return error.description
        }
    }

    @Test("the README's config decodes, validates, and a router behind a Mutex routes with it by name")
    func readmeExample() throws {
        let readme = try String(
            contentsOf: URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../README.md").standardized,
            encoding: .utf8)
        let section = try #require(readme.components(separatedBy: "A routing config, as JSON").dropFirst().first)
        let json = try #require(section.components(separatedBy: "```json\n").dropFirst().first?.components(separatedBy: "```").first)
        let config = try RouterConfig.decode(yamlOrJSON: json, file: "routing.json")
        #expect(config.targets.map(\.name) == ["anthropic", "openai", "local-70b"])
        #expect(config.targets[2].kind == .local && config.targets[2].maxConcurrency == 16)
        #expect(
            config.budgets == [
                BudgetConfig(scope: .team("batch"), limitUSD: 500, period: .day),
                BudgetConfig(scope: .key("ci-bot"), limitUSD: 20, period: .month, mode: .alertOnly),
            ])
        #expect(config.routes[0].fallback?.targets == ["local-70b"])
        #expect(config.routes[0].chain[0].balancing == .leastOutstanding)
        let broken = json.replacingOccurrences(of: #""max_attempts": 3"#, with: #""max_attempts": 0"#)
        #expect(
            throws: SpecError(SpecLocation(file: "routing.json", line: 13, column: 33), "routes.chat.retry.max_attempts", "must be ≥ 1, got 0"),
            "the README's comment shows the error this gives"
        ) {
            try RouterConfig.decode(yamlOrJSON: broken, file: "routing.json")
        }
        let router = Mutex(try Router(config: config, clock: ScaledClock(), wallClock: SystemWallClock(), generator: SplitMix64(seed: 3)))
        let request = try router.withLock { router throws(RoutingNameError) in
            try router.request(id: 1, route: "chat", team: "search", inputTokens: 1_200, maxOutputTokens: 800)
        }
        var (state, decision) = router.withLock { $0.begin(request) }
        #expect(decision.action == .send && decision.target.map { config.name(of: $0) } == "anthropic")
        decision = router.withLock {
            $0.attemptFinished(
                &state, attempt: decision.attempt,
                AttemptOutcome(outcome: .success, latencyNanoseconds: 900_000_000, inputTokens: 1_200, outputTokens: 640))
        }
        #expect(decision.action == .complete)
    }

    @Test("JSON and YAML are one schema: the same config either way")
    func jsonEqualsYAML() throws {
        let json = """
            {"providers": {"anthropic": {"input_usd_per_mtok": 3, "output_usd_per_mtok": 15, "rpm": 4000, "typical_retry_after_s": 30},
                           "openai": {"input_usd_per_mtok": 2.5, "output_usd_per_mtok": 10}},
             "pools": {"local": {"gpu_usd_per_hour": 4.25, "replicas": 2, "concurrency_per_replica": 8, "queue": 16, "autoscaling": {"max_replicas": 3}}},
             "routes": {"chat": {"chain": [["anthropic", "openai"]],
                                 "retry": {"max_attempts": 2, "backoff": {"kind": "exponential", "base_s": 1, "cap_s": 4}},
                                 "fallback": {"pools": ["local"], "policy": "spillover", "above_concurrency": 40}}},
             "teams": {"search": {"tier": 0, "budget": {"usd": 10, "period": "month", "mode": "alert_only"}}}}
            """
        let fromYAML = try decode(Self.yaml)
        #expect(try RouterConfig.decode(yamlOrJSON: json, file: "config.json") == fromYAML)
        #expect(fromYAML.targets[0].limits == RateLimit(requestsPerMinute: 4_000))
        #expect(
            fromYAML.targets[2].maxConcurrency == 24
                && fromYAML.targets[2].localCapacity == LocalCapacity(replicas: 2, concurrencyPerReplica: 8, maxReplicas: 3))
        #expect(fromYAML.routes[0].retry.backoff == .exponential(baseSeconds: 1, capSeconds: 4))
        #expect(fromYAML.routes[0].fallback?.policy == .spillover(aboveConcurrency: 40))
    }

    @Test("every key left out takes the default of the type's own initialiser")
    func defaults() throws {
        let config = try decode(
            """
            providers: {a: {input_usd_per_mtok: 1, output_usd_per_mtok: 2}, b: {input_usd_per_mtok: 1, output_usd_per_mtok: 2}}
            routes: {chat: {chain: [[a, b]], retry: {max_attempts: 2}, retry_budget: {kind: grpc}}}
            """)
        #expect(config.routes[0].retry == RetryPolicy(maxAttempts: 2))
        #expect(config.routes[0].retryBudget == .grpcDefault)
        #expect(config.routes[0].chain[0].balancing == .weightedRandom(weights: nil))
        #expect(config.routes[0].timeouts == Timeouts() && config.routes[0].mode == .gateway)
        #expect(config.health == HealthConfig() && config.health.breaker == .standard)
        #expect(config.targets[0] == TargetConfig(name: "a", inputPricePerMillion: 1, outputPricePerMillion: 2))
        // A breaker block names the trips it uses; its other settings take BreakerConfig's defaults.
        let rateOnly = try decode(
            """
            providers: {a: {input_usd_per_mtok: 1, output_usd_per_mtok: 2}}
            gateway: {breaker: {failure_rate: 0.3}}
            routes: {chat: {chain: [a], retry: {max_attempts: 1}}}
            """)
        #expect(rateOnly.health.breaker == BreakerConfig(consecutiveFailures: nil, failureRateThreshold: 0.3))
        #expect(
            try decode("providers: {a: {input_usd_per_mtok: 1, output_usd_per_mtok: 2}}\ngateway: {breaker: none}\nroutes: {chat: {chain: [a]}}")
                .health.breaker == nil)
    }

    @Test("every kind name decodes to its own case, and a wrong one lists exactly the enum's cases")
    func kindsAreEnums() throws {
        func route(_ body: String) -> String {
            "providers: {a: {input_usd_per_mtok: 1, output_usd_per_mtok: 2}, b: {input_usd_per_mtok: 1, output_usd_per_mtok: 2}}\n"
                + "pools: {p: {gpu_usd_per_hour: 1, replicas: 1, concurrency_per_replica: 1}}\nroutes: {chat: {chain: [[a, b]], \(body)}}\nteams: {t: {}}"
        }
        var backoffs: [Backoff] = []
        for kind in Backoff.Kind.allCases {
            backoffs.append(
                try decode(route("retry: {backoff: {kind: \(kind.rawValue)\(kind == .none ? "" : ", base_s: 1, cap_s: 2")}}")).routes[0].retry.backoff
            )
        }
        #expect(Set(backoffs.map { "\($0)" }).count == Backoff.Kind.allCases.count)
        var budgets: [RetryBudgetConfig] = []
        for kind in RetryBudgetConfig.Kind.allCases {
            budgets.append(try decode(route("retry_budget: {kind: \(kind.rawValue)}")).routes[0].retryBudget)
        }
        #expect(Set(budgets.map { "\($0)" }).count == RetryBudgetConfig.Kind.allCases.count)
        var balancing: [LoadBalancing] = []
        for kind in LoadBalancing.Kind.allCases {
            let tier = "{targets: [a, b], balancing: \(kind.rawValue)\(kind == .costAware ? ", latency_bound_s: 2" : "")}"
            balancing.append(
                try decode(route("retry: {max_attempts: 1}").replacingOccurrences(of: "[[a, b]]", with: "[\(tier)]")).routes[0].chain[0].balancing)
        }
        #expect(Set(balancing.map { "\($0)" }).count == LoadBalancing.Kind.allCases.count)
        var policies: [FallbackPolicy] = []
        for kind in FallbackPolicy.Kind.allCases {
            policies.append(
                try decode(route("fallback: {pools: [p], policy: \(kind.rawValue)\(kind == .spillover ? ", above_concurrency: 3" : "")}")).routes[0]
                    .fallback!.policy)
        }
        #expect(Set(policies.map { "\($0)" }).count == FallbackPolicy.Kind.allCases.count)
        #expect(
            error(route("retry: {backoff: {kind: ful_jitter, base_s: 1, cap_s: 2}}"))
                == "config.yaml:3:58: routes.chat.retry.backoff.kind: 'ful_jitter' is not valid; did you mean 'full_jitter'? Valid: "
                + Backoff.Kind.allCases.map(\.rawValue).joined(separator: ", "))
        #expect(
            error(route("retry_budget: {kind: token}")).hasSuffix("valid: " + RetryBudgetConfig.Kind.allCases.map(\.rawValue).joined(separator: ", "))
        )
    }

    @Test("bad values are located where they are written, with the path as written")
    func locatedErrors() {
        let providers = "providers:\n  a: {input_usd_per_mtok: 1, output_usd_per_mtok: 2}\n  b: {input_usd_per_mtok: 1, output_usd_per_mtok: 2}\n"
        #expect(
            error(providers + "routes:\n  chat:\n    chain: [{targets: [a, b], weights: 3}]\n")
                == "config.yaml:6:40: routes.chat.chain[0].weights: must be a list")
        #expect(
            error(providers + "routes:\n  chat:\n    chain: [[a, b]]\n    retry: {max_attempts: 0}\n")
                == "config.yaml:7:27: routes.chat.retry.max_attempts: must be ≥ 1, got 0")
        #expect(
            error(providers + "routes:\n  chat:\n    chain: [[a, c]]\n")
                == "config.yaml:6:13: routes.chat.chain[0]: unknown target 'c'; did you mean 'a'? providers and pools: a, b")
        #expect(
            error(providers + "routes:\n  chat:\n    chain: [[a, b]]\n    retyr: {max_attempts: 2}\n")
                == "config.yaml:7:5: routes.chat.retyr: unknown key 'retyr'; did you mean 'retry'? Valid keys: chain, context_window_fallbacks, cross_protocol, fallback, hedging, max_concurrency, mode, on_malformed_event, rate_limit, retry, retry_budget, shedding, stream_commit, timeouts"
        )
        #expect(
            error(providers + "routes:\n  chat:\n    chain: [[a, b]]\n    stream_commit: {complete: true, after_s: 2}\n")
                .contains(
                    "routes.chat.stream_commit.complete: a complete answer is held whole: give complete: true, or after_tokens/after_s, not both"))
        #expect(
            error(providers + "routes:\n  chat:\n    chain: [[a, b]]\n    stream_commit: {max_held_bytes: 100}\n")
                .contains("routes.chat.stream_commit: give after_tokens, after_s (or both), or complete: true"))
        #expect(
            error(providers + "routes:\n  chat:\n    chain: [[a, b]]\n    stream_commit: {after_tokens: 0}\n")
                .contains("routes.chat.stream_commit.after_tokens: must be ≥ 1, got 0"))
        #expect(
            error(providers + "routes:\n  chat:\n    chain: [[a, b]]\n    retry_budget: {kind: grpc, ttl_s: 10}\n")
                .hasPrefix("config.yaml:7:32: routes.chat.retry_budget.ttl_s: unknown key 'ttl_s'; valid keys: kind, max_tokens, token_ratio"),
            "a parameter of another kind is not silently ignored")
        #expect(
            error("providers:\n  a: {input_usd_per_mtok: 1, outptu_usd_per_mtok: 2}\nroutes: {chat: {chain: [a]}}\n")
                == "config.yaml:2:30: providers.a.outptu_usd_per_mtok: unknown key 'outptu_usd_per_mtok'; did you mean 'output_usd_per_mtok'? Valid keys: breaker, input_tpm, input_usd_per_mtok, output_usd_per_mtok, quality_tier, rpm, typical_retry_after_s",
            "a typo of a required key is reported as the typo, not as a missing key")
        #expect(
            error(providers + "routes: {chat: {chain: [a]}}\nteams: {t: {budget: {usd: 5, period: week}}}\n")
                == "config.yaml:5:38: teams.t.budget.period: 'week' is not valid; valid: day, month")
        #expect(
            error(providers + "routes: {chat: {chain: [a]}}\nteams: {t: {budget: {usd: 5, period: day, period_s: 60}}}\n")
                == "config.yaml:5:53: teams.t.budget.period_s: give period (day or month) or period_s, not both")
    }

    @Test("a name with dots is found again when an error points inside it")
    func dottedNames() {
        let text = "providers:\n  gpt-4.1: {input_usd_per_mtok: 2, output_usd_per_mtok: 8, rpm: -1}\nroutes: {chat: {chain: [gpt-4.1]}}\n"
        #expect(error(text) == "config.yaml:2:65: providers.gpt-4.1.rpm: must be > 0, got -1")
    }
}
