import ConfigSchema
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

/// The `run` section: how long, how many replications, which seed.
public struct RunSettings: Decodable, Sendable {
    public var durationSeconds: Double
    public var warmUpSeconds: Double
    public var replications: Int
    public var seed: UInt64
    public var bucketSeconds: Double
    /// `start_time` in seconds after midnight.
    public var startOfDaySeconds: Double?

    public init(
        durationSeconds: Double, warmUpSeconds: Double = 0, replications: Int = 5, seed: UInt64 = 1, bucketSeconds: Double = 60,
        startOfDaySeconds: Double? = nil
    ) {
        self.durationSeconds = durationSeconds
        self.warmUpSeconds = warmUpSeconds
        self.replications = replications
        self.seed = seed
        self.bucketSeconds = bucketSeconds
        self.startOfDaySeconds = startOfDaySeconds
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case replications, seed
        case duration = "duration_s", warmUp = "warmup_s", bucket = "bucket_s", startTime = "start_time"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(durationSeconds: try c.number(.duration, above: 0))
        warmUpSeconds = try c.number(.warmUp, default: warmUpSeconds, atLeast: 0)
        replications = try c.number(.replications, default: replications, atLeast: 1)
        seed = try c.decode(.seed, default: seed)
        bucketSeconds = try c.number(.bucket, default: bucketSeconds, above: 0)
        if let text = try c.decodeIfPresent(String.self, forKey: .startTime) {
            guard let seconds = ClockTime.seconds(ofTimeOfDay: text, limitHours: 24) else {
                throw DecodingError.dataCorruptedError(
                    forKey: .startTime, in: c, debugDescription: "must be a time of day HH:MM or HH:MM:SS, e.g. \"11:00\"")
            }
            startOfDaySeconds = seconds
        }
        if warmUpSeconds >= durationSeconds {
            throw DecodingError.dataCorruptedError(
                forKey: .warmUp, in: c, debugDescription: "must be below run.duration_s (\(ConfigNumber.text(durationSeconds)))")
        }
    }
}

/// The simulator's view of a spec: everything but the routing settings, which are
/// RoutingCore's ``RouterConfig``, decoded from the same document.
struct SimulatedWorldSections: Decodable {
    var name: String
    var description = ""
    var run: RunSettings
    var providers: [ProviderSpec] = []
    var pools: [FallbackPoolSpec] = []
    var gateway = SimulatedGatewaySettings()
    var teams: [TeamSpec] = []
    var degradation: [DegradationSpec] = []

    enum CodingKeys: String, CodingKey, CaseIterable {
        case name, description, run, providers, pools, gateway, teams, degradation
    }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decode(String.self, forKey: .name)
        description = try c.decode(.description, default: description)
        run = try c.decode(RunSettings.self, forKey: .run)
        let providerEntries = try c.nestedContainer(keyedBy: ConfigKey.self, forKey: .providers)
        for key in providerEntries.allKeys { providers.append(try providerEntries.decode(ProviderSpec.self, forKey: key)) }
        if c.contains(.pools) {
            let poolEntries = try c.nestedContainer(keyedBy: ConfigKey.self, forKey: .pools)
            for key in poolEntries.allKeys { pools.append(try poolEntries.decode(FallbackPoolSpec.self, forKey: key)) }
        }
        gateway = try c.decode(.gateway, default: gateway)
        let teamEntries = try c.nestedContainer(keyedBy: ConfigKey.self, forKey: .teams)
        for key in teamEntries.allKeys { teams.append(try teamEntries.decode(TeamSpec.self, forKey: key)) }
        degradation = try c.decode(.degradation, default: degradation)
    }
}

extension ExperimentSpec {
    /// Decodes a spec document strictly: unknown keys, missing keys and impossible values are
    /// errors naming file:line:column and the key path as written.
    public init(decoding document: SpecValue) throws(SpecError) {
        let decoder = SpecDecoder(document)
        let sections = try decoder.decode(SimulatedWorldSections.self)
        var router = try decoder.decode(RouterConfig.self)
        let deployment = try decoder.decode(DeploymentSection.self).deployment
        try decoder.checkUnknownKeys()

        if sections.providers.isEmpty { throw decoder.error(path: "providers", "at least one provider is needed") }
        if sections.teams.isEmpty { throw decoder.error(path: "teams", "at least one team is needed") }
        let routeNames = router.routes.map(\.name)
        for team in sections.teams where !routeNames.contains(team.route) {
            throw decoder.error(path: "teams.\(team.name).route", NameSuggestion.unknown("route", team.route, in: routeNames, label: "routes"))
        }
        let report = router.validate()
        if let first = report.errors.first { throw decoder.error(first) }
        if let first = deployment?.findings(for: router).first { throw decoder.error(first) }
        // The targets' APIs, for routes that keep requests to their client's (`cross_protocol: false`).
        deployment?.setTargetProtocols(of: &router)

        let run = sections.run
        var bindings: [DegradationBinding] = []
        for process in sections.degradation {
            do throws(ConfigFinding) {
                bindings.append(
                    try process.binding(providers: sections.providers, gatewayStates: sections.gateway.states, startOfDay: run.startOfDaySeconds))
            } catch {
                throw decoder.error(error)
            }
        }
        var world = WorldSpec(
            providers: sections.providers, pools: sections.pools, router: router, gatewayStates: sections.gateway.states,
            teams: sections.teams, degradation: bindings, durationSeconds: run.durationSeconds, warmUpSeconds: run.warmUpSeconds,
            bucketSeconds: run.bucketSeconds, startUnixSeconds: run.startOfDaySeconds ?? 0, gatewayReplicas: sections.gateway.replicas,
            propagationDelaySeconds: sections.gateway.propagationDelaySeconds)
        world.replicaCrashes = sections.gateway.crashes
        // A deployment that keeps its state in PostgreSQL shares budgets between its replicas.
        if case .postgres(let state)? = deployment?.state {
            if !router.budgets.isEmpty {
                world.budgetLeases = BudgetLeaseSettings(fraction: state.leaseFraction, intervalSeconds: state.leaseIntervalSeconds)
            }
            world.sharesRateLimits = true
        }
        do {
            try World.validate(world, seed: run.seed)
        } catch {
            throw SpecError(document.location, "", error.description)
        }
        // The spec's own lint: a capacity that leaves no server is an outage, maybe unmeant.
        var specWarnings: [String] = []
        for provider in sections.providers {
            for state in provider.states where state.capacityFraction > 0 && Int(Double(provider.concurrency) * state.capacityFraction) == 0 {
                specWarnings.append(
                    "providers.\(provider.name).states.\(state.name).capacity: \(state.capacityFraction) of \(provider.concurrency) server\(provider.concurrency == 1 ? "" : "s") rounds down to none: in this state the provider serves nothing (its queue waits for the state to end)"
                )
            }
        }
        // A first-token limit longer than a team's SLO latency: an attempt that uses it has
        // missed the SLO before the next target is even tried.
        let number = ConfigNumber.text(_:) as (Double) -> String
        for team in sections.teams {
            guard let route = router.routes.first(where: { $0.name == team.route }) else { continue }
            let limits = route.timeouts
            let firstToken = min(limits.effectiveFirstTokenSeconds, limits.perTrySeconds ?? .infinity, limits.effectiveOverallSeconds)
            guard firstToken > team.sloLatencySeconds else { continue }
            let written = limits.firstTokenSeconds == nil ? " (the default; the route sets no first_token_s)" : ""
            specWarnings.append(
                "routes.\(route.name).timeouts.first_token_s: an attempt may wait \(number(firstToken)) s for its first token\(written), longer than team \(team.name)'s SLO allows a whole request (p\(number(team.sloLatencyPercentile)) ≤ \(number(team.sloLatencySeconds)) s): such a request has missed its SLO before the next target is tried"
            )
        }
        // A route whose targets speak different APIs: its failovers cross them through the
        // gateway's translation, which not everything survives.
        if let upstreams = deployment?.upstreams {
            let apis = Dictionary(upstreams.map { ($0.target, $0.apiProtocol) }, uniquingKeysWith: { first, _ in first })
            for route in router.routes where route.mode != .bypass {
                let targets = route.chain.flatMap(\.targets) + (route.fallback?.targets ?? []) + route.contextWindowFallbacks
                var byAPI: [(APIProtocol, [String])] = []
                for target in targets {
                    guard let api = apis[target] else { continue }
                    if let index = byAPI.firstIndex(where: { $0.0 == api }) {
                        if !byAPI[index].1.contains(target) { byAPI[index].1.append(target) }
                    } else {
                        byAPI.append((api, [target]))
                    }
                }
                guard byAPI.count > 1 else { continue }
                let listed = byAPI.map { "\($0.0.rawValue): \($0.1.joined(separator: ", "))" }.joined(separator: "; ")
                specWarnings.append(
                    "routes.\(route.name): its targets speak different APIs (\(listed)); a request that fails over from one to another is translated by the gateway, and what has no counterpart in the other API is left out or refused (the README's \"Anthropic upstreams\" lists it)"
                )
            }
        }
        self.init(
            name: sections.name, description: sections.description, world: world, replications: run.replications, seed: run.seed,
            startOfDaySeconds: run.startOfDaySeconds, warnings: report.warnings.map(\.description) + specWarnings)
    }
}
