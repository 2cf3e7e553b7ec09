/// Decoding of the routing configuration: the same schema whether it comes from an
/// experiment spec (YAML) or a gateway's config (YAML or JSON). Keys are snake_case, as a
/// user writes them; a key left out takes the default of the type's own initialiser; every
/// kind name is a `CaseIterable` enum, so the names an error lists and the `switch` that
/// builds the value cannot drift apart.
///
/// Named entries (providers, pools, routes, teams) are maps keyed by name, read in the order
/// the decoder's `allKeys` gives; decode with the config schema's decoder, which keeps the
/// order they were written in (Foundation's `JSONDecoder` does not).

extension KeyedDecodingContainer {
    /// The value at `key`, or `fallback` when the key is absent.
    public func decode<T: Decodable>(_ key: Key, default fallback: @autoclosure () -> T) throws -> T {
        try decodeIfPresent(T.self, forKey: key) ?? fallback()
    }

    /// A kind name at `key`: one of `T`'s cases, or an error listing them (and the closest).
    public func choice<T: CaseIterable & RawRepresentable>(_ type: T.Type = T.self, forKey key: Key) throws -> T where T.RawValue == String {
        let text = try decode(String.self, forKey: key)
        guard let value = T(rawValue: text) else {
            throw DecodingError.dataCorruptedError(forKey: key, in: self, debugDescription: ConfigChoice.invalid(text, of: T.self))
        }
        return value
    }

    /// A kind name at `key`, or `fallback` when the key is absent.
    public func choice<T: CaseIterable & RawRepresentable>(_ key: Key, default fallback: T) throws -> T where T.RawValue == String {
        contains(key) ? try choice(T.self, forKey: key) : fallback
    }

    /// A number at `key` within bounds (`fallback` when absent; required when there is none).
    public func number<T: Decodable & Comparable>(
        _ key: Key, default fallback: T? = nil, atLeast: T? = nil, above: T? = nil, atMost: T? = nil
    ) throws -> T {
        guard contains(key) || fallback == nil else { return fallback! }
        let value = try decode(T.self, forKey: key)
        try check(value, key, atLeast: atLeast, above: above, atMost: atMost)
        return value
    }

    /// An optional number at `key` within bounds.
    public func optionalNumber<T: Decodable & Comparable>(_ key: Key, atLeast: T? = nil, above: T? = nil, atMost: T? = nil) throws -> T? {
        guard let value = try decodeIfPresent(T.self, forKey: key) else { return nil }
        try check(value, key, atLeast: atLeast, above: above, atMost: atMost)
        return value
    }

    private func check<T: Comparable>(_ value: T, _ key: Key, atLeast: T?, above: T?, atMost: T?) throws {
        if let atLeast, value < atLeast {
            throw DecodingError.dataCorruptedError(
                forKey: key, in: self, debugDescription: "must be ≥ \(ConfigNumber.text(atLeast)), got \(ConfigNumber.text(value))")
        }
        if let above, value <= above {
            throw DecodingError.dataCorruptedError(
                forKey: key, in: self, debugDescription: "must be > \(ConfigNumber.text(above)), got \(ConfigNumber.text(value))")
        }
        if let atMost, value > atMost {
            throw DecodingError.dataCorruptedError(
                forKey: key, in: self, debugDescription: "must be ≤ \(ConfigNumber.text(atMost)), got \(ConfigNumber.text(value))")
        }
    }
}

/// Kind names in errors.
public enum ConfigChoice {
    /// "'x' is not valid; did you mean 'y'? Valid: a, b, c".
    public static func invalid<T: CaseIterable & RawRepresentable>(_ text: String, of type: T.Type) -> String where T.RawValue == String {
        invalid(text, valid: T.allCases.map(\.rawValue))
    }

    /// The same, for a list of valid names.
    public static func invalid(_ text: String, valid: [String]) -> String {
        var message = "'\(text)' is not valid"
        if let suggestion = NameSuggestion.closest(to: text, in: valid) {
            message += "; did you mean '\(suggestion)'? Valid: "
        } else {
            message += "; valid: "
        }
        return message + valid.joined(separator: ", ")
    }
}

/// Numbers in messages: whole numbers without a fractional part.
public enum ConfigNumber {
    public static func text<T>(_ value: T) -> String {
        if let double = value as? Double, double == double.rounded(), abs(double) < 1e15 { return String(Int(double)) }
        return "\(value)"
    }
}

// MARK: The routing configuration

extension RouterConfig: Decodable {
    enum CodingKeys: String, CodingKey, CaseIterable {
        case providers, pools, gateway, routes, teams
        case keyBudgets = "key_budgets"
    }

    enum GatewayKeys: String, CodingKey, CaseIterable {
        case amplificationWarningThreshold = "amplification_warning_threshold"
    }

    enum TeamKeys: String, CodingKey, CaseIterable { case budget }

    /// Reads `providers`, `pools`, `gateway` (health settings), `routes`, `teams` (tier, rate
    /// limit, budget) and `key_budgets`; other sections of a spec belong to others.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let defaults = RouterConfig(targets: [], routes: [])
        var targets: [TargetConfig] = []
        let providers = try c.nestedContainer(keyedBy: ConfigKey.self, forKey: .providers)
        for key in providers.allKeys { targets.append(try TargetConfig(from: try providers.superDecoder(forKey: key), kind: .provider)) }
        if c.contains(.pools) {
            let pools = try c.nestedContainer(keyedBy: ConfigKey.self, forKey: .pools)
            for key in pools.allKeys { targets.append(try TargetConfig(from: try pools.superDecoder(forKey: key), kind: .local)) }
        }
        var health = defaults.health
        var amplification = defaults.amplificationWarningThreshold
        if c.contains(.gateway) {
            health = try HealthConfig(from: try c.superDecoder(forKey: .gateway))
            let gateway = try c.nestedContainer(keyedBy: GatewayKeys.self, forKey: .gateway)
            amplification = try gateway.number(.amplificationWarningThreshold, default: amplification, atLeast: 1)
        }
        var routes: [RouteConfig] = []
        let routeEntries = try c.nestedContainer(keyedBy: ConfigKey.self, forKey: .routes)
        for key in routeEntries.allKeys { routes.append(try routeEntries.decode(RouteConfig.self, forKey: key)) }
        var teams: [TeamConfig] = []
        var budgets: [BudgetConfig] = []
        if c.contains(.teams) {
            let teamEntries = try c.nestedContainer(keyedBy: ConfigKey.self, forKey: .teams)
            for key in teamEntries.allKeys {
                teams.append(try teamEntries.decode(TeamConfig.self, forKey: key))
                let team = try teamEntries.nestedContainer(keyedBy: TeamKeys.self, forKey: key)
                if team.contains(.budget) {
                    budgets.append(try BudgetConfig(from: try team.superDecoder(forKey: .budget), scope: .team(key.stringValue)))
                }
            }
        }
        if c.contains(.keyBudgets) {
            let keyEntries = try c.nestedContainer(keyedBy: ConfigKey.self, forKey: .keyBudgets)
            for key in keyEntries.allKeys {
                budgets.append(try BudgetConfig(from: try keyEntries.superDecoder(forKey: key), scope: .key(key.stringValue)))
            }
        }
        self.init(targets: targets, routes: routes, teams: teams, budgets: budgets, health: health, amplificationWarningThreshold: amplification)
    }
}

extension TargetConfig {
    enum ProviderKeys: String, CodingKey, CaseIterable {
        case inputPrice = "input_usd_per_mtok", outputPrice = "output_usd_per_mtok", rpm, inputTPM = "input_tpm"
        case typicalRetryAfter = "typical_retry_after_s", breaker, qualityTier = "quality_tier"
    }

    enum PoolKeys: String, CodingKey, CaseIterable {
        case gpuPrice = "gpu_usd_per_hour", replicas, concurrencyPerReplica = "concurrency_per_replica", queue
        case autoscaling, maxGPUSecondsPerAttempt = "max_gpu_seconds_per_attempt", qualityTier = "quality_tier", breaker
        case gpusPerReplica = "gpus_per_replica"
    }

    enum AutoscalingKeys: String, CodingKey, CaseIterable { case maxReplicas = "max_replicas" }

    /// A provider (`providers.NAME`: prices, the limits the router knows, the usual
    /// Retry-After, a breaker of its own) or a local pool (`pools.NAME`: GPU price, replicas
    /// and their concurrency and GPUs, queue, quality tier); the name is the key it is written under.
    public init(from decoder: any Decoder, kind: Kind) throws {
        let d = TargetConfig(name: decoder.entryName, kind: kind)
        switch kind {
        case .provider:
            let c = try decoder.container(keyedBy: ProviderKeys.self)
            let rpm: Double? = try c.optionalNumber(.rpm, above: 0)
            let tpm: Double? = try c.optionalNumber(.inputTPM, above: 0)
            self.init(
                name: d.name, kind: kind,
                inputPricePerMillion: try c.number(.inputPrice, atLeast: 0), outputPricePerMillion: try c.number(.outputPrice, atLeast: 0),
                limits: rpm == nil && tpm == nil ? nil : RateLimit(requestsPerMinute: rpm, tokensPerMinute: tpm),
                qualityTier: try c.number(.qualityTier, default: d.qualityTier, atLeast: 0),
                typicalRetryAfterSeconds: try c.optionalNumber(.typicalRetryAfter, atLeast: 0),
                breaker: try c.decodeIfPresent(BreakerConfig.self, forKey: .breaker))
        case .local:
            let c = try decoder.container(keyedBy: PoolKeys.self)
            let replicas: Int = try c.number(.replicas, atLeast: 1)
            var maxReplicas = replicas
            if c.contains(.autoscaling) {
                maxReplicas = try c.nestedContainer(keyedBy: AutoscalingKeys.self, forKey: .autoscaling).number(.maxReplicas, atLeast: replicas)
            }
            let capacity = LocalCapacity(
                replicas: replicas, concurrencyPerReplica: try c.number(.concurrencyPerReplica, atLeast: 1), maxReplicas: maxReplicas,
                gpusPerReplica: try c.number(.gpusPerReplica, default: 1, atLeast: 1))
            self.init(
                name: d.name, kind: kind, gpuPricePerHour: try c.number(.gpuPrice, atLeast: 0),
                maxConcurrency: capacity.maxConcurrency, queueLimit: try c.number(.queue, default: 0, atLeast: 0),
                maxGPUSecondsPerAttempt: try c.number(.maxGPUSecondsPerAttempt, default: d.maxGPUSecondsPerAttempt, above: 0),
                qualityTier: try c.number(.qualityTier, default: d.qualityTier, atLeast: 0),
                breaker: try c.decodeIfPresent(BreakerConfig.self, forKey: .breaker))
            localCapacity = capacity
        }
    }
}

extension TierConfig: Decodable {
    enum CodingKeys: String, CodingKey, CaseIterable {
        case targets, balancing, weights
        case latencyBound = "latency_bound_s"
    }

    /// `name`, `[a, b]` or `{targets, balancing, weights, latency_bound_s}`.
    public init(from decoder: any Decoder) throws {
        if let one = try? decoder.singleValueContainer().decode(String.self) {
            self.init(targets: [one])
            return
        }
        if let names = try? decoder.singleValueContainer().decode([String].self) {
            self.init(targets: names)
            return
        }
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let balancing: LoadBalancing
        switch try c.choice(.balancing, default: LoadBalancing.Kind.weightedRandom) {
        case .weightedRandom: balancing = .weightedRandom(weights: try c.decodeIfPresent([Double].self, forKey: .weights))
        case .leastOutstanding: balancing = .leastOutstanding
        case .lowestLatency: balancing = .lowestLatency
        case .costAware: balancing = .costAware(latencyBoundSeconds: try c.number(.latencyBound, above: 0))
        }
        self.init(targets: try c.decode([String].self, forKey: .targets), balancing: balancing)
    }
}

extension RetryPolicy: Decodable {
    enum CodingKeys: String, CodingKey, CaseIterable {
        case maxAttempts = "max_attempts", retryOn = "retry_on", backoff
        case honourRetryAfter = "honour_retry_after", retryAfterCap = "retry_after_cap_s", target
        case sameTargetRetries = "same_target_retries"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = RetryPolicy()
        var retryOn = d.retryOn
        if c.contains(.retryOn) {
            var list = try c.nestedUnkeyedContainer(forKey: .retryOn)
            retryOn = []
            while !list.isAtEnd {
                let text = try list.decode(String.self)
                if text == OutcomeClass.failedAfterFirstByte.rawValue {
                    throw DecodingError.dataCorruptedError(
                        in: list,
                        debugDescription:
                            "'\(text)' is never retried: the client already has the answer's first bytes, and failover stops there")
                }
                let valid = OutcomeClass.failures.filter { !RetryPolicy.neverRetried.contains($0) }.map(\.rawValue)
                guard let outcome = OutcomeClass(rawValue: text), valid.contains(text) else {
                    throw DecodingError.dataCorruptedError(in: list, debugDescription: ConfigChoice.invalid(text, valid: valid))
                }
                retryOn.insert(outcome)
            }
        }
        self.init(
            maxAttempts: try c.decode(.maxAttempts, default: d.maxAttempts), retryOn: retryOn,
            backoff: try c.decode(.backoff, default: d.backoff), honourRetryAfter: try c.decode(.honourRetryAfter, default: d.honourRetryAfter),
            retryAfterCapSeconds: try c.decode(.retryAfterCap, default: d.retryAfterCapSeconds), target: try c.choice(.target, default: d.target),
            sameTargetRetries: try c.decode(.sameTargetRetries, default: d.sameTargetRetries))
    }
}

extension Backoff: Decodable {
    enum CodingKeys: String, CodingKey, CaseIterable {
        case kind
        case base = "base_s", cap = "cap_s"
    }

    /// `{kind: none}` or `{kind: full_jitter, base_s, cap_s}`.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let kind = try c.choice(Kind.self, forKey: .kind)
        if kind == .none {
            self = .none
            return
        }
        let base: Double = try c.number(.base, above: 0)
        let cap: Double = try c.number(.cap, above: 0)
        switch kind {
        case .none: self = .none
        case .exponential: self = .exponential(baseSeconds: base, capSeconds: cap)
        case .fullJitter: self = .fullJitter(baseSeconds: base, capSeconds: cap)
        case .equalJitter: self = .equalJitter(baseSeconds: base, capSeconds: cap)
        case .decorrelatedJitter: self = .decorrelatedJitter(baseSeconds: base, capSeconds: cap)
        }
    }
}

extension RetryBudgetConfig: Decodable {
    enum CodingKeys: String, CodingKey, CaseIterable {
        case kind
        case ttl = "ttl_s", minRetriesPerSecond = "min_retries_per_s", percentCanRetry = "percent_can_retry"
        case maxTokens = "max_tokens", tokenRatio = "token_ratio"
        case k
        case window = "window_s"
    }

    /// `{kind: finagle, ttl_s, min_retries_per_s, percent_can_retry}`, `{kind: grpc, max_tokens,
    /// token_ratio}`, `{kind: adaptive_throttling, k, window_s}` or `{kind: unlimited}`; each
    /// parameter left out takes the kind's published default.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        switch try c.choice(Kind.self, forKey: .kind) {
        case .unlimited:
            self = .unlimited
        case .finagle:
            guard case .finagle(let ttl, let minimum, let percent) = RetryBudgetConfig.finagleDefault else { preconditionFailure() }
            self = .finagle(
                ttlSeconds: try c.decode(.ttl, default: ttl), minRetriesPerSecond: try c.decode(.minRetriesPerSecond, default: minimum),
                percentCanRetry: try c.decode(.percentCanRetry, default: percent))
        case .grpc:
            guard case .grpc(let maxTokens, let ratio) = RetryBudgetConfig.grpcDefault else { preconditionFailure() }
            self = .grpc(maxTokens: try c.decode(.maxTokens, default: maxTokens), tokenRatio: try c.decode(.tokenRatio, default: ratio))
        case .adaptiveThrottling:
            guard case .adaptiveThrottling(let k, let window) = RetryBudgetConfig.adaptiveThrottlingDefault else { preconditionFailure() }
            self = .adaptiveThrottling(k: try c.decode(.k, default: k), windowSeconds: try c.decode(.window, default: window))
        }
    }
}

extension HedgingPolicy: Decodable {
    enum CodingKeys: String, CodingKey, CaseIterable {
        case after = "after_s", latencyPercentile = "latency_percentile", minimumSamples = "minimum_samples"
    }

    /// `{after_s}` or `{latency_percentile, minimum_samples}`.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        if c.contains(.after) {
            self.init(delay: .fixed(seconds: try c.decode(Double.self, forKey: .after)))
        } else {
            self.init(
                delay: .latencyPercentile(
                    percentile: try c.decode(Double.self, forKey: .latencyPercentile),
                    minimumSamples: try c.decode(.minimumSamples, default: HedgeDelay.defaultMinimumSamples)))
        }
    }
}

extension Timeouts: Decodable {
    enum CodingKeys: String, CodingKey, CaseIterable {
        case firstToken = "first_token_s", perTry = "per_try_s", overall = "overall_s", idle = "idle_s"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            firstTokenSeconds: try c.decodeIfPresent(Double.self, forKey: .firstToken),
            perTrySeconds: try c.decodeIfPresent(Double.self, forKey: .perTry),
            overallSeconds: try c.decodeIfPresent(Double.self, forKey: .overall), idleSeconds: try c.decodeIfPresent(Double.self, forKey: .idle))
    }
}

extension FallbackConfig: Decodable {
    enum CodingKeys: String, CodingKey, CaseIterable {
        case pools, policy
        case aboveConcurrency = "above_concurrency"
    }

    /// `{pools, policy: when_frontier_unhealthy | spillover | when_queue_fits, above_concurrency}`.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let policy: FallbackPolicy
        switch try c.choice(.policy, default: FallbackPolicy.Kind.whenFrontierUnhealthy) {
        case .whenFrontierUnhealthy: policy = .whenFrontierUnhealthy
        case .spillover: policy = .spillover(aboveConcurrency: try c.decode(Int.self, forKey: .aboveConcurrency))
        case .whenQueueFits: policy = .whenQueueFits
        }
        self.init(targets: try c.decode([String].self, forKey: .pools), policy: policy)
    }
}

extension SheddingRule: Decodable {
    enum CodingKeys: String, CodingKey, CaseIterable {
        case tier
        case aboveUtilization = "above_utilization"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(tier: try c.decode(Int.self, forKey: .tier), aboveUtilization: try c.decode(Double.self, forKey: .aboveUtilization))
    }
}

extension RouteConfig: Decodable {
    enum CodingKeys: String, CodingKey, CaseIterable {
        case chain, retry, hedging, timeouts, fallback, mode, shedding
        case retryBudget = "retry_budget", rateLimit = "rate_limit", maxConcurrency = "max_concurrency"
        case contextWindowFallbacks = "context_window_fallbacks", onMalformedEvent = "on_malformed_event", streamCommit = "stream_commit"
        case crossProtocol = "cross_protocol"
    }

    /// `routes.NAME`; the name is the key it is written under.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = RouteConfig(name: decoder.entryName, chain: [])
        self.init(
            name: d.name, chain: try c.decode([TierConfig].self, forKey: .chain),
            retry: try c.decode(.retry, default: d.retry), retryBudget: try c.decode(.retryBudget, default: d.retryBudget),
            hedging: try c.decodeIfPresent(HedgingPolicy.self, forKey: .hedging), timeouts: try c.decode(.timeouts, default: d.timeouts),
            fallback: try c.decodeIfPresent(FallbackConfig.self, forKey: .fallback), mode: try c.choice(.mode, default: d.mode),
            rateLimit: try c.decodeIfPresent(RateLimit.self, forKey: .rateLimit),
            maxConcurrency: try c.decodeIfPresent(Int.self, forKey: .maxConcurrency),
            shedding: try c.decode(.shedding, default: d.shedding),
            contextWindowFallbacks: try c.decode(.contextWindowFallbacks, default: d.contextWindowFallbacks),
            onMalformedEvent: try c.choice(.onMalformedEvent, default: d.onMalformedEvent),
            streamCommit: try c.decode(.streamCommit, default: d.streamCommit),
            crossProtocol: try c.decode(.crossProtocol, default: d.crossProtocol)
        )
    }
}

extension StreamCommit: Decodable {
    enum CodingKeys: String, CodingKey, CaseIterable {
        case afterTokens = "after_tokens", afterSeconds = "after_s", complete, maxHeldBytes = "max_held_bytes"
    }

    /// `{after_tokens, after_s, max_held_bytes}` (either or both: whichever comes first) or
    /// `{complete: true, max_held_bytes}`.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            afterTokens: try c.optionalNumber(.afterTokens, atLeast: 1), afterSeconds: try c.optionalNumber(.afterSeconds, above: 0),
            complete: try c.decode(.complete, default: false),
            maxHeldBytes: try c.number(.maxHeldBytes, default: StreamCommit.defaultMaxHeldBytes, atLeast: 1))
        if complete && (afterTokens != nil || afterSeconds != nil) {
            throw DecodingError.dataCorruptedError(
                forKey: .complete, in: c, debugDescription: "a complete answer is held whole: give complete: true, or after_tokens/after_s, not both")
        }
        if !complete && afterTokens == nil && afterSeconds == nil {
            throw DecodingError.dataCorrupted(
                .init(codingPath: decoder.codingPath, debugDescription: "give after_tokens, after_s (or both), or complete: true"))
        }
    }
}

extension BreakerConfig: Decodable {
    enum CodingKeys: String, CodingKey, CaseIterable {
        case consecutiveFailures = "consecutive_failures", failureRate = "failure_rate", window = "window_s"
        case minimumRequests = "minimum_requests", open = "open_s", halfOpenProbes = "half_open_probes"
        case openGrowth = "open_growth", maxOpen = "max_open_s"
    }

    /// `{consecutive_failures, failure_rate, window_s, …}`: the trips named are the trips used.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = BreakerConfig(consecutiveFailures: nil, failureRateThreshold: nil)
        self.init(
            consecutiveFailures: try c.decodeIfPresent(Int.self, forKey: .consecutiveFailures),
            failureRateThreshold: try c.decodeIfPresent(Double.self, forKey: .failureRate),
            windowSeconds: try c.decode(.window, default: d.windowSeconds),
            minimumRequests: try c.decode(.minimumRequests, default: d.minimumRequests),
            openSeconds: try c.decode(.open, default: d.openSeconds), halfOpenProbes: try c.decode(.halfOpenProbes, default: d.halfOpenProbes),
            openGrowth: try c.decode(.openGrowth, default: d.openGrowth), maxOpenSeconds: try c.decode(.maxOpen, default: d.maxOpenSeconds)
        )
        if consecutiveFailures == nil && failureRateThreshold == nil {
            throw DecodingError.dataCorrupted(
                .init(
                    codingPath: decoder.codingPath,
                    debugDescription: "give consecutive_failures, failure_rate or both (or write 'none' or 'litellm_cooldown')"))
        }
    }
}

extension OutlierDetectionConfig: Decodable {
    enum CodingKeys: String, CodingKey, CaseIterable {
        case consecutiveFailures = "consecutive_failures", baseEjection = "base_ejection_s", maxEjectionPercent = "max_ejection_percent"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = OutlierDetectionConfig()
        self.init(
            consecutiveFailures: try c.decode(.consecutiveFailures, default: d.consecutiveFailures),
            baseEjectionSeconds: try c.decode(.baseEjection, default: d.baseEjectionSeconds),
            maxEjectionPercent: try c.decode(.maxEjectionPercent, default: d.maxEjectionPercent))
    }
}

extension RateLimit: Decodable {
    enum CodingKeys: String, CodingKey, CaseIterable {
        case rpm, tpm
        case burst = "burst_s"
    }

    /// `{rpm, tpm, burst_s}` (a team's or a route's own limit).
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = RateLimit()
        self.init(
            requestsPerMinute: try c.decodeIfPresent(Double.self, forKey: .rpm), tokensPerMinute: try c.decodeIfPresent(Double.self, forKey: .tpm),
            burstSeconds: try c.decode(.burst, default: d.burstSeconds))
    }
}

extension TeamConfig: Decodable {
    enum CodingKeys: String, CodingKey, CaseIterable {
        case tier
        case rateLimit = "rate_limit"
    }

    /// `teams.NAME`: its priority tier and rate limit (its budget is a ``BudgetConfig``).
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = TeamConfig(name: decoder.entryName)
        self.init(name: d.name, tier: try c.decode(.tier, default: d.tier), rateLimit: try c.decodeIfPresent(RateLimit.self, forKey: .rateLimit))
    }
}

extension BudgetConfig {
    enum CodingKeys: String, CodingKey, CaseIterable {
        case usd, period, mode
        case periodSeconds = "period_s", degradeTo = "degrade_to", stateDown = "state_down"
    }

    /// `{usd, period: day | month | period_s: N, mode: hard_stop | degrade | alert_only, degrade_to,
    /// state_down: fail_open | fail_closed}`.
    public init(from decoder: any Decoder, scope: BudgetScope) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let mode: BudgetMode
        switch try c.choice(.mode, default: BudgetMode.Kind.hardStop) {
        case .hardStop: mode = .hardStop
        case .degrade: mode = .degrade(toRoute: try c.decode(String.self, forKey: .degradeTo))
        case .alertOnly: mode = .alertOnly
        }
        var period = BudgetPeriod.default
        if c.contains(.period) && c.contains(.periodSeconds) {
            throw DecodingError.dataCorruptedError(
                forKey: .periodSeconds, in: c, debugDescription: "give period (day or month) or period_s, not both")
        }
        if c.contains(.period) {
            switch try c.choice(BudgetPeriod.Calendar.self, forKey: .period) {
            case .day: period = .day
            case .month: period = .month
            }
        } else if c.contains(.periodSeconds) {
            period = .every(seconds: try c.decode(Double.self, forKey: .periodSeconds))
        }
        var whenStateDown = StateDownPolicy.failOpen
        if let name = try c.decodeIfPresent(String.self, forKey: .stateDown) {
            guard let known = StateDownPolicy(rawValue: name) else {
                throw DecodingError.dataCorruptedError(
                    forKey: .stateDown, in: c, debugDescription: ConfigChoice.invalid(name, of: StateDownPolicy.self))
            }
            whenStateDown = known
        }
        self.init(scope: scope, limitUSD: try c.decode(Double.self, forKey: .usd), period: period, mode: mode, whenStateDown: whenStateDown)
    }
}

extension HealthConfig: Decodable {
    enum CodingKeys: String, CodingKey, CaseIterable {
        case breaker
        case breakerScope = "breaker_scope"
        case outlierDetection = "outlier_detection", latencyEWMAWeight = "latency_ewma_weight"
    }

    /// The `gateway` section's health settings: `breaker` (a map, `none` or
    /// `litellm_cooldown`), `breaker_scope` (`replica` or `shared`), `outlier_detection`,
    /// `latency_ewma_weight`.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = HealthConfig()
        var breaker = d.breaker
        if c.contains(.breaker) {
            if let preset = try? c.decode(String.self, forKey: .breaker) {
                guard let known = BreakerConfig.Preset(rawValue: preset) else {
                    throw DecodingError.dataCorruptedError(
                        forKey: .breaker, in: c,
                        debugDescription: ConfigChoice.invalid(preset, of: BreakerConfig.Preset.self)
                            + ", or a map {consecutive_failures, failure_rate, …}")
                }
                switch known {
                case .none: breaker = nil
                case .litellmCooldown: breaker = .liteLLMCooldown
                }
            } else {
                breaker = try c.decode(BreakerConfig.self, forKey: .breaker)
            }
        }
        var scope = d.breakerScope
        if let name = try c.decodeIfPresent(String.self, forKey: .breakerScope) {
            guard let known = BreakerScope(rawValue: name) else {
                throw DecodingError.dataCorruptedError(
                    forKey: .breakerScope, in: c, debugDescription: ConfigChoice.invalid(name, of: BreakerScope.self))
            }
            scope = known
        }
        self.init(
            breaker: breaker, breakerScope: scope,
            outlierDetection: try c.decodeIfPresent(OutlierDetectionConfig.self, forKey: .outlierDetection),
            latencyEWMAWeight: try c.decode(.latencyEWMAWeight, default: d.latencyEWMAWeight))
    }
}

extension Decoder {
    /// A value written as a map whose one key names its kind (`{lognormal: {median: 1, p99: 4}}`,
    /// `{two_state: {…}}`), beside any keys in `besides` (`name`): the kind, and a decoder for
    /// what is written under it.
    public func kindEntry<K: CaseIterable & RawRepresentable>(
        _ type: K.Type, what: String, besides: Set<String> = []
    ) throws -> (kind: K, body: any Decoder) where K.RawValue == String {
        let c = try container(keyedBy: ConfigKey.self)
        let valid = K.allCases.map(\.rawValue)
        let keys = c.allKeys.filter { !besides.contains($0.stringValue) }
        guard keys.count == 1, let key = keys.first else {
            throw DecodingError.dataCorrupted(
                .init(
                    codingPath: codingPath,
                    debugDescription: "must name one \(what): \(valid.joined(separator: ", "))"
                        + (keys.isEmpty ? "" : "; got \(keys.map(\.stringValue).joined(separator: ", "))")))
        }
        guard let kind = K(rawValue: key.stringValue) else {
            throw DecodingError.dataCorruptedError(
                forKey: key, in: c,
                debugDescription: "unknown \(what) '\(key.stringValue)'" + ConfigChoice.invalid(key.stringValue, valid: valid).drop { $0 != ";" })
        }
        return (kind, try c.superDecoder(forKey: key))
    }
}
