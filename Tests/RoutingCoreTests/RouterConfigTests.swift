import Foundation
import Testing
import RoutingCore

@Suite("Router config: validation and lint")
struct RouterConfigTests {
    @Test("a sound config has no errors and the router accepts it")
    func soundConfig() throws {
        let config = threeProviderConfig(breaker: BreakerConfig())
        #expect(config.validate().errors.isEmpty)
        _ = try Router(config: config, clock: ManualClock(), generator: SeededGenerator(state: 1))
    }

    @Test("errors name the key path and say what is valid")
    func errors() {
        var config = threeProviderConfig()
        config.routes[0].chain[0].targets.append("mistral")
        config.routes[0].chain.append(TierConfig(targets: ["openai"]))
        config.routes[0].retry.maxAttempts = 0
        config.routes[0].retry.backoff = .exponential(baseSeconds: 2, capSeconds: 1)
        config.routes[0].fallback = FallbackConfig(targets: ["google"])
        config.budgets = [
            BudgetConfig(scope: .team("search"), limitUSD: -5, periodSeconds: 86_400, mode: .hardStop),
            BudgetConfig(scope: .team("ads"), limitUSD: 5, periodSeconds: 86_400, mode: .degrade(toRoute: "cheap")),
        ]
        let messages = config.validate().errors.map(\.description)
        #expect(messages.contains("routes[0].chain[0]: unknown target 'mistral'; known targets: anthropic, openai, google, local-h100"))
        #expect(messages.contains("routes[0].chain[1]: target 'openai' appears twice in the chain (a fallback loop)"))
        #expect(messages.contains("routes[0].retry.maxAttempts: must be ≥ 1, got 0"))
        #expect(messages.contains("routes[0].retry.backoff: cap (1.0 s) must be ≥ base (2.0 s)"))
        #expect(messages.contains("routes[0].fallback.targets: 'google' is a provider; fallback targets must be local pools"))
        #expect(messages.contains("routes[0].fallback.targets: 'google' is also in the chain (a fallback loop)"))
        #expect(messages.contains("budgets[0].limitUSD: must be a number ≥ 0, got -5.0"))
        #expect(messages.contains("budgets[1].scope: unknown team 'ads'; known teams: search, batch"))
        #expect(messages.contains("budgets[1].mode: degrade route 'cheap' does not exist; routes: chat"))
        #expect(throws: RouterConfigError.self) {
            try Router(config: config, clock: ManualClock(), generator: SeededGenerator(state: 1))
        }
    }

    @Test("lint warns about unreachable fallbacks, short Retry-After caps, one-target retries and amplification")
    func lints() {
        var config = threeProviderConfig(retry: RetryPolicy(maxAttempts: 4, honourRetryAfter: false, retryAfterCapSeconds: 10), breaker: nil,
                                         hedging: HedgingPolicy(delay: .fixed(seconds: 2)), fallback: FallbackConfig(targets: ["local-h100"]))
        config.targets[0].typicalRetryAfterSeconds = 30
        config.routes.append(RouteConfig(name: "solo", chain: [TierConfig(targets: ["openai"])], retry: RetryPolicy(maxAttempts: 3)))
        let warnings = config.validate().warnings.map(\.description)
        var honouring = config
        honouring.routes[0].retry.honourRetryAfter = true
        let honouringWarnings = honouring.validate().warnings.map(\.description)
        #expect(honouringWarnings.contains("routes[0].retry.retryAfterCapSeconds: 10.0 s is below anthropic's usual Retry-After of 30.0 s: retries will arrive before the limit resets"))
        #expect(!honouringWarnings.contains { $0.hasPrefix("routes[0].fallback:") }, "Retry-After cooldowns can make every frontier target unavailable")
        #expect(warnings.contains("routes[0].fallback: can never be reached: nothing (breaker, outlier detection, Retry-After, provider limits) ever marks a frontier target unavailable"))
        #expect(warnings.contains("routes[0].retry: worst-case amplification is 8 attempts per request (threshold 5); SDK retries multiply it further"))
        #expect(warnings.contains("routes[1].retry: retries on a one-target chain go back to the same target that just failed"))
        #expect(config.validate().errors.isEmpty)
    }

    @Test("a config survives a JSON round trip")
    func codable() throws {
        let config = threeProviderConfig(retryBudget: .finagleDefault, breaker: .liteLLMCooldown, hedging: HedgingPolicy(delay: .latencyPercentile(percentile: 95, minimumSamples: 20)),
                                         fallback: FallbackConfig(targets: ["local-h100"], policy: .spillover(aboveConcurrency: 50)),
                                         budgets: [BudgetConfig(scope: .key("ci-bot"), limitUSD: 10, periodSeconds: 3_600, mode: .alertOnly)])
        let data = try JSONEncoder().encode(config)
        #expect(try JSONDecoder().decode(RouterConfig.self, from: data) == config)
        var noBreaker = threeProviderConfig(breaker: nil)
        noBreaker.targets[1].breaker = BreakerConfig(consecutiveFailures: nil, failureRateThreshold: 0.3)
        #expect(try JSONDecoder().decode(RouterConfig.self, from: JSONEncoder().encode(noBreaker)) == noBreaker)
    }

    @Test("the README's config example decodes, validates and routes")
    func readmeExample() throws {
        let readme = try String(contentsOf: URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../README.md").standardized, encoding: .utf8)
        let section = try #require(readme.components(separatedBy: "A config, as JSON").dropFirst().first)
        let json = try #require(section.components(separatedBy: "```json\n").dropFirst().first?.components(separatedBy: "```").first)
        let config = try JSONDecoder().decode(RouterConfig.self, from: Data(json.utf8))
        #expect(config.validate().errors.isEmpty)
        #expect(config.budgets[0].scope == .team("batch"))
        #expect(config.routes[0].fallback?.targets == ["local-70b"])
        var router = try Router(config: config, clock: ManualClock(), generator: SeededGenerator(state: 3))
        let (_, decision) = router.begin(RoutingRequest(id: 1, route: 0, team: 1, inputTokens: 1_200, maxOutputTokens: 800))
        #expect(decision.action == .send && decision.target == 0)
    }

    @Test("a config file names only what differs from the documented defaults")
    func defaultsWhenOmitted() throws {
        let json = """
        {"targets": [{"name": "anthropic", "inputPricePerMillion": 3, "outputPricePerMillion": 15},
                     {"name": "openai", "inputPricePerMillion": 2.5, "outputPricePerMillion": 10}],
         "routes": [{"name": "chat", "chain": [{"targets": ["anthropic", "openai"]}], "retry": {"maxAttempts": 2}}]}
        """
        let config = try JSONDecoder().decode(RouterConfig.self, from: Data(json.utf8))
        #expect(config.routes[0].retry == RetryPolicy(maxAttempts: 2))
        #expect(config.routes[0].retryBudget == .finagleDefault)
        #expect(config.routes[0].chain[0].balancing == .weightedRandom(weights: nil))
        #expect(config.health == HealthConfig())
        #expect(config.targets[0].kind == .provider)
        #expect(config.validate().errors.isEmpty)
    }
}
