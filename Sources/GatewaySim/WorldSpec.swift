import RoutingCore

/// Everything one replication needs: the upstreams, the router's config, the gateway's
/// health states and replicas, the teams, the degradation, and the run's horizon.
///
/// The router config's targets name the providers and pools (`TargetConfig.name`); every
/// target must be one of them.
public struct WorldSpec: Sendable {
    public var providers: [ProviderSpec]
    public var pools: [FallbackPoolSpec]
    public var router: RouterConfig
    public var gatewayStates: [GatewayHealthSpec]
    public var teams: [TeamSpec]
    public var degradation: [DegradationBinding]
    /// Arrivals stop at the horizon; work in flight then drains.
    public var durationSeconds: Double
    /// Requests arriving before this are not counted.
    public var warmUpSeconds: Double
    public var bucketSeconds: Double
    /// The UTC calendar time the run starts at, in seconds since the Unix epoch: the router's
    /// wall clock, which budget periods follow (0, the default: midnight, so a daily budget's
    /// day is the run's own).
    public var startUnixSeconds: Double
    /// The replication whose health history every replication plays (nil: each its own). The
    /// live twin sets it: its mock providers follow one history (``HealthTimeline``), and the
    /// simulator's interval is then conditioned on that same incident.
    public var healthReplication: Int?
    /// The replication whose traffic (each team's arrivals and request sizes) every
    /// replication sends (nil: each its own). The live twin sets it: its load generator sends
    /// that replication's traffic, so the simulator's interval is conditioned on the very
    /// requests the live system served, rare giants included.
    public var trafficReplication: Int?
    /// Replicas of the gateway, each with its own router, behind a load balancer that hands
    /// each request to the next replica in turn.
    public var gatewayReplicas: Int
    /// When breakers are shared, how long one replica's breaker change takes to reach the
    /// other replicas' routers (nanoseconds in the calendar); when budgets are shared, how long
    /// a slice takes to be granted.
    public var propagationDelaySeconds: Double
    /// Budgets shared by the replicas in slices, as a deployment whose `state` is PostgreSQL
    /// shares them (nil: each replica's budgets are its own, as with `state: sqlite`).
    public var budgetLeases: BudgetLeaseSettings?
    /// Rate limits shared by the replicas, each enforcing 1/N of every limit (a deployment
    /// whose `state` is PostgreSQL; false: each replica enforces all of each, as on SQLite).
    public var sharesRateLimits = false
    /// Replicas that die during the run, in time order (``ReplicaCrash``).
    public var replicaCrashes: [ReplicaCrash] = []

    public init(
        providers: [ProviderSpec], pools: [FallbackPoolSpec] = [], router: RouterConfig, gatewayStates: [GatewayHealthSpec] = [.healthy],
        teams: [TeamSpec], degradation: [DegradationBinding] = [], durationSeconds: Double, warmUpSeconds: Double = 0, bucketSeconds: Double = 60,
        startUnixSeconds: Double = 0, gatewayReplicas: Int = 1, propagationDelaySeconds: Double = 0.05
    ) {
        self.gatewayReplicas = gatewayReplicas
        self.propagationDelaySeconds = propagationDelaySeconds
        self.providers = providers
        self.pools = pools
        self.router = router
        self.gatewayStates = gatewayStates
        self.teams = teams
        self.degradation = degradation
        self.durationSeconds = durationSeconds
        self.warmUpSeconds = warmUpSeconds
        self.bucketSeconds = bucketSeconds
        self.startUnixSeconds = startUnixSeconds
    }
}

/// A world that cannot be built: what is wrong, in words a spec author can act on.
public struct WorldError: Error, Sendable, Equatable, CustomStringConvertible {
    public let description: String

    public init(_ description: String) {
        self.description = description
    }
}
