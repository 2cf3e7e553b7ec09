/// Health tracking applied to every target unless a target overrides its breaker.
public struct HealthConfig: Sendable, Equatable {
    public var breaker: BreakerConfig?
    public var outlierDetection: OutlierDetectionConfig?
    /// Weight of the newest observation in each target's latency EWMA.
    public var latencyEWMAWeight: Double

    public init(breaker: BreakerConfig? = .standard, outlierDetection: OutlierDetectionConfig? = nil, latencyEWMAWeight: Double = 0.2) {
        self.breaker = breaker
        self.outlierDetection = outlierDetection
        self.latencyEWMAWeight = latencyEWMAWeight
    }
}

/// Everything the router needs: targets, routes, teams, budgets and health settings.
/// Validate with ``RouterConfig/validate()``; ``Router`` refuses an invalid config.
public struct RouterConfig: Sendable, Equatable {
    public var targets: [TargetConfig]
    public var routes: [RouteConfig]
    public var teams: [TeamConfig]
    public var budgets: [BudgetConfig]
    public var health: HealthConfig
    /// The lint threshold for worst-case attempts per request (attempts × hedges).
    public var amplificationWarningThreshold: Double

    public init(
        targets: [TargetConfig], routes: [RouteConfig], teams: [TeamConfig] = [], budgets: [BudgetConfig] = [],
        health: HealthConfig = HealthConfig(), amplificationWarningThreshold: Double = 5
    ) {
        self.targets = targets
        self.routes = routes
        self.teams = teams
        self.budgets = budgets
        self.health = health
        self.amplificationWarningThreshold = amplificationWarningThreshold
    }
}
