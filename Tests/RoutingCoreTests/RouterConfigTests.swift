import Foundation
import Testing
import RoutingCore

@Suite("Router config: validation and lint")
struct RouterConfigTests {
    @Test("a sound config has no errors and the router accepts it")
    func soundConfig() throws {
        let config = threeProviderConfig(breaker: .standard)
        #expect(config.validate().errors.isEmpty)
        let clock = ManualClock()
        _ = try Router(
            config: config, clock: clock, wallClock: OffsetWallClock(clock: clock, unixNanosecondsAtZero: 0), generator: SeededGenerator(state: 1))
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
            BudgetConfig(scope: .team("search"), limitUSD: -5, period: .every(seconds: 86_400), mode: .hardStop),
            BudgetConfig(scope: .team("ads"), limitUSD: 5, period: .every(seconds: 86_400), mode: .degrade(toRoute: "cheap")),
        ]
        let messages = config.validate().errors.map(\.description)
        // Paths are the keys as a config writes them, names and not positions.
        #expect(messages.contains("routes.chat.chain[0]: unknown target 'mistral'; providers and pools: anthropic, openai, google, local-h100"))
        #expect(messages.contains("routes.chat.chain[1]: target 'openai' appears twice in the chain (a fallback loop)"))
        #expect(messages.contains("routes.chat.retry.max_attempts: must be ≥ 1, got 0"))
        #expect(messages.contains("routes.chat.retry.backoff.cap_s: must be ≥ base_s (2), got 1"))
        #expect(messages.contains("routes.chat.fallback.pools: 'google' is a provider; fallback targets must be local pools"))
        #expect(messages.contains("routes.chat.fallback.pools: 'google' is also in the chain (a fallback loop)"))
        #expect(messages.contains("teams.search.budget.usd: must be a number ≥ 0, got -5.0"))
        #expect(messages.contains("teams.ads.budget: unknown team 'ads'; teams: search, batch"))
        #expect(messages.contains("teams.ads.budget.degrade_to: unknown route 'cheap'; did you mean 'chat'? routes: chat"))
        let clock = ManualClock()
        var refused = false
        do {
            _ = try Router(
                config: config, clock: clock, wallClock: OffsetWallClock(clock: clock, unixNanosecondsAtZero: 0), generator: SeededGenerator(state: 1)
            )
        } catch {
            refused = true
        }
        #expect(refused, "a router refuses a config with errors")
    }

    @Test("lint warns about unreachable fallbacks, short Retry-After caps, one-target retries and amplification")
    func lints() {
        var config = threeProviderConfig(
            retry: RetryPolicy(maxAttempts: 4, honourRetryAfter: false, retryAfterCapSeconds: 10), breaker: nil,
            hedging: HedgingPolicy(delay: .fixed(seconds: 2)), fallback: FallbackConfig(targets: ["local-h100"]))
        config.targets[0].typicalRetryAfterSeconds = 30
        config.routes.append(RouteConfig(name: "solo", chain: [TierConfig(targets: ["openai"])], retry: RetryPolicy(maxAttempts: 3)))
        let warnings = config.validate().warnings.map(\.description)
        var honouring = config
        honouring.routes[0].retry.honourRetryAfter = true
        let honouringWarnings = honouring.validate().warnings.map(\.description)
        #expect(
            honouringWarnings.contains(
                "routes.chat.retry.retry_after_cap_s: 10.0 s is below anthropic's usual Retry-After of 30.0 s: retries will arrive before the limit resets"
            ))
        #expect(
            !honouringWarnings.contains { $0.hasPrefix("routes.chat.fallback:") }, "Retry-After cooldowns can make every frontier target unavailable")
        #expect(
            warnings.contains(
                "routes.chat.fallback: can never be reached: nothing (breaker, outlier detection, Retry-After, provider limits) ever marks a frontier target unavailable"
            ))
        #expect(
            warnings.contains("routes.chat.retry: worst-case amplification is 8 attempts per request (threshold 5); SDK retries multiply it further"))
        #expect(warnings.contains("routes.solo.retry: retries on a one-target chain go back to the same target that just failed"))
        #expect(config.validate().errors.isEmpty)
    }

    @Test("names in, names out: unknown names are errors, identifiers turn back into names")
    func namesAtTheEdge() throws {
        var config = threeProviderConfig()
        config.budgets = [BudgetConfig(scope: .key("ci-bot"), limitUSD: 1)]
        let clock = ManualClock()
        var router = try Router(
            config: config, clock: clock, wallClock: OffsetWallClock(clock: clock, unixNanosecondsAtZero: 0), generator: SeededGenerator(state: 3))
        let request = try router.request(id: 1, route: "chat", team: "batch", key: "ci-bot", inputTokens: 100, maxOutputTokens: 100)
        let routeName = router.name(of: request.route)
        let names = [request.team.map { config.name(of: $0) }, request.key.map { config.name(of: $0) }]
        #expect(routeName == "chat" && names == ["batch", "ci-bot"])
        let (_, decision) = router.begin(request)
        let target = try #require(decision.target)
        let targetName = router.name(of: target)
        #expect(targetName == "anthropic")
        #expect(throws: RoutingNameError(kind: .route, name: "caht", known: ["chat"])) {
            try router.request(id: 2, route: "caht", team: "batch", inputTokens: 1, maxOutputTokens: 1)
        }
        #expect(throws: RoutingNameError(kind: .team, name: "ads", known: ["search", "batch"])) {
            try router.request(id: 2, route: "chat", team: "ads", inputTokens: 1, maxOutputTokens: 1)
        }
        #expect(throws: RoutingNameError(kind: .team, name: "", known: ["search", "batch"]), "a config with teams needs one") {
            try router.request(id: 2, route: "chat", team: nil, inputTokens: 1, maxOutputTokens: 1)
        }
        #expect(throws: RoutingNameError(kind: .key, name: "ci-bto", known: ["ci-bot"])) {
            try router.request(id: 2, route: "chat", team: "batch", key: "ci-bto", inputTokens: 1, maxOutputTokens: 1)
        }
        #expect(
            RoutingNameError(kind: .route, name: "caht", known: ["chat"]).description == "unknown route 'caht'; did you mean 'chat'? routes: chat")
    }

    @Test("spend without a team is kept apart, never dropped")
    func unattributedSpend() throws {
        var config = threeProviderConfig()
        config.teams = []
        let clock = ManualClock()
        var router = try Router(
            config: config, clock: clock, wallClock: OffsetWallClock(clock: clock, unixNanosecondsAtZero: 0), generator: SeededGenerator(state: 3))
        var (state, decision) = router.begin(try router.request(id: 1, route: "chat", team: nil, inputTokens: 1_000, maxOutputTokens: 500))
        _ = router.attemptFinished(&state, attempt: decision.attempt, ok(output: 400))
        let expected: Double = (1_000.0 * 3 + 400.0 * 15) / 1e6
        #expect(router.ledger.unattributed.successfulUSD == expected)
        decision = router.begin(try router.request(id: 2, route: "chat", team: nil, inputTokens: 1, maxOutputTokens: 1)).1
        #expect(decision.action == .send)
    }
}
