/// One problem found in a router config: where (a key path such as `routes[1].retry`) and what.
public struct ConfigFinding: Codable, Sendable, Equatable, CustomStringConvertible {
    public let path: String
    public let message: String

    public init(path: String, message: String) {
        self.path = path
        self.message = message
    }

    public var description: String { "\(path): \(message)" }
}

/// The result of validating a config: errors make it unusable; warnings are lint findings.
public struct ConfigReport: Sendable, Equatable {
    public var errors: [ConfigFinding] = []
    public var warnings: [ConfigFinding] = []
}

/// A router was given a config with errors.
public struct RouterConfigError: Error, Sendable, Equatable, CustomStringConvertible {
    public let findings: [ConfigFinding]

    public var description: String {
        findings.map(\.description).joined(separator: "\n")
    }
}

extension RouterConfig {
    /// The most targets a router can have: it keeps the targets a request has tried in a
    /// 64-bit mask.
    public static let maximumTargets = 64

    /// Checks the config: errors (unknown targets, fallback loops, impossible numbers) and
    /// lint warnings (unreachable fallbacks, Retry-After caps below the provider's usual
    /// reset, retries on a one-target chain, worst-case retry amplification).
    public func validate() -> ConfigReport {
        var report = ConfigReport()
        func error(_ path: String, _ message: String) { report.errors.append(ConfigFinding(path: path, message: message)) }
        func warn(_ path: String, _ message: String) { report.warnings.append(ConfigFinding(path: path, message: message)) }
        func positive(_ value: Double, _ path: String) {
            if !(value.isFinite && value > 0) { error(path, "must be a number > 0, got \(value)") }
        }

        let targetNames = targets.map(\.name)
        let known = "known targets: \(targetNames.joined(separator: ", "))"
        if targets.isEmpty { error("targets", "at least one target is needed") }
        if targets.count > RouterConfig.maximumTargets { error("targets", "at most \(RouterConfig.maximumTargets) targets, got \(targets.count)") }
        if routes.isEmpty { error("routes", "at least one route is needed") }
        for (name, count) in Dictionary(targetNames.map { ($0, 1) }, uniquingKeysWith: +).sorted(by: { $0.key < $1.key }) where count > 1 {
            error("targets", "target '\(name)' is defined \(count) times; names must be unique")
        }
        for (name, count) in Dictionary(routes.map { ($0.name, 1) }, uniquingKeysWith: +).sorted(by: { $0.key < $1.key }) where count > 1 {
            error("routes", "route '\(name)' is defined \(count) times; names must be unique")
        }
        for (name, count) in Dictionary(teams.map { ($0.name, 1) }, uniquingKeysWith: +).sorted(by: { $0.key < $1.key }) where count > 1 {
            error("teams", "team '\(name)' is defined \(count) times; names must be unique")
        }

        for (i, target) in targets.enumerated() {
            let path = "targets[\(i)]"
            for (value, key) in [(target.inputPricePerMillion, "inputPricePerMillion"), (target.outputPricePerMillion, "outputPricePerMillion"), (target.gpuPricePerHour, "gpuPricePerHour")] where !(value.isFinite && value >= 0) {
                error("\(path).\(key)", "must be a number ≥ 0, got \(value)")
            }
            if target.kind == .local {
                if let concurrency = target.maxConcurrency, concurrency < 1 { error("\(path).maxConcurrency", "must be ≥ 1, got \(concurrency)") }
                if target.maxConcurrency == nil { error("\(path).maxConcurrency", "a local pool needs its concurrency (requests served at once)") }
                if let queue = target.queueLimit, queue < 0 { error("\(path).queueLimit", "must be ≥ 0, got \(queue)") }
                positive(target.maxGPUSecondsPerAttempt, "\(path).maxGPUSecondsPerAttempt")
            }
            if let breaker = target.breaker { validate(breaker, path: "\(path).breaker", error: error) }
            if let limits = target.limits { validate(limits, path: "\(path).limits", error: error) }
        }
        if let breaker = health.breaker { validate(breaker, path: "health.breaker", error: error) }
        if let outlier = health.outlierDetection {
            if outlier.consecutiveFailures < 1 { error("health.outlierDetection.consecutiveFailures", "must be ≥ 1, got \(outlier.consecutiveFailures)") }
            positive(outlier.baseEjectionSeconds, "health.outlierDetection.baseEjectionSeconds")
            if !(outlier.maxEjectionPercent >= 0 && outlier.maxEjectionPercent <= 100) { error("health.outlierDetection.maxEjectionPercent", "must be in [0, 100], got \(outlier.maxEjectionPercent)") }
        }
        if !(health.latencyEWMAWeight > 0 && health.latencyEWMAWeight <= 1) { error("health.latencyEWMAWeight", "must be in (0, 1], got \(health.latencyEWMAWeight)") }

        for (r, route) in routes.enumerated() {
            let path = "routes[\(r)]"
            if route.chain.isEmpty { error("\(path).chain", "needs at least one tier of targets") }
            var chainTargets: [String] = []
            for (t, tier) in route.chain.enumerated() {
                if tier.targets.isEmpty { error("\(path).chain[\(t)]", "a tier needs at least one target") }
                for name in tier.targets {
                    if !targetNames.contains(name) { error("\(path).chain[\(t)]", "unknown target '\(name)'; \(known)") }
                    if chainTargets.contains(name) { error("\(path).chain[\(t)]", "target '\(name)' appears twice in the chain (a fallback loop)") }
                    chainTargets.append(name)
                }
                if case .weightedRandom(let weights?) = tier.balancing {
                    if weights.count != tier.targets.count { error("\(path).chain[\(t)].balancing", "\(weights.count) weights for \(tier.targets.count) targets") }
                    if weights.contains(where: { !($0.isFinite && $0 >= 0) }) || !weights.contains(where: { $0 > 0 }) {
                        error("\(path).chain[\(t)].balancing", "weights must be ≥ 0 with at least one > 0")
                    }
                }
                if case .costAware(let bound) = tier.balancing { positive(bound, "\(path).chain[\(t)].balancing.latencyBoundSeconds") }
            }
            let retry = route.retry
            if retry.maxAttempts < 1 { error("\(path).retry.maxAttempts", "must be ≥ 1, got \(retry.maxAttempts)") }
            if let (base, cap) = retry.backoff.parameters {
                positive(base, "\(path).retry.backoff.baseSeconds")
                positive(cap, "\(path).retry.backoff.capSeconds")
                if cap < base { error("\(path).retry.backoff", "cap (\(cap) s) must be ≥ base (\(base) s)") }
            }
            if !(retry.retryAfterCapSeconds >= 0) { error("\(path).retry.retryAfterCapSeconds", "must be ≥ 0, got \(retry.retryAfterCapSeconds)") }
            switch route.retryBudget {
            case .unlimited: break
            case .finagle(let ttl, let minimum, let percent):
                positive(ttl, "\(path).retryBudget.ttlSeconds")
                if !(minimum >= 0) { error("\(path).retryBudget.minRetriesPerSecond", "must be ≥ 0, got \(minimum)") }
                if !(percent >= 0 && percent <= 1) { error("\(path).retryBudget.percentCanRetry", "must be in [0, 1], got \(percent)") }
            case .grpc(let maxTokens, let ratio):
                positive(maxTokens, "\(path).retryBudget.maxTokens")
                positive(ratio, "\(path).retryBudget.tokenRatio")
            case .adaptiveThrottling(let k, let window):
                if !(k >= 1) { error("\(path).retryBudget.k", "must be ≥ 1 (K < 1 throttles a healthy backend), got \(k)") }
                positive(window, "\(path).retryBudget.windowSeconds")
            }
            if let hedging = route.hedging {
                switch hedging.delay {
                case .fixed(let seconds): positive(seconds, "\(path).hedging.delay.seconds")
                case .latencyPercentile(let p, let minimum):
                    if !(p > 0 && p < 100) { error("\(path).hedging.delay.percentile", "must be in (0, 100), got \(p)") }
                    if minimum < 1 { error("\(path).hedging.delay.minimumSamples", "must be ≥ 1, got \(minimum)") }
                }
            }
            for (value, key) in [(route.timeouts.firstTokenSeconds, "firstTokenSeconds"), (route.timeouts.perTrySeconds, "perTrySeconds"), (route.timeouts.overallSeconds, "overallSeconds")] {
                if let value { positive(value, "\(path).timeouts.\(key)") }
            }
            if let fallback = route.fallback {
                if fallback.targets.isEmpty { error("\(path).fallback.targets", "needs at least one local pool") }
                for name in fallback.targets {
                    guard let target = targets.first(where: { $0.name == name }) else {
                        error("\(path).fallback.targets", "unknown target '\(name)'; \(known)")
                        continue
                    }
                    if target.kind != .local { error("\(path).fallback.targets", "'\(name)' is a provider; fallback targets must be local pools") }
                    if chainTargets.contains(name) { error("\(path).fallback.targets", "'\(name)' is also in the chain (a fallback loop)") }
                }
                if case .spillover(let above) = fallback.policy, above < 0 { error("\(path).fallback.policy.aboveConcurrency", "must be ≥ 0, got \(above)") }
            }
            if let limit = route.maxConcurrency, limit < 1 { error("\(path).maxConcurrency", "must be ≥ 1, got \(limit)") }
            if !route.shedding.isEmpty && route.maxConcurrency == nil { error("\(path).shedding", "shedding needs maxConcurrency (utilisation is in-flight / maxConcurrency)") }
            for (s, rule) in route.shedding.enumerated() where !(rule.aboveUtilization > 0 && rule.aboveUtilization <= 1) {
                error("\(path).shedding[\(s)].aboveUtilization", "must be in (0, 1], got \(rule.aboveUtilization)")
            }
            if let rate = route.rateLimit { validate(rate, path: "\(path).rateLimit", error: error) }
            if route.mode == .bypass && route.fallback != nil { warn("\(path).fallback", "a bypass route never falls back: the client calls the first target directly") }

            // Lints.
            let frontier = route.chain.flatMap(\.targets)
            let healthTracked = health.breaker != nil || health.outlierDetection != nil || frontier.contains { name in targets.first { $0.name == name }?.breaker != nil }
            // Without health tracking, Retry-After cooldowns or known provider limits, no
            // frontier target is ever unavailable, so a "when unhealthy" fallback never fires.
            let limitsKnown = frontier.contains { name in targets.first { $0.name == name }?.limits != nil }
            if let fallback = route.fallback, fallback.policy == .whenFrontierUnhealthy, !healthTracked, !retry.honourRetryAfter, !limitsKnown {
                warn("\(path).fallback", "can never be reached: nothing (breaker, outlier detection, Retry-After, provider limits) ever marks a frontier target unavailable")
            }
            if retry.target == .next, route.mode == .gateway, !healthTracked, frontier.count > retry.maxAttempts {
                warn("\(path).chain", "targets after the first \(retry.maxAttempts) can never be reached: \(retry.maxAttempts) attempt(s) and no health tracking to skip earlier ones")
            }
            if retry.maxAttempts > 1 && frontier.count == 1 && route.fallback == nil {
                warn("\(path).retry", "retries on a one-target chain go back to the same target that just failed")
            }
            let amplification = Double(retry.maxAttempts) * (route.hedging == nil ? 1 : 2)
            if amplification > amplificationWarningThreshold {
                warn("\(path).retry", "worst-case amplification is \(Int(amplification)) attempts per request (threshold \(Int(amplificationWarningThreshold))); SDK retries multiply it further")
            }
            for name in frontier {
                if let typical = targets.first(where: { $0.name == name })?.typicalRetryAfterSeconds, retry.honourRetryAfter, retry.retryAfterCapSeconds < typical {
                    warn("\(path).retry.retryAfterCapSeconds", "\(retry.retryAfterCapSeconds) s is below \(name)'s usual Retry-After of \(typical) s: retries will arrive before the limit resets")
                }
            }
        }

        for (t, team) in teams.enumerated() {
            if team.tier < 0 { error("teams[\(t)].tier", "must be ≥ 0, got \(team.tier)") }
            if let rate = team.rateLimit { validate(rate, path: "teams[\(t)].rateLimit", error: error) }
        }
        for (b, budget) in budgets.enumerated() {
            let path = "budgets[\(b)]"
            if !(budget.limitUSD.isFinite && budget.limitUSD >= 0) { error("\(path).limitUSD", "must be a number ≥ 0, got \(budget.limitUSD)") }
            positive(budget.periodSeconds, "\(path).periodSeconds")
            if case .team(let name) = budget.scope, !teams.contains(where: { $0.name == name }) {
                error("\(path).scope", "unknown team '\(name)'; known teams: \(teams.map(\.name).joined(separator: ", "))")
            }
            if case .degrade(let name) = budget.mode, !routes.contains(where: { $0.name == name }) {
                error("\(path).mode", "degrade route '\(name)' does not exist; routes: \(routes.map(\.name).joined(separator: ", "))")
            }
        }
        return report
    }

    private func validate(_ breaker: BreakerConfig, path: String, error: (String, String) -> Void) {
        if let consecutive = breaker.consecutiveFailures, consecutive < 1 { error("\(path).consecutiveFailures", "must be ≥ 1, got \(consecutive)") }
        if let rate = breaker.failureRateThreshold, !(rate > 0 && rate <= 1) { error("\(path).failureRateThreshold", "must be in (0, 1], got \(rate)") }
        if !(breaker.windowSeconds > 0) { error("\(path).windowSeconds", "must be > 0, got \(breaker.windowSeconds)") }
        if breaker.minimumRequests < 1 { error("\(path).minimumRequests", "must be ≥ 1, got \(breaker.minimumRequests)") }
        if !(breaker.openSeconds > 0) { error("\(path).openSeconds", "must be > 0, got \(breaker.openSeconds)") }
        if breaker.halfOpenProbes < 1 { error("\(path).halfOpenProbes", "must be ≥ 1, got \(breaker.halfOpenProbes)") }
        if !(breaker.openGrowth >= 1) { error("\(path).openGrowth", "must be ≥ 1, got \(breaker.openGrowth)") }
        if !(breaker.maxOpenSeconds >= breaker.openSeconds) { error("\(path).maxOpenSeconds", "must be ≥ openSeconds (\(breaker.openSeconds)), got \(breaker.maxOpenSeconds)") }
    }

    private func validate(_ limit: RateLimit, path: String, error: (String, String) -> Void) {
        if limit.requestsPerMinute == nil && limit.tokensPerMinute == nil { error(path, "give requestsPerMinute, tokensPerMinute or both") }
        if let rpm = limit.requestsPerMinute, !(rpm > 0) { error("\(path).requestsPerMinute", "must be > 0, got \(rpm)") }
        if let tpm = limit.tokensPerMinute, !(tpm > 0) { error("\(path).tokensPerMinute", "must be > 0, got \(tpm)") }
        if !(limit.burstSeconds > 0) { error("\(path).burstSeconds", "must be > 0, got \(limit.burstSeconds)") }
    }
}
