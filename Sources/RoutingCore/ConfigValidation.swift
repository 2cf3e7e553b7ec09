/// One problem found in a router config: where (the key path as a config writes it, such as
/// `routes.chat.retry.max_attempts`) and what.
public struct ConfigFinding: Error, Codable, Sendable, Equatable, CustomStringConvertible {
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
        let poolNames = targets.filter { $0.kind == .local }.map(\.name)
        if targets.isEmpty { error("providers", "at least one provider is needed") }
        if targets.count > RouterConfig.maximumTargets {
            let pools = targets.filter { $0.kind == .local }.count
            error(
                "providers",
                "at most \(RouterConfig.maximumTargets) providers and pools together (the router keeps the targets a request has tried in a 64-bit mask), got \(targets.count): \(targets.count - pools) providers and \(pools) pools"
            )
        }
        if routes.isEmpty { error("routes", "at least one route is needed") }
        for (name, count) in Dictionary(targetNames.map { ($0, 1) }, uniquingKeysWith: +).sorted(by: { $0.key < $1.key }) where count > 1 {
            error("providers", "'\(name)' is defined \(count) times (providers and pools share one namespace); names must be unique")
        }
        for (name, count) in Dictionary(routes.map { ($0.name, 1) }, uniquingKeysWith: +).sorted(by: { $0.key < $1.key }) where count > 1 {
            error("routes", "route '\(name)' is defined \(count) times; names must be unique")
        }
        for (name, count) in Dictionary(teams.map { ($0.name, 1) }, uniquingKeysWith: +).sorted(by: { $0.key < $1.key }) where count > 1 {
            error("teams", "team '\(name)' is defined \(count) times; names must be unique")
        }

        for target in targets {
            let path = target.configPath
            switch target.kind {
            case .provider:
                for (value, key) in [(target.inputPricePerMillion, "input_usd_per_mtok"), (target.outputPricePerMillion, "output_usd_per_mtok")]
                where !(value.isFinite && value >= 0) {
                    error("\(path).\(key)", "must be a number ≥ 0, got \(value)")
                }
                if let limits = target.limits {
                    if limits.requestsPerMinute == nil && limits.tokensPerMinute == nil { error(path, "give rpm, input_tpm or both") }
                    if let rpm = limits.requestsPerMinute, !(rpm > 0) { error("\(path).rpm", "must be > 0, got \(rpm)") }
                    if let tpm = limits.tokensPerMinute, !(tpm > 0) { error("\(path).input_tpm", "must be > 0, got \(tpm)") }
                }
            case .local:
                if !(target.gpuPricePerHour.isFinite && target.gpuPricePerHour >= 0) {
                    error("\(path).gpu_usd_per_hour", "must be a number ≥ 0, got \(target.gpuPricePerHour)")
                }
                if let concurrency = target.maxConcurrency, concurrency < 1 {
                    error("\(path).concurrency_per_replica", "must be ≥ 1, got \(concurrency)")
                }
                if target.maxConcurrency == nil { error(path, "a local pool needs its concurrency (requests served at once)") }
                if let queue = target.queueLimit, queue < 0 { error("\(path).queue", "must be ≥ 0, got \(queue)") }
                positive(target.maxGPUSecondsPerAttempt, "\(path).max_gpu_seconds_per_attempt")
            }
            if target.qualityTier < 0 { error("\(path).quality_tier", "must be ≥ 0, got \(target.qualityTier)") }
            if let breaker = target.breaker { validate(breaker, path: "\(path).breaker", error: error) }
        }
        if let breaker = health.breaker { validate(breaker, path: "gateway.breaker", error: error) }
        if let outlier = health.outlierDetection {
            if outlier.consecutiveFailures < 1 {
                error("gateway.outlier_detection.consecutive_failures", "must be ≥ 1, got \(outlier.consecutiveFailures)")
            }
            positive(outlier.baseEjectionSeconds, "gateway.outlier_detection.base_ejection_s")
            if !(outlier.maxEjectionPercent >= 0 && outlier.maxEjectionPercent <= 100) {
                error("gateway.outlier_detection.max_ejection_percent", "must be in [0, 100], got \(outlier.maxEjectionPercent)")
            }
        }
        if !(health.latencyEWMAWeight > 0 && health.latencyEWMAWeight <= 1) {
            error("gateway.latency_ewma_weight", "must be in (0, 1], got \(health.latencyEWMAWeight)")
        }

        for route in routes {
            let path = "routes.\(route.name)"
            if route.chain.isEmpty { error("\(path).chain", "needs at least one tier of targets") }
            var chainTargets: [String] = []
            for (t, tier) in route.chain.enumerated() {
                if tier.targets.isEmpty { error("\(path).chain[\(t)]", "a tier needs at least one target") }
                for name in tier.targets {
                    if !targetNames.contains(name) {
                        error("\(path).chain[\(t)]", NameSuggestion.unknown("target", name, in: targetNames, label: "providers and pools"))
                    }
                    if chainTargets.contains(name) { error("\(path).chain[\(t)]", "target '\(name)' appears twice in the chain (a fallback loop)") }
                    chainTargets.append(name)
                }
                if case .weightedRandom(let weights?) = tier.balancing {
                    if weights.count != tier.targets.count {
                        error("\(path).chain[\(t)].weights", "\(weights.count) weights for \(tier.targets.count) targets")
                    }
                    if weights.contains(where: { !($0.isFinite && $0 >= 0) }) || !weights.contains(where: { $0 > 0 }) {
                        error("\(path).chain[\(t)].weights", "weights must be ≥ 0 with at least one > 0")
                    }
                }
                if case .costAware(let bound) = tier.balancing { positive(bound, "\(path).chain[\(t)].latency_bound_s") }
            }
            let retry = route.retry
            if retry.maxAttempts < 1 { error("\(path).retry.max_attempts", "must be ≥ 1, got \(retry.maxAttempts)") }
            if let (base, cap) = retry.backoff.parameters {
                positive(base, "\(path).retry.backoff.base_s")
                positive(cap, "\(path).retry.backoff.cap_s")
                if cap < base { error("\(path).retry.backoff.cap_s", "must be ≥ base_s (\(ConfigNumber.text(base))), got \(ConfigNumber.text(cap))") }
            }
            if !(retry.retryAfterCapSeconds >= 0) { error("\(path).retry.retry_after_cap_s", "must be ≥ 0, got \(retry.retryAfterCapSeconds)") }
            if retry.sameTargetRetries < 0 { error("\(path).retry.same_target_retries", "must be ≥ 0, got \(retry.sameTargetRetries)") }
            let budgetPath = "\(path).retry_budget"
            switch route.retryBudget {
            case .unlimited: break
            case .finagle(let ttl, let minimum, let percent):
                positive(ttl, "\(budgetPath).ttl_s")
                if !(minimum >= 0) { error("\(budgetPath).min_retries_per_s", "must be ≥ 0, got \(minimum)") }
                if !(percent >= 0 && percent <= 1) { error("\(budgetPath).percent_can_retry", "must be in [0, 1], got \(percent)") }
            case .grpc(let maxTokens, let ratio):
                positive(maxTokens, "\(budgetPath).max_tokens")
                positive(ratio, "\(budgetPath).token_ratio")
            case .adaptiveThrottling(let k, let window):
                if !(k >= 1) { error("\(budgetPath).k", "must be ≥ 1 (K < 1 throttles a healthy backend), got \(k)") }
                positive(window, "\(budgetPath).window_s")
            }
            if let hedging = route.hedging {
                switch hedging.delay {
                case .fixed(let seconds): positive(seconds, "\(path).hedging.after_s")
                case .latencyPercentile(let p, let minimum):
                    if !(p > 0 && p < 100) { error("\(path).hedging.latency_percentile", "must be in (0, 100), got \(p)") }
                    if minimum < 1 { error("\(path).hedging.minimum_samples", "must be ≥ 1, got \(minimum)") }
                }
            }
            for (value, key) in [
                (route.timeouts.firstTokenSeconds, "first_token_s"), (route.timeouts.perTrySeconds, "per_try_s"),
                (route.timeouts.overallSeconds, "overall_s"),
                (route.timeouts.idleSeconds, "idle_s"),
            ] {
                if let value { positive(value, "\(path).timeouts.\(key)") }
            }
            if let fallback = route.fallback {
                if fallback.targets.isEmpty { error("\(path).fallback.pools", "needs at least one local pool") }
                for name in fallback.targets {
                    guard let target = targets.first(where: { $0.name == name }) else {
                        error("\(path).fallback.pools", NameSuggestion.unknown("pool", name, in: poolNames, label: "pools"))
                        continue
                    }
                    if target.kind != .local { error("\(path).fallback.pools", "'\(name)' is a provider; fallback targets must be local pools") }
                    if chainTargets.contains(name) { error("\(path).fallback.pools", "'\(name)' is also in the chain (a fallback loop)") }
                }
                if case .spillover(let above) = fallback.policy, above < 0 {
                    error("\(path).fallback.above_concurrency", "must be ≥ 0, got \(above)")
                }
            }
            var contextTargets: [String] = []
            for name in route.contextWindowFallbacks {
                if !targetNames.contains(name) {
                    error("\(path).context_window_fallbacks", NameSuggestion.unknown("target", name, in: targetNames, label: "providers and pools"))
                }
                if contextTargets.contains(name) { error("\(path).context_window_fallbacks", "'\(name)' is listed twice") }
                contextTargets.append(name)
            }
            if let limit = route.maxConcurrency, limit < 1 { error("\(path).max_concurrency", "must be ≥ 1, got \(limit)") }
            if !route.shedding.isEmpty && route.maxConcurrency == nil {
                error("\(path).shedding", "shedding needs max_concurrency (utilisation is in-flight / max_concurrency)")
            }
            for (s, rule) in route.shedding.enumerated() {
                if rule.tier < 0 { error("\(path).shedding[\(s)].tier", "must be ≥ 0, got \(rule.tier)") }
                if !(rule.aboveUtilization > 0 && rule.aboveUtilization <= 1) {
                    error("\(path).shedding[\(s)].above_utilization", "must be in (0, 1], got \(rule.aboveUtilization)")
                }
            }
            if let rate = route.rateLimit { validate(rate, path: "\(path).rate_limit", error: error) }
            if route.mode == .bypass && route.fallback != nil {
                warn("\(path).fallback", "a bypass route never falls back: the client calls the first target directly")
            }

            // Lints.
            let frontier = route.chain.flatMap(\.targets)
            let healthTracked =
                health.breaker != nil || health.outlierDetection != nil
                || frontier.contains { name in targets.first { $0.name == name }?.breaker != nil }
            // Without health tracking, Retry-After cooldowns or known provider limits, no
            // frontier target is ever unavailable, so a "when unhealthy" fallback never fires.
            let limitsKnown = frontier.contains { name in targets.first { $0.name == name }?.limits != nil }
            if let fallback = route.fallback, fallback.policy == .whenFrontierUnhealthy, !healthTracked, !retry.honourRetryAfter, !limitsKnown {
                warn(
                    "\(path).fallback",
                    "can never be reached: nothing (breaker, outlier detection, Retry-After, provider limits) ever marks a frontier target unavailable"
                )
            }
            if route.mode == .gateway, !healthTracked, frontier.count > 1 {
                switch retry.target {
                case .next where frontier.count > retry.maxAttempts:
                    warn(
                        "\(path).chain",
                        "targets after the first \(retry.maxAttempts) can never be reached: \(retry.maxAttempts) attempt(s) and no health tracking to skip earlier ones"
                    )
                case .same:
                    warn(
                        "\(path).chain",
                        "targets after '\(frontier[0])' can never be reached: retries go back to the same target, and no health tracking ever skips it"
                    )
                case .sameThenNext where retry.sameTargetRetries >= 0:
                    // A target failing transiently takes 1 + same_target_retries attempts.
                    let reached = (retry.maxAttempts + retry.sameTargetRetries) / (retry.sameTargetRetries + 1)
                    if frontier.count > reached {
                        warn(
                            "\(path).chain",
                            "targets after the first \(reached) are reached only past timeouts and 529s: a target failing with 429, 5xx or connection errors takes \(retry.sameTargetRetries + 1) of the \(retry.maxAttempts) attempt(s), and no health tracking skips it"
                        )
                    }
                default:
                    break
                }
            }
            if retry.maxAttempts > 1 && frontier.count == 1 && route.fallback == nil {
                warn("\(path).retry", "retries on a one-target chain go back to the same target that just failed")
            }
            let amplification = Double(retry.maxAttempts) * (route.hedging == nil ? 1 : 2)
            if amplification > amplificationWarningThreshold {
                warn(
                    "\(path).retry",
                    "worst-case amplification is \(Int(amplification)) attempts per request (threshold \(Int(amplificationWarningThreshold))); SDK retries multiply it further"
                )
            }
            for name in frontier {
                if let typical = targets.first(where: { $0.name == name })?.typicalRetryAfterSeconds, retry.honourRetryAfter,
                    retry.retryAfterCapSeconds < typical
                {
                    warn(
                        "\(path).retry.retry_after_cap_s",
                        "\(retry.retryAfterCapSeconds) s is below \(name)'s usual Retry-After of \(typical) s: retries will arrive before the limit resets"
                    )
                }
            }
        }

        for team in teams {
            if team.tier < 0 { error("teams.\(team.name).tier", "must be ≥ 0, got \(team.tier)") }
            if let rate = team.rateLimit { validate(rate, path: "teams.\(team.name).rate_limit", error: error) }
        }
        for budget in budgets {
            let path = budget.configPath
            if !(budget.limitUSD.isFinite && budget.limitUSD >= 0) { error("\(path).usd", "must be a number ≥ 0, got \(budget.limitUSD)") }
            if case .every(let seconds) = budget.period { positive(seconds, "\(path).period_s") }
            if case .team(let name) = budget.scope, !teams.contains(where: { $0.name == name }) {
                error(path, NameSuggestion.unknown("team", name, in: teams.map(\.name), label: "teams"))
            }
            if case .degrade(let name) = budget.mode, !routes.contains(where: { $0.name == name }) {
                error("\(path).degrade_to", NameSuggestion.unknown("route", name, in: routes.map(\.name), label: "routes"))
            }
        }
        return report
    }

    private func validate(_ breaker: BreakerConfig, path: String, error: (String, String) -> Void) {
        if let consecutive = breaker.consecutiveFailures, consecutive < 1 { error("\(path).consecutive_failures", "must be ≥ 1, got \(consecutive)") }
        if let rate = breaker.failureRateThreshold, !(rate > 0 && rate <= 1) { error("\(path).failure_rate", "must be in (0, 1], got \(rate)") }
        if !(breaker.windowSeconds > 0) { error("\(path).window_s", "must be > 0, got \(breaker.windowSeconds)") }
        if breaker.minimumRequests < 1 { error("\(path).minimum_requests", "must be ≥ 1, got \(breaker.minimumRequests)") }
        if !(breaker.openSeconds > 0) { error("\(path).open_s", "must be > 0, got \(breaker.openSeconds)") }
        if breaker.halfOpenProbes < 1 { error("\(path).half_open_probes", "must be ≥ 1, got \(breaker.halfOpenProbes)") }
        if !(breaker.openGrowth >= 1) { error("\(path).open_growth", "must be ≥ 1, got \(breaker.openGrowth)") }
        if !(breaker.maxOpenSeconds >= breaker.openSeconds) {
            error("\(path).max_open_s", "must be ≥ open_s (\(breaker.openSeconds)), got \(breaker.maxOpenSeconds)")
        }
    }

    private func validate(_ limit: RateLimit, path: String, error: (String, String) -> Void) {
        if limit.requestsPerMinute == nil && limit.tokensPerMinute == nil { error(path, "give rpm, tpm or both") }
        if let rpm = limit.requestsPerMinute, !(rpm > 0) { error("\(path).rpm", "must be > 0, got \(rpm)") }
        if let tpm = limit.tokensPerMinute, !(tpm > 0) { error("\(path).tpm", "must be > 0, got \(tpm)") }
        if !(limit.burstSeconds > 0) { error("\(path).burst_s", "must be > 0, got \(limit.burstSeconds)") }
    }
}

extension TargetConfig {
    /// Where the target is written in a config: `providers.NAME` or `pools.NAME`.
    public var configPath: String { "\(kind == .provider ? "providers" : "pools").\(name)" }
}

extension BudgetConfig {
    /// Where the budget is written in a config: `teams.NAME.budget` or `key_budgets.NAME`.
    public var configPath: String {
        switch scope {
        case .team(let name): return "teams.\(name).budget"
        case .key(let name): return "key_budgets.\(name)"
        }
    }
}
