import RoutingCore
import SimulationKernel
import Stochastics

/// Builds one replication of a ``WorldSpec`` on its own executor, runs it to the end
/// (arrivals until the horizon, then a full drain) and returns what it measured.
public enum World {
    public static func run(_ spec: WorldSpec, seed: UInt64, replication: Int, keepDecisionLog: Bool = false) throws(WorldError) -> ReplicationResult {
        try validate(spec, seed: seed)
        let executor = SimulationExecutor()
        return executor.run {
            await simulate(spec, executor: executor, seed: seed, replication: replication, keepDecisionLog: keepDecisionLog)
        }
    }

    /// Checks that the pieces of `spec` fit together (names, routes, degradation targets).
    public static func validate(_ spec: WorldSpec, seed: UInt64 = 0) throws(WorldError) {
        let report = spec.router.validate()
        guard report.errors.isEmpty else {
            throw WorldError("the router config is invalid:\n" + report.errors.map(\.description).joined(separator: "\n"))
        }
        let names = spec.providers.map(\.name) + spec.pools.map(\.name)
        for target in spec.router.targets where !names.contains(target.name) {
            throw WorldError("router target '\(target.name)' is neither a provider nor a pool; known: \(names.joined(separator: ", "))")
        }
        for team in spec.teams where !spec.router.routes.contains(where: { $0.name == team.route }) {
            throw WorldError(
                "team '\(team.name)' uses route '\(team.route)', which the router does not have; routes: \(spec.router.routes.map(\.name).joined(separator: ", "))"
            )
        }
        for team in spec.teams where !spec.router.teams.contains(where: { $0.name == team.name }) {
            throw WorldError("team '\(team.name)' is not among the router's teams (\(spec.router.teams.map(\.name).joined(separator: ", ")))")
        }
        guard spec.durationSeconds > 0, spec.warmUpSeconds >= 0, spec.warmUpSeconds < spec.durationSeconds, spec.bucketSeconds > 0 else {
            throw WorldError(
                "duration must be > 0, warm-up in [0, duration) and bucket > 0; got duration \(spec.durationSeconds) s, warm-up \(spec.warmUpSeconds) s, bucket \(spec.bucketSeconds) s"
            )
        }
        for crash in spec.replicaCrashes {
            guard crash.replica < spec.gatewayReplicas, crash.atSeconds < spec.durationSeconds else {
                throw WorldError(
                    "gateway.crashes: replica \(crash.replica + 1) at \(crash.atSeconds) s: the run has \(spec.gatewayReplicas) replica\(spec.gatewayReplicas == 1 ? "" : "s") and lasts \(spec.durationSeconds) s"
                )
            }
        }
        for binding in spec.degradation {
            let process: any DegradationProcess
            do {
                process = try binding.process(seed: seed, replication: 0)
            } catch {
                throw WorldError("degradation '\(binding.name)': \(error)")
            }
            guard binding.targets.count == process.targetCount else {
                throw WorldError("degradation '\(binding.name)' drives \(process.targetCount) targets but is bound to \(binding.targets.count)")
            }
            for target in binding.targets {
                if case .provider(let index) = target, !spec.providers.indices.contains(index) {
                    throw WorldError("a degradation process is bound to provider \(index); there are \(spec.providers.count)")
                }
            }
        }
    }

    /// The replicas' decision logs as one, in time order; decisions of one instant in replica
    /// order, each replica's in its own order.
    static func merged(_ logs: [[DecisionRecord]]) -> [DecisionRecord] {
        guard logs.count > 1 else { return logs.first ?? [] }
        var entries: [(time: Int64, replica: Int, position: Int)] = []
        for (replica, log) in logs.enumerated() {
            for (position, decision) in log.enumerated() { entries.append((decision.timeNanoseconds, replica, position)) }
        }
        entries.sort { ($0.time, $0.replica, $0.position) < ($1.time, $1.replica, $1.position) }
        return entries.map { logs[$0.replica][$0.position] }
    }

    private static func simulate(
        _ spec: WorldSpec, executor: SimulationExecutor, seed: UInt64, replication: Int, keepDecisionLog: Bool
    ) async -> ReplicationResult {
        let simulation = Simulation(executor: executor)
        let calendar = simulation.calendar
        let horizon = SimulationInstant.nanoseconds(fromSeconds: spec.durationSeconds)
        let gateways = (0..<spec.gatewayReplicas).map { replica in
            calendar.register { id in
                Gateway(
                    id: id, simulation: simulation, routerConfig: spec.router, healthStates: spec.gatewayStates,
                    unixNanosecondsAtStart: Seconds.nanoseconds(spec.startUnixSeconds),
                    seed: seed, replication: replication, keepDecisionLog: keepDecisionLog, replica: replica)
            }
        }
        let replicas = GatewayReplicas(gateways)
        let warmUp = SimulationInstant.nanoseconds(fromSeconds: spec.warmUpSeconds)
        let window = MeasurementWindow(warmUp: warmUp, horizon: horizon, bucket: SimulationInstant.nanoseconds(fromSeconds: spec.bucketSeconds))
        let providers = spec.providers.map { provider in
            calendar.register {
                Provider(id: $0, spec: provider, simulation: simulation, gateways: replicas, seed: seed, replication: replication, window: window)
            }
        }
        let pools = spec.pools.map { pool in
            calendar.register {
                FallbackPool(id: $0, spec: pool, simulation: simulation, gateways: replicas, seed: seed, replication: replication, window: window)
            }
        }
        let upstreams: [Gateway.Upstream] = spec.router.targets.map { target in
            if let index = spec.providers.firstIndex(where: { $0.name == target.name }) { return .provider(PeerReference(providers[index])) }
            return .pool(PeerReference(pools[spec.pools.firstIndex { $0.name == target.name }!]))
        }
        let teams = spec.teams.map { team in
            // Both names were checked by validate(_:seed:).
            let index = try! spec.router.team(named: team.name)
            let route = try! spec.router.route(named: team.route)
            return calendar.register {
                Team(
                    id: $0, index: index, route: route, spec: team, simulation: simulation, gateways: replicas,
                    window: window, seed: seed, replication: replication, trafficReplication: spec.trafficReplication ?? replication)
            }
        }
        // Teams are told by router team index.
        var byRouterIndex = teams
        for team in teams { byRouterIndex[team.index.index] = team }
        let budgetPool = spec.budgetLeases.map { _ in BudgetPool() }
        for gateway in gateways {
            await gateway.join(replicas, sharesRateLimits: spec.sharesRateLimits && gateways.count > 1)
            await gateway.connect(upstreams: upstreams, teams: byRouterIndex)
            if let budgetPool, let settings = spec.budgetLeases {
                await gateway.share(
                    budgets: budgetPool, settings: settings,
                    propagationDelay: SimulationInstant.nanoseconds(fromSeconds: spec.propagationDelaySeconds))
            }
            if gateways.count > 1 && spec.router.health.breakerScope == .shared {
                await gateway.share(
                    breakersWith: gateways.filter { $0 !== gateway },
                    propagationDelay: SimulationInstant.nanoseconds(fromSeconds: spec.propagationDelaySeconds))
            }
            // Every replica is alive from start to end: each enforces its share of the limits.
            if spec.sharesRateLimits && gateways.count > 1 { await gateway.setRateShare(1 / Double(gateways.count)) }
            await gateway.measure(window)
        }
        for crash in spec.replicaCrashes {
            await gateways[crash.replica].scheduleCrash(
                at: SimulationInstant.nanoseconds(fromSeconds: crash.atSeconds),
                restartAfter: crash.restartAfterSeconds.map { SimulationInstant.nanoseconds(fromSeconds: $0) })
        }
        let driver = calendar.register {
            HealthDriver(
                id: $0, simulation: simulation, bindings: spec.degradation, seed: seed, replication: spec.healthReplication ?? replication,
                providers: providers, gateways: gateways, horizon: horizon)
        }
        await driver.start()
        for team in teams { await team.start() }
        await simulation.run()
        // Time averages run to the end of the run: the horizon, or the end of the drain when
        // work in flight outlasts it (never the last event, which may come early).
        let end = max(horizon, calendar.now)
        var teamMetrics: [TeamMetrics] = []
        var series: [TimeBuckets] = []
        for team in teams {
            await team.close()
            teamMetrics.append(await team.metrics)
            series.append(await team.buckets)
        }
        var upstreamMetrics: [UpstreamMetrics] = []
        for provider in providers {
            var metrics = await provider.metrics
            metrics.close(at: end)
            upstreamMetrics.append(metrics)
        }
        for pool in pools {
            var metrics = await pool.metrics
            metrics.close(at: end)
            upstreamMetrics.append(metrics)
        }
        // The replicas' books together: spend, breaker openings and decisions add up; the
        // decision logs merge in time order (replica by replica within an instant).
        var openings = Array(repeating: 0, count: spec.router.targets.count)
        var ledger = await gateways[0].ledger
        var decisions = 0
        var logs: [[DecisionRecord]] = []
        for (replica, gateway) in gateways.enumerated() {
            for target in spec.router.targetIDs { openings[target.index] += await gateway.breakerOpenings(of: target) }
            if replica > 0 { ledger = ledger.adding(await gateway.ledger) }
            decisions += await gateway.decisions
            if let log = await gateway.decisionLog { logs.append(log) }
        }
        let decisionLog: [DecisionRecord]? = keepDecisionLog ? Self.merged(logs) : nil
        let result = ReplicationResult(
            teams: teamMetrics, timeSeries: series, upstreams: upstreamMetrics, ledger: ledger,
            breakerOpenings: openings, events: await simulation.deliveredEvents, decisions: decisions,
            endNanoseconds: end, window: window, decisionLog: decisionLog)
        await simulation.finish()
        return result
    }
}
