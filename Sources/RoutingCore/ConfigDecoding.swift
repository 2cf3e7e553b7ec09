/// Decoding with documented defaults: a config file names only what differs from them.
/// Every key left out takes the value of the memberwise initialiser's default.

extension KeyedDecodingContainer {
    func value<T: Decodable>(_ key: Key, default fallback: @autoclosure () -> T) throws -> T {
        try decodeIfPresent(T.self, forKey: key) ?? fallback()
    }
}

extension TargetConfig {
    enum CodingKeys: String, CodingKey {
        case name, kind, inputPricePerMillion, outputPricePerMillion, gpuPricePerHour, limits, maxConcurrency, queueLimit
        case maxGPUSecondsPerAttempt, qualityTier, typicalRetryAfterSeconds, breaker
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let defaults = TargetConfig(name: "")
        self.init(
            name: try c.decode(String.self, forKey: .name),
            kind: try c.value(.kind, default: defaults.kind),
            inputPricePerMillion: try c.value(.inputPricePerMillion, default: defaults.inputPricePerMillion),
            outputPricePerMillion: try c.value(.outputPricePerMillion, default: defaults.outputPricePerMillion),
            gpuPricePerHour: try c.value(.gpuPricePerHour, default: defaults.gpuPricePerHour),
            limits: try c.decodeIfPresent(RateLimit.self, forKey: .limits),
            maxConcurrency: try c.decodeIfPresent(Int.self, forKey: .maxConcurrency),
            queueLimit: try c.decodeIfPresent(Int.self, forKey: .queueLimit),
            maxGPUSecondsPerAttempt: try c.value(.maxGPUSecondsPerAttempt, default: defaults.maxGPUSecondsPerAttempt),
            qualityTier: try c.value(.qualityTier, default: defaults.qualityTier),
            typicalRetryAfterSeconds: try c.decodeIfPresent(Double.self, forKey: .typicalRetryAfterSeconds),
            breaker: try c.decodeIfPresent(BreakerConfig.self, forKey: .breaker)
        )
    }
}

extension TierConfig {
    enum CodingKeys: String, CodingKey { case targets, balancing }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(targets: try c.decode([String].self, forKey: .targets),
                  balancing: try c.value(.balancing, default: .weightedRandom(weights: nil)))
    }
}

extension RetryPolicy {
    enum CodingKeys: String, CodingKey { case maxAttempts, retryOn, backoff, honourRetryAfter, retryAfterCapSeconds, target }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = RetryPolicy()
        self.init(maxAttempts: try c.value(.maxAttempts, default: d.maxAttempts), retryOn: try c.value(.retryOn, default: d.retryOn),
                  backoff: try c.value(.backoff, default: d.backoff), honourRetryAfter: try c.value(.honourRetryAfter, default: d.honourRetryAfter),
                  retryAfterCapSeconds: try c.value(.retryAfterCapSeconds, default: d.retryAfterCapSeconds), target: try c.value(.target, default: d.target))
    }
}

extension RouteConfig {
    enum CodingKeys: String, CodingKey {
        case name, chain, retry, retryBudget, hedging, timeouts, fallback, mode, rateLimit, maxConcurrency, shedding
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            name: try c.decode(String.self, forKey: .name), chain: try c.decode([TierConfig].self, forKey: .chain),
            retry: try c.value(.retry, default: RetryPolicy()), retryBudget: try c.value(.retryBudget, default: .finagleDefault),
            hedging: try c.decodeIfPresent(HedgingPolicy.self, forKey: .hedging), timeouts: try c.value(.timeouts, default: Timeouts()),
            fallback: try c.decodeIfPresent(FallbackConfig.self, forKey: .fallback), mode: try c.value(.mode, default: .gateway),
            rateLimit: try c.decodeIfPresent(RateLimit.self, forKey: .rateLimit), maxConcurrency: try c.decodeIfPresent(Int.self, forKey: .maxConcurrency),
            shedding: try c.value(.shedding, default: [])
        )
    }
}

extension BreakerConfig {
    enum CodingKeys: String, CodingKey {
        case consecutiveFailures, failureRateThreshold, windowSeconds, minimumRequests, openSeconds, halfOpenProbes, openGrowth, maxOpenSeconds
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = BreakerConfig()
        self.init(
            consecutiveFailures: c.contains(.consecutiveFailures) ? try c.decodeIfPresent(Int.self, forKey: .consecutiveFailures) : d.consecutiveFailures,
            failureRateThreshold: c.contains(.failureRateThreshold) ? try c.decodeIfPresent(Double.self, forKey: .failureRateThreshold) : d.failureRateThreshold,
            windowSeconds: try c.value(.windowSeconds, default: d.windowSeconds), minimumRequests: try c.value(.minimumRequests, default: d.minimumRequests),
            openSeconds: try c.value(.openSeconds, default: d.openSeconds), halfOpenProbes: try c.value(.halfOpenProbes, default: d.halfOpenProbes),
            openGrowth: try c.value(.openGrowth, default: d.openGrowth), maxOpenSeconds: try c.value(.maxOpenSeconds, default: d.maxOpenSeconds)
        )
    }
}

extension OutlierDetectionConfig {
    enum CodingKeys: String, CodingKey { case consecutiveFailures, baseEjectionSeconds, maxEjectionPercent }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = OutlierDetectionConfig()
        self.init(consecutiveFailures: try c.value(.consecutiveFailures, default: d.consecutiveFailures),
                  baseEjectionSeconds: try c.value(.baseEjectionSeconds, default: d.baseEjectionSeconds),
                  maxEjectionPercent: try c.value(.maxEjectionPercent, default: d.maxEjectionPercent))
    }
}

extension RateLimit {
    enum CodingKeys: String, CodingKey { case requestsPerMinute, tokensPerMinute, burstSeconds }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(requestsPerMinute: try c.decodeIfPresent(Double.self, forKey: .requestsPerMinute),
                  tokensPerMinute: try c.decodeIfPresent(Double.self, forKey: .tokensPerMinute),
                  burstSeconds: try c.value(.burstSeconds, default: 1))
    }
}

extension FallbackConfig {
    enum CodingKeys: String, CodingKey { case targets, policy }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(targets: try c.decode([String].self, forKey: .targets), policy: try c.value(.policy, default: .whenFrontierUnhealthy))
    }
}

extension TeamConfig {
    enum CodingKeys: String, CodingKey { case name, tier, rateLimit }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(name: try c.decode(String.self, forKey: .name), tier: try c.value(.tier, default: 0),
                  rateLimit: try c.decodeIfPresent(RateLimit.self, forKey: .rateLimit))
    }
}

extension HealthConfig {
    enum CodingKeys: String, CodingKey { case breaker, outlierDetection, latencyEWMAWeight }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = HealthConfig()
        self.init(breaker: c.contains(.breaker) ? try c.decodeIfPresent(BreakerConfig.self, forKey: .breaker) : d.breaker,
                  outlierDetection: try c.decodeIfPresent(OutlierDetectionConfig.self, forKey: .outlierDetection),
                  latencyEWMAWeight: try c.value(.latencyEWMAWeight, default: d.latencyEWMAWeight))
    }
}

extension RouterConfig {
    enum CodingKeys: String, CodingKey { case targets, routes, teams, budgets, health, amplificationWarningThreshold }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(targets: try c.decode([TargetConfig].self, forKey: .targets), routes: try c.decode([RouteConfig].self, forKey: .routes),
                  teams: try c.value(.teams, default: []), budgets: try c.value(.budgets, default: []),
                  health: try c.value(.health, default: HealthConfig()),
                  amplificationWarningThreshold: try c.value(.amplificationWarningThreshold, default: 5))
    }
}

// Optional fields whose default is not nil are written as explicit nulls, so that an
// encoded config decodes to itself rather than to the default.

extension BreakerConfig {
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(consecutiveFailures, forKey: .consecutiveFailures)
        try c.encode(failureRateThreshold, forKey: .failureRateThreshold)
        try c.encode(windowSeconds, forKey: .windowSeconds)
        try c.encode(minimumRequests, forKey: .minimumRequests)
        try c.encode(openSeconds, forKey: .openSeconds)
        try c.encode(halfOpenProbes, forKey: .halfOpenProbes)
        try c.encode(openGrowth, forKey: .openGrowth)
        try c.encode(maxOpenSeconds, forKey: .maxOpenSeconds)
    }
}

extension HealthConfig {
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(breaker, forKey: .breaker)
        try c.encodeIfPresent(outlierDetection, forKey: .outlierDetection)
        try c.encode(latencyEWMAWeight, forKey: .latencyEWMAWeight)
    }
}
