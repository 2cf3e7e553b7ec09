import GatewaySim
import RoutingCore
import Stochastics

/// A what-if experiment: the world to simulate and how to run it.
public struct ExperimentSpec: Sendable {
    public var name: String
    public var description: String
    public var world: WorldSpec
    public var replications: Int
    public var seed: UInt64
    /// `run.start_time`: the time of day the run starts, in seconds after midnight (nil: the
    /// run's own clock, starting at 00:00).
    public var startOfDaySeconds: Double?
    /// The spec's lint findings (RoutingCore's, plus the spec's own).
    public var warnings: [String]
}

/// Turns a spec document into an ``ExperimentSpec``, strictly: unknown keys, missing keys
/// and impossible values are errors naming file:line:column and the key path.
public enum ExperimentSpecParser {
    static let outcomeNames = OutcomeClass.allCases.filter { $0 != .success && $0 != .cancelled }.map(\.rawValue)

    public static func parse(_ document: SpecValue) throws(SpecError) -> ExperimentSpec {
        var top = try MapReader(document, path: "")
        _ = top.optional("include")
        let name = try top.string("name")
        let description = try top.string("description", default: "")

        var run = try MapReader(try top.required("run"), path: "run")
        let duration = try run.double("duration_s", min: 0, exclusiveMin: true)
        let warmUp = try run.double("warmup_s", default: 0, min: 0)
        let replications = try run.int("replications", default: 5, min: 1)
        let seed = try run.int("seed", default: 1, min: 0)
        let bucket = try run.double("bucket_s", default: 60, min: 0, exclusiveMin: true)
        var startOfDay: Double?
        if let startValue = run.optional("start_time") {
            guard case .scalar(let text, let location) = startValue, let seconds = DegradationSpecParser.hoursMinutes(text, limitHours: 24) else {
                throw SpecError(startValue.location, "run.start_time", "must be a time of day HH:MM or HH:MM:SS, e.g. \"11:00\"")
            }
            _ = location
            startOfDay = seconds
        }
        try run.finish()
        if warmUp >= duration { throw SpecError(document.location, "run.warmup_s", "must be below run.duration_s (\(duration))") }

        // Providers.
        var providerSpecs: [ProviderSpec] = []
        var targets: [TargetConfig] = []
        var providerStates: [String: [String]] = [:]
        let providersValue = try top.required("providers")
        var providersReader = try MapReader(providersValue, path: "providers")
        for (providerName, _, value) in providersReader.named() {
            let (spec, target) = try provider(providerName, value, path: "providers.\(providerName)")
            providerSpecs.append(spec)
            targets.append(target)
            providerStates[providerName] = spec.states.map(\.name)
        }
        try providersReader.finish()
        if providerSpecs.isEmpty { throw SpecError(document.location, "providers", "at least one provider is needed") }

        // Local pools.
        var poolSpecs: [FallbackPoolSpec] = []
        if let poolsValue = top.optional("pools") {
            var pools = try MapReader(poolsValue, path: "pools")
            for (poolName, _, value) in pools.named() {
                let (spec, target) = try pool(poolName, value, path: "pools.\(poolName)")
                poolSpecs.append(spec)
                targets.append(target)
            }
            try pools.finish()
        }
        let targetNames = targets.map(\.name)
        if targets.count > RouterConfig.maximumTargets {
            throw SpecError(providersValue.location, "providers", "at most \(RouterConfig.maximumTargets) providers and pools together (the router keeps the targets a request has tried in a 64-bit mask), got \(targets.count): \(providerSpecs.count) providers and \(poolSpecs.count) pools")
        }

        // Gateway.
        var gatewayStates: [GatewayHealthSpec] = [.healthy]
        var health = HealthConfig()
        if let gatewayValue = top.optional("gateway") {
            var gateway = try MapReader(gatewayValue, path: "gateway")
            if let statesValue = gateway.optional("states") {
                var states = try MapReader(statesValue, path: "gateway.states")
                for (stateName, _, value) in states.named() where stateName != "healthy" {
                    var state = try MapReader(value, path: "gateway.states.\(stateName)")
                    gatewayStates.append(GatewayHealthSpec(name: stateName, addedLatencySeconds: try state.double("added_latency_s", default: 0, min: 0),
                                                           errorProbability: try state.double("error_probability", default: 0, min: 0, max: 1)))
                    try state.finish()
                }
                try states.finish()
            }
            if let breakerValue = gateway.optional("breaker") {
                health.breaker = try breaker(breakerValue, path: "gateway.breaker")
            }
            if let outlierValue = gateway.optional("outlier_detection") {
                var outlier = try MapReader(outlierValue, path: "gateway.outlier_detection")
                health.outlierDetection = OutlierDetectionConfig(consecutiveFailures: try outlier.int("consecutive_failures", default: 5, min: 1),
                                                                 baseEjectionSeconds: try outlier.double("base_ejection_s", default: 30, min: 0, exclusiveMin: true),
                                                                 maxEjectionPercent: try outlier.double("max_ejection_percent", default: 10, min: 0, max: 100))
                try outlier.finish()
            }
            try gateway.finish()
        }

        // Routes.
        var routes: [RouteConfig] = []
        var routesReader = try MapReader(try top.required("routes"), path: "routes")
        for (routeName, _, value) in routesReader.named() {
            routes.append(try route(routeName, value, path: "routes.\(routeName)", targets: targetNames, pools: poolSpecs.map(\.name)))
        }
        try routesReader.finish()
        let routeNames = routes.map(\.name)

        // Teams.
        var teamConfigs: [TeamConfig] = []
        var teamSpecs: [TeamSpec] = []
        var budgets: [BudgetConfig] = []
        var teamsReader = try MapReader(try top.required("teams"), path: "teams")
        for (teamName, _, value) in teamsReader.named() {
            let path = "teams.\(teamName)"
            var team = try MapReader(value, path: path)
            let tier = try team.int("tier", default: 0, min: 0)
            let routeName = try team.string("route", oneOf: routeNames)
            let arrivals = try arrivalProcess(try team.required("arrivals"), path: "\(path).arrivals")
            let input = try distribution(try team.required("input_tokens"), path: "\(path).input_tokens")
            let output = try distribution(try team.required("output_tokens"), path: "\(path).output_tokens")
            let sdkRetries = try team.int("sdk_retries", default: 0, min: 0)
            var sloAvailability = 0.999, sloPercentile = 99.0, sloLatency = 30.0
            if let sloValue = team.optional("slo") {
                var slo = try MapReader(sloValue, path: "\(path).slo")
                sloAvailability = try slo.double("availability", default: 0.999, min: 0, max: 1)
                sloPercentile = try slo.double("latency_percentile", default: 99, min: 0, max: 100)
                sloLatency = try slo.double("latency_s", default: 30, min: 0, exclusiveMin: true)
                try slo.finish()
            }
            var rateLimit: RateLimit?
            if let limitValue = team.optional("rate_limit") { rateLimit = try self.rateLimit(limitValue, path: "\(path).rate_limit") }
            if let budgetValue = team.optional("budget") {
                var budget = try MapReader(budgetValue, path: "\(path).budget")
                let limit = try budget.double("usd", min: 0)
                let period = try budget.double("period_s", default: 86_400, min: 0, exclusiveMin: true)
                let modeName = try budget.string("mode", default: "hard_stop", oneOf: ["hard_stop", "degrade", "alert_only"])
                let mode: BudgetMode
                switch modeName {
                case "hard_stop": mode = .hardStop
                case "alert_only": mode = .alertOnly
                default: mode = .degrade(toRoute: try budget.string("degrade_to", oneOf: routeNames))
                }
                try budget.finish()
                budgets.append(BudgetConfig(scope: .team(teamName), limitUSD: limit, periodSeconds: period, mode: mode))
            }
            try team.finish()
            teamConfigs.append(TeamConfig(name: teamName, tier: tier, rateLimit: rateLimit))
            teamSpecs.append(TeamSpec(name: teamName, arrivals: arrivals, inputTokens: input, outputTokens: output, route: routeName,
                                      sdkRetries: sdkRetries, sloAvailability: sloAvailability, sloLatencyPercentile: sloPercentile, sloLatencySeconds: sloLatency))
        }
        try teamsReader.finish()
        if teamSpecs.isEmpty { throw SpecError(document.location, "teams", "at least one team is needed") }

        // Degradation.
        var bindings: [DegradationBinding] = []
        if let degradationValue = top.optional("degradation") {
            guard case .list(let items, _) = degradationValue else { throw SpecError(degradationValue.location, "degradation", "must be a list of processes") }
            for (index, item) in items.enumerated() {
                bindings.append(try DegradationSpecParser.binding(item, path: "degradation[\(index)]", providers: providerSpecs.map(\.name),
                                                                  providerStates: providerStates, gatewayStates: gatewayStates.map(\.name),
                                                                  startOfDay: startOfDay))
            }
        }
        try top.finish()

        let router = RouterConfig(targets: targets, routes: routes, teams: teamConfigs, budgets: budgets, health: health)
        let report = router.validate()
        if let first = report.errors.first {
            throw SpecError(document.location, first.path, first.message)
        }
        let world = WorldSpec(providers: providerSpecs, pools: poolSpecs, router: router, gatewayStates: gatewayStates, teams: teamSpecs,
                              degradation: bindings, durationSeconds: duration, warmUpSeconds: warmUp, bucketSeconds: bucket)
        do {
            try World.validate(world, seed: UInt64(seed))
        } catch {
            throw SpecError(document.location, "", error.description)
        }
        // The spec's own lint: a capacity that leaves no server is an outage, maybe unmeant.
        var specWarnings: [String] = []
        for provider in providerSpecs {
            for state in provider.states where state.capacityFraction > 0 && Int(Double(provider.concurrency) * state.capacityFraction) == 0 {
                specWarnings.append("providers.\(provider.name).states.\(state.name).capacity: \(state.capacityFraction) of \(provider.concurrency) server\(provider.concurrency == 1 ? "" : "s") rounds down to none: in this state the provider serves nothing (its queue waits for the state to end)")
            }
        }
        return ExperimentSpec(name: name, description: description, world: world, replications: replications, seed: UInt64(seed),
                              startOfDaySeconds: startOfDay, warnings: report.warnings.map(\.description) + specWarnings)
    }

    // MARK: Pieces

    static func provider(_ name: String, _ value: SpecValue, path: String) throws(SpecError) -> (ProviderSpec, TargetConfig) {
        var reader = try MapReader(value, path: path)
        let concurrency = try reader.int("concurrency", min: 1)
        let queue = try reader.int("queue", default: 0, min: 0)
        let ttft = try distribution(try reader.required("ttft_s"), path: "\(path).ttft_s")
        let tps = try distribution(try reader.required("output_tokens_per_s"), path: "\(path).output_tokens_per_s")
        let inputPrice = try reader.double("input_usd_per_mtok", min: 0)
        let outputPrice = try reader.double("output_usd_per_mtok", min: 0)
        let rpm = try reader.optionalDouble("rpm", min: 0, exclusiveMin: true)
        let itpm = try reader.optionalDouble("input_tpm", min: 0, exclusiveMin: true)
        let otpm = try reader.optionalDouble("output_tpm", min: 0, exclusiveMin: true)
        let typicalRetryAfter = try reader.optionalDouble("typical_retry_after_s", min: 0)
        let hang = try reader.double("hang_s", default: 600, min: 0, exclusiveMin: true)
        var states: [HealthStateSpec] = [.healthy]
        if let statesValue = reader.optional("states") {
            var statesReader = try MapReader(statesValue, path: "\(path).states")
            for (stateName, _, stateValue) in statesReader.named() {
                let state = try healthState(stateName, stateValue, path: "\(path).states.\(stateName)")
                if stateName == "healthy" { states[0] = state } else { states.append(state) }
            }
            try statesReader.finish()
        }
        try reader.finish()
        let limits = rpm == nil && itpm == nil ? nil : RateLimit(requestsPerMinute: rpm, tokensPerMinute: itpm)
        let spec = ProviderSpec(name: name, concurrency: concurrency, queueLimit: queue, timeToFirstTokenSeconds: ttft, outputTokensPerSecond: tps,
                                inputPricePerMillion: inputPrice, outputPricePerMillion: outputPrice, limits: limits,
                                outputTokensPerMinute: otpm, states: states, hangSeconds: hang)
        let target = TargetConfig(name: name, inputPricePerMillion: inputPrice, outputPricePerMillion: outputPrice, limits: limits,
                                  typicalRetryAfterSeconds: typicalRetryAfter)
        return (spec, target)
    }

    static func healthState(_ name: String, _ value: SpecValue, path: String) throws(SpecError) -> HealthStateSpec {
        var reader = try MapReader(value, path: path)
        var mix: [(OutcomeClass, Double)] = []
        if let errorsValue = reader.optional("errors") {
            var errors = try MapReader(errorsValue, path: "\(path).errors")
            for outcome in outcomeNames {
                if let probability = try errors.optionalDouble(outcome, min: 0) {
                    mix.append((OutcomeClass(rawValue: outcome)!, probability))
                }
            }
            try errors.finish()
        }
        let total = mix.reduce(0) { $0 + $1.1 }
        if total > 1 + 1e-12 { throw SpecError(errorsLocation(value), "\(path).errors", "probabilities sum to \(total); they must sum to at most 1") }
        let state = HealthStateSpec(name: name, errorMix: mix,
                                    latencyMultiplier: try reader.double("latency_x", default: 1, min: 0, exclusiveMin: true),
                                    capacityFraction: try reader.double("capacity", default: 1, min: 0, max: 1),
                                    retryAfterSeconds: try reader.optionalDouble("retry_after_s", min: 0))
        try reader.finish()
        return state
    }

    private static func errorsLocation(_ value: SpecValue) -> SpecLocation {
        if case .map(let entries, _) = value, let errors = entries.first(where: { $0.key == "errors" }) { return errors.value.location }
        return value.location
    }

    static func pool(_ name: String, _ value: SpecValue, path: String) throws(SpecError) -> (FallbackPoolSpec, TargetConfig) {
        var reader = try MapReader(value, path: path)
        let replicas = try reader.int("replicas", min: 1)
        let perReplica = try reader.int("concurrency_per_replica", min: 1)
        let queue = try reader.int("queue", default: 0, min: 0)
        let tps = try reader.double("replica_output_tokens_per_s", min: 0, exclusiveMin: true)
        let ttft = try distribution(try reader.required("ttft_s"), path: "\(path).ttft_s")
        let gpus = try reader.int("gpus_per_replica", default: 1, min: 1)
        let price = try reader.double("gpu_usd_per_hour", min: 0)
        let quality = try reader.int("quality_tier", default: 1, min: 0)
        var maxReplicas = replicas, spinUp = 300.0, scaleUpQueue = perReplica, scaleDownIdle = 600.0
        if let scalingValue = reader.optional("autoscaling") {
            var scaling = try MapReader(scalingValue, path: "\(path).autoscaling")
            maxReplicas = try scaling.int("max_replicas", min: replicas)
            spinUp = try scaling.double("spin_up_s", default: 300, min: 0)
            scaleUpQueue = try scaling.int("scale_up_queue", default: perReplica, min: 1)
            scaleDownIdle = try scaling.double("scale_down_idle_s", default: 600, min: 0, exclusiveMin: true)
            try scaling.finish()
        }
        try reader.finish()
        let spec = FallbackPoolSpec(name: name, replicas: replicas, maxConcurrencyPerReplica: perReplica, queueLimit: queue,
                                    replicaOutputTokensPerSecond: tps, timeToFirstTokenSeconds: ttft, gpusPerReplica: gpus, gpuPricePerHour: price,
                                    qualityTier: quality, maxReplicas: maxReplicas, spinUpSeconds: spinUp, scaleUpQueue: scaleUpQueue,
                                    scaleDownIdleSeconds: scaleDownIdle)
        // The router charges GPU-seconds × price per GPU-hour; a pool's GPU-seconds already
        // count its GPUs. Its capacity bound is the fully scaled pool: the pool itself refuses beyond that.
        let target = TargetConfig(name: name, kind: .local, gpuPricePerHour: price, maxConcurrency: spec.maxServers, queueLimit: queue, qualityTier: quality)
        return (spec, target)
    }

    static func route(_ name: String, _ value: SpecValue, path: String, targets: [String], pools: [String]) throws(SpecError) -> RouteConfig {
        var reader = try MapReader(value, path: path)
        guard case .list(let tierValues, _) = try reader.required("chain") else {
            throw SpecError(value.location, "\(path).chain", "must be a list of tiers, e.g. [[anthropic, openai], [google]]")
        }
        var tiers: [TierConfig] = []
        for (index, tierValue) in tierValues.enumerated() {
            let tierPath = "\(path).chain[\(index)]"
            switch tierValue {
            case .list:
                let names = try SpecScalars.strings(tierValue, tierPath)
                for target in names where !targets.contains(target) { throw unknownTarget(target, tierValue.location, tierPath, targets) }
                tiers.append(TierConfig(targets: names))
            case .scalar(let target, let location):
                guard targets.contains(target) else { throw unknownTarget(target, location, tierPath, targets) }
                tiers.append(TierConfig(targets: [target]))
            case .map:
                var tier = try MapReader(tierValue, path: tierPath)
                let names = try tier.strings("targets")
                for target in names where !targets.contains(target) { throw unknownTarget(target, tierValue.location, tierPath, targets) }
                let balancing = try tier.string("balancing", default: "weighted_random", oneOf: ["weighted_random", "least_outstanding", "lowest_latency", "cost_aware"])
                let kind: LoadBalancing
                switch balancing {
                case "least_outstanding": kind = .leastOutstanding
                case "lowest_latency": kind = .lowestLatency
                case "cost_aware": kind = .costAware(latencyBoundSeconds: try tier.double("latency_bound_s", min: 0, exclusiveMin: true))
                default:
                    var weights: [Double]?
                    if let weightValue = tier.optional("weights"), case .list(let items, _) = weightValue {
                        var values: [Double] = []
                        for (w, item) in items.enumerated() { values.append(try SpecScalars.double(item, "\(tierPath).weights[\(w)]", min: 0)) }
                        weights = values
                    }
                    kind = .weightedRandom(weights: weights)
                }
                try tier.finish()
                tiers.append(TierConfig(targets: names, balancing: kind))
            }
        }
        var retry = RetryPolicy()
        if let retryValue = reader.optional("retry") {
            var r = try MapReader(retryValue, path: "\(path).retry")
            retry.maxAttempts = try r.int("max_attempts", default: retry.maxAttempts, min: 1)
            if let backoffValue = r.optional("backoff") { retry.backoff = try backoff(backoffValue, path: "\(path).retry.backoff") }
            retry.retryAfterCapSeconds = try r.double("retry_after_cap_s", default: retry.retryAfterCapSeconds, min: 0)
            retry.honourRetryAfter = try r.string("honour_retry_after", default: "true", oneOf: ["true", "false"]) == "true"
            retry.target = RetryTarget(rawValue: try r.string("target", default: "next", oneOf: ["next", "same"]))!
            if let onValue = r.optional("retry_on") {
                let names = try SpecScalars.strings(onValue, "\(path).retry.retry_on")
                var set = Set<OutcomeClass>()
                for (index, name) in names.enumerated() {
                    _ = try SpecScalars.string(.scalar(name, onValue.location), "\(path).retry.retry_on[\(index)]", oneOf: outcomeNames)
                    set.insert(OutcomeClass(rawValue: name)!)
                }
                retry.retryOn = set
            }
            try r.finish()
        }
        var budget = RetryBudgetConfig.finagleDefault
        if let budgetValue = reader.optional("retry_budget") {
            var b = try MapReader(budgetValue, path: "\(path).retry_budget")
            let kind = try b.string("kind", oneOf: ["finagle", "grpc", "adaptive_throttling", "unlimited"])
            switch kind {
            case "finagle": budget = .finagle(ttlSeconds: try b.double("ttl_s", default: 10, min: 0, exclusiveMin: true),
                                              minRetriesPerSecond: try b.double("min_retries_per_s", default: 10, min: 0),
                                              percentCanRetry: try b.double("percent_can_retry", default: 0.2, min: 0, max: 1))
            case "grpc": budget = .grpc(maxTokens: try b.double("max_tokens", default: 10, min: 0, exclusiveMin: true),
                                        tokenRatio: try b.double("token_ratio", default: 0.1, min: 0, exclusiveMin: true))
            case "adaptive_throttling": budget = .adaptiveThrottling(k: try b.double("k", default: 2, min: 1),
                                                                     windowSeconds: try b.double("window_s", default: 120, min: 0, exclusiveMin: true))
            default: budget = .unlimited
            }
            try b.finish()
        }
        var hedging: HedgingPolicy?
        if let hedgeValue = reader.optional("hedging") {
            var h = try MapReader(hedgeValue, path: "\(path).hedging")
            if let after = try h.optionalDouble("after_s", min: 0, exclusiveMin: true) {
                hedging = HedgingPolicy(delay: .fixed(seconds: after))
            } else {
                hedging = HedgingPolicy(delay: .latencyPercentile(percentile: try h.double("latency_percentile", min: 0, max: 100, exclusiveMin: true),
                                                                 minimumSamples: try h.int("minimum_samples", default: 50, min: 1)))
            }
            try h.finish()
        }
        var timeouts = Timeouts()
        if let timeoutValue = reader.optional("timeouts") {
            var t = try MapReader(timeoutValue, path: "\(path).timeouts")
            timeouts = Timeouts(firstTokenSeconds: try t.optionalDouble("first_token_s", min: 0, exclusiveMin: true),
                                perTrySeconds: try t.optionalDouble("per_try_s", min: 0, exclusiveMin: true),
                                overallSeconds: try t.optionalDouble("overall_s", min: 0, exclusiveMin: true))
            try t.finish()
        }
        var fallback: FallbackConfig?
        if let fallbackValue = reader.optional("fallback") {
            var f = try MapReader(fallbackValue, path: "\(path).fallback")
            let names = try f.strings("pools")
            for poolName in names where !pools.contains(poolName) {
                throw SpecError(fallbackValue.location, "\(path).fallback.pools", "unknown pool '\(poolName)'; pools: \(pools.joined(separator: ", "))")
            }
            let policyName = try f.string("policy", default: "when_frontier_unhealthy", oneOf: ["when_frontier_unhealthy", "spillover", "when_queue_fits"])
            let policy: FallbackPolicy
            switch policyName {
            case "spillover": policy = .spillover(aboveConcurrency: try f.int("above_concurrency", min: 0))
            case "when_queue_fits": policy = .whenQueueFits
            default: policy = .whenFrontierUnhealthy
            }
            try f.finish()
            fallback = FallbackConfig(targets: names, policy: policy)
        }
        let mode = RouteMode(rawValue: try reader.string("mode", default: "gateway", oneOf: ["gateway", "bypass"]))!
        let maxConcurrency = try reader.optionalInt("max_concurrency", min: 1)
        var shedding: [SheddingRule] = []
        if let shedValue = reader.optional("shedding") {
            guard case .list(let items, _) = shedValue else { throw SpecError(shedValue.location, "\(path).shedding", "must be a list of {tier, above_utilization}") }
            for (index, item) in items.enumerated() {
                var rule = try MapReader(item, path: "\(path).shedding[\(index)]")
                shedding.append(SheddingRule(tier: try rule.int("tier", min: 0), aboveUtilization: try rule.double("above_utilization", min: 0, max: 1, exclusiveMin: true)))
                try rule.finish()
            }
        }
        var rateLimit: RateLimit?
        if let limitValue = reader.optional("rate_limit") { rateLimit = try self.rateLimit(limitValue, path: "\(path).rate_limit") }
        try reader.finish()
        return RouteConfig(name: name, chain: tiers, retry: retry, retryBudget: budget, hedging: hedging, timeouts: timeouts, fallback: fallback,
                           mode: mode, rateLimit: rateLimit, maxConcurrency: maxConcurrency, shedding: shedding)
    }

    static func unknownTarget(_ name: String, _ location: SpecLocation, _ path: String, _ targets: [String]) -> SpecError {
        var message = "unknown target '\(name)'"
        if let suggestion = closest(to: name, in: targets) { message += "; did you mean '\(suggestion)'?" }
        return SpecError(location, path, message + (message.hasSuffix("?") ? " " : "; ") + "providers and pools: \(targets.joined(separator: ", "))")
    }

    static func backoff(_ value: SpecValue, path: String) throws(SpecError) -> Backoff {
        var reader = try MapReader(value, path: path)
        let kind = try reader.string("kind", oneOf: ["none", "exponential", "full_jitter", "equal_jitter", "decorrelated_jitter"])
        if kind == "none" { try reader.finish(); return .none }
        let base = try reader.double("base_s", min: 0, exclusiveMin: true)
        let cap = try reader.double("cap_s", min: 0, exclusiveMin: true)
        try reader.finish()
        if cap < base { throw SpecError(value.location, "\(path).cap_s", "must be ≥ base_s (\(base)), got \(cap)") }
        switch kind {
        case "exponential": return .exponential(baseSeconds: base, capSeconds: cap)
        case "equal_jitter": return .equalJitter(baseSeconds: base, capSeconds: cap)
        case "decorrelated_jitter": return .decorrelatedJitter(baseSeconds: base, capSeconds: cap)
        default: return .fullJitter(baseSeconds: base, capSeconds: cap)
        }
    }

    static func breaker(_ value: SpecValue, path: String) throws(SpecError) -> BreakerConfig? {
        if case .scalar(let text, _) = value, text == "none" { return nil }
        if case .scalar(let text, _) = value, text == "litellm_cooldown" { return .liteLLMCooldown }
        var reader = try MapReader(value, path: path)
        let defaults = BreakerConfig()
        let config = BreakerConfig(
            consecutiveFailures: try reader.optionalInt("consecutive_failures", min: 1),
            failureRateThreshold: try reader.optionalDouble("failure_rate", min: 0, exclusiveMin: true),
            windowSeconds: try reader.double("window_s", default: defaults.windowSeconds, min: 0, exclusiveMin: true),
            minimumRequests: try reader.int("minimum_requests", default: defaults.minimumRequests, min: 1),
            openSeconds: try reader.double("open_s", default: defaults.openSeconds, min: 0, exclusiveMin: true),
            halfOpenProbes: try reader.int("half_open_probes", default: defaults.halfOpenProbes, min: 1),
            openGrowth: try reader.double("open_growth", default: defaults.openGrowth, min: 1),
            maxOpenSeconds: try reader.double("max_open_s", default: defaults.maxOpenSeconds, min: 0, exclusiveMin: true))
        try reader.finish()
        if config.consecutiveFailures == nil && config.failureRateThreshold == nil {
            throw SpecError(value.location, path, "give consecutive_failures, failure_rate or both (or write 'none' or 'litellm_cooldown')")
        }
        return config
    }

    static func rateLimit(_ value: SpecValue, path: String) throws(SpecError) -> RateLimit {
        var reader = try MapReader(value, path: path)
        let limit = RateLimit(requestsPerMinute: try reader.optionalDouble("rpm", min: 0, exclusiveMin: true),
                              tokensPerMinute: try reader.optionalDouble("tpm", min: 0, exclusiveMin: true),
                              burstSeconds: try reader.double("burst_s", default: 1, min: 0, exclusiveMin: true))
        try reader.finish()
        if limit.requestsPerMinute == nil && limit.tokensPerMinute == nil { throw SpecError(value.location, path, "give rpm, tpm or both") }
        return limit
    }

    /// `{lognormal: {median: 0.8, p99: 4}}`, `{constant: 500}` or `{empirical: {file: x.csv, column: c}}`.
    static func distribution(_ value: SpecValue, path: String) throws(SpecError) -> Distribution {
        if case .scalar = value {
            return try DistributionFactory.make(kind: "constant", parameters: ["value": try SpecScalars.double(value, path)], location: value.location, path: path)
        }
        var reader = try MapReader(value, path: path)
        guard reader.keys.count == 1, let kind = reader.keys.first else {
            throw SpecError(value.location, path, "must name one distribution, e.g. {lognormal: {median: 0.8, p99: 4}}")
        }
        let body = reader.optional(kind)!
        try reader.finish()
        if kind == "empirical" {
            var params = try MapReader(body, path: "\(path).empirical")
            let file = try params.string("file")
            let column = try params.string("column")
            try params.finish()
            do {
                return try .empirical(csvFile: resolve(file, besides: value.location), column: column)
            } catch {
                throw SpecError(body.location, "\(path).empirical", error.message)
            }
        }
        if case .scalar = body, kind == "constant" {
            return try DistributionFactory.make(kind: kind, parameters: ["value": try SpecScalars.double(body, "\(path).constant")], location: body.location, path: path)
        }
        var params = try MapReader(body, path: "\(path).\(kind)")
        var numbers: [String: Double] = [:]
        for (key, _, item) in params.named() { numbers[key] = try SpecScalars.double(item, "\(path).\(kind).\(key)") }
        try params.finish()
        return try DistributionFactory.make(kind: kind, parameters: numbers, location: body.location, path: path)
    }

    /// A data file named in a spec: relative paths are relative to the spec file that names it.
    static func resolve(_ file: String, besides location: SpecLocation) -> String {
        guard !file.hasPrefix("/"), let slash = location.file.lastIndex(of: "/") else { return file }
        return String(location.file[..<slash]) + "/" + file
    }

    static func arrivalProcess(_ value: SpecValue, path: String) throws(SpecError) -> any ArrivalProcess & Sendable {
        var reader = try MapReader(value, path: path)
        guard reader.keys.count == 1, let kind = reader.keys.first else {
            throw SpecError(value.location, path, "must name one arrival process: poisson, diurnal, mmpp or replay")
        }
        let body = reader.optional(kind)!
        try reader.finish()
        var params = try MapReader(body, path: "\(path).\(kind)")
        do {
            switch kind {
            case "poisson":
                let rate = try params.double("rate_per_s", min: 0, exclusiveMin: true)
                try params.finish()
                return try PoissonArrivals(ratePerSecond: rate)
            case "diurnal":
                guard case .list(let items, _) = try params.required("segments") else { throw SpecError(body.location, "\(path).diurnal.segments", "must be a list of {duration_s, rate_per_s}") }
                var segments: [PiecewiseConstantArrivals.Segment] = []
                for (index, item) in items.enumerated() {
                    var segment = try MapReader(item, path: "\(path).diurnal.segments[\(index)]")
                    segments.append(.init(seconds: try segment.double("duration_s", min: 0, exclusiveMin: true), ratePerSecond: try segment.double("rate_per_s", min: 0)))
                    try segment.finish()
                }
                let repeats = try params.string("repeat", default: "true", oneOf: ["true", "false"]) == "true"
                try params.finish()
                return try PiecewiseConstantArrivals(segments: segments, repeats: repeats)
            case "mmpp":
                let rates = try params.strings("rates_per_s").enumerated().map { (i, text) throws(SpecError) in try SpecScalars.double(.scalar(text, body.location), "\(path).mmpp.rates_per_s[\(i)]", min: 0) }
                let sojourns = try params.strings("mean_sojourn_s").enumerated().map { (i, text) throws(SpecError) in try SpecScalars.double(.scalar(text, body.location), "\(path).mmpp.mean_sojourn_s[\(i)]", min: 0, exclusiveMin: true) }
                try params.finish()
                return try MarkovModulatedArrivals(ratesPerSecond: rates, chain: try MarkovChain(meanSojournSeconds: sojourns))
            case "replay":
                let file = try params.string("file")
                let column = try params.string("column", default: "timestamp_s")
                try params.finish()
                return try ReplayArrivals(csvFile: resolve(file, besides: value.location), column: column)
            default:
                var message = "unknown arrival process '\(kind)'"
                if let suggestion = closest(to: kind, in: ["poisson", "diurnal", "mmpp", "replay"]) { message += "; did you mean '\(suggestion)'?" }
                throw SpecError(value.location, path, message + (message.hasSuffix("?") ? " " : "; ") + "valid: poisson, diurnal, mmpp, replay")
            }
        } catch let error as StochasticsError {
            throw SpecError(body.location, "\(path).\(kind)", error.message)
        } catch let error as SpecError {
            throw error
        } catch {
            throw SpecError(body.location, "\(path).\(kind)", "\(error)")
        }
    }
}

/// Distributions by kind name, with StochasticsError turned into a located SpecError.
enum DistributionFactory {
    static func make(kind: String, parameters: [String: Double], location: SpecLocation, path: String) throws(SpecError) -> Distribution {
        do {
            return try DistributionCatalog.make(kind: kind, parameters: parameters)
        } catch {
            throw SpecError(location, path, error.message)
        }
    }
}
