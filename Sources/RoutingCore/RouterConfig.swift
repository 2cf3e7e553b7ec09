/// Whose failures a breaker counts when the gateway runs as several replicas
/// (`gateway.breaker_scope`).
public enum BreakerScope: String, CaseIterable, Sendable {
    /// Each replica's breakers count the failures that replica saw (the default).
    case replica
    /// A breaker one replica opens opens on all of them (after the time the news takes to
    /// travel), and only the replica that opened it probes when the open time ends.
    case shared
}

/// Health tracking applied to every target unless a target overrides its breaker.
public struct HealthConfig: Sendable, Equatable {
    public var breaker: BreakerConfig?
    /// Whether breakers are each replica's own or shared by the replicas (`breaker_scope`).
    public var breakerScope: BreakerScope = .replica
    public var outlierDetection: OutlierDetectionConfig?
    /// Weight of the newest observation in each target's latency EWMA.
    public var latencyEWMAWeight: Double

    public init(
        breaker: BreakerConfig? = .standard, breakerScope: BreakerScope = .replica, outlierDetection: OutlierDetectionConfig? = nil,
        latencyEWMAWeight: Double = 0.2
    ) {
        self.breaker = breaker
        self.breakerScope = breakerScope
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
