import AsyncHTTPClient
import ChildProcesses
import Crypto
import Experiments
import Foundation
import GatewaySim
import NIOCore
import RoutingCore
import SimulationKernel
import Stochastics

/// `brownout twin`: the live system and the simulator on one spec. Mock providers follow
/// the spec's upstream models and one replication's health history in scaled time; the real
/// gateway (`brownout-gateway`, its router clock scaled alike) routes between them; the
/// teams' arrivals are sent by a load generator; then the simulator runs the same spec,
/// conditioned on the same health history, and each team's metrics are compared.
public enum TwinRun {
    public struct Settings: Sendable {
        public var specPath: String
        public var overrides: [String]
        /// Model time runs this many times faster than real time.
        public var scale: Int64
        /// The replication whose health history (and arrivals) the live run follows.
        public var replication: Int
        /// Simulated replications to compare with (nil: the spec's).
        public var simulatedReplications: Int?
        public var jobs: Int
        public var outDirectory: URL
        /// Where `brownout-twin` (which serves the upstreams) and `brownout-gateway` are.
        public var executables: URL

        public init(
            specPath: String, overrides: [String], scale: Int64, replication: Int, simulatedReplications: Int?, jobs: Int,
            outDirectory: URL, executables: URL
        ) {
            self.specPath = specPath
            self.overrides = overrides
            self.scale = scale
            self.replication = replication
            self.simulatedReplications = simulatedReplications
            self.jobs = jobs
            self.outDirectory = outDirectory
            self.executables = executables
        }
    }

    public struct Outcome: Sendable {
        public let comparison: TwinComparison
        public let upstreams: TwinUpstreamComparison
        /// Per team (the spec's order), the failures by label, live and the simulator's mean per
        /// run, in one vocabulary (``RoutingCore/Decision/failureLabel``: outcome classes and
        /// refusal reasons; the gateway names its own in `x-brownout-failure`), for reading a
        /// miss in availability.
        public let failures: [(team: String, live: [(String, Int)], simulated: [(String, Double)])]
        /// How late the load generator sent arrivals, in real time (a live system that cannot
        /// keep up at this scale shows here first).
        public let lateness: LatencyHistogram
        /// Per successful request, the time between the load generator and the mock (through
        /// the gateway and loopback), in model nanoseconds: taken out of the live latencies.
        public let transport: LatencyHistogram
        public let liveSeconds: Double
        public let simulatedReplications: Int
    }

    /// What the run is doing: a phase, and the fraction of it done.
    public typealias Progress = @Sendable (_ phase: String, _ fraction: Double) -> Void

    /// Real seconds the mock and the gateway get to start before model time zero.
    static let startSeconds = 5.0

    public static func run(_ settings: Settings, progress: Progress?) async throws -> Outcome {
        let spec: ExperimentSpec
        do {
            (_, spec, _) = try Experiment.load(path: settings.specPath, overrides: settings.overrides)
        } catch {
            throw TwinError(error.description)
        }
        do {
            _ = try TwinUpstreams(spec, clock: ScaledClock(factor: settings.scale, startUnixNanoseconds: 0), healthReplication: settings.replication)
        } catch {
            throw TwinError(error.description)
        }
        try AtomicOutput.prepare(directory: settings.outDirectory)
        ChildProcess.stopChildrenOnSignal()
        let live = try await runLive(spec, settings: settings, progress: progress)
        let runs = try simulate(settings: settings, progress: progress)
        return try compare(live, with: runs, world: spec.world, settings: settings)
    }

    /// What the live half brought back: per team (the spec's order) its result and the
    /// gateway's spend for it after the warm-up, and the attempts each upstream was sent
    /// between the warm-up and the horizon.
    struct LiveRun {
        let results: [LiveTeamResult]
        let spendUSD: [Double]
        let attempts: [String: Double]
        let seconds: Double
        /// From each replica's trace (by replica): each request's successful attempt at a local
        /// pool, its length as the gateway measured it and the GPU time billed for it.
        let poolAttempts: [[UInt64: (latencyNanoseconds: Int64, gpuSeconds: Double)]]
    }

    /// The live half: the spec's upstreams and the gateway's replicas (`gateway.replicas`;
    /// more than one share their state through a PostgreSQL cluster of the twin's own) started
    /// on the scaled clock, the teams' arrivals sent, the gateways' metrics read at the
    /// warm-up, the horizon and the end; the servers stopped however it ends.
    static func runLive(_ spec: ExperimentSpec, settings: Settings, progress: Progress?) async throws -> LiveRun {
        let replicas = spec.world.gatewayReplicas
        let database: ThrowawayPostgres?
        do {
            database = replicas > 1 ? try await ThrowawayPostgres() : nil
        } catch {
            throw TwinError(
                "gateway.replicas: \(replicas): the twin's replicas share their state through a PostgreSQL cluster of its own, which did not start: \(error)"
            )
        }
        do {
            let run = try await runLive(spec, settings: settings, database: database, progress: progress)
            await database?.remove()
            return run
        } catch {
            await database?.remove()
            throw error
        }
    }

    static func runLive(_ spec: ExperimentSpec, settings: Settings, database: ThrowawayPostgres?, progress: Progress?) async throws -> LiveRun {
        let world = spec.world
        let replicas = world.gatewayReplicas
        let start = SystemWallClock().unixNanoseconds + Seconds.nanoseconds(startSeconds)
        let clock = ScaledClock(factor: settings.scale, startUnixNanoseconds: start)
        let specURL = URL(fileURLWithPath: settings.specPath).standardizedFileURL
        let sets = settings.overrides.flatMap { ["--set", $0] }
        let mock = try ChildProcess(
            settings.executables.appendingPathComponent("brownout-twin"),
            ["upstreams", specURL.path] + sets + [
                "--scale", String(settings.scale), "--replication", String(settings.replication),
                "--start-unix-ns", String(start),
            ],
            log: settings.outDirectory.appendingPathComponent("upstreams.log"))
        var gateways: [ChildProcess] = []
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: loadClientConfiguration)
        do {
            let mockPort = try await mock.listeningPort(within: .seconds(startSeconds - 1))
            let keys = world.teams.map { team in (team: team.name, key: "sk-twin-\(team.name)-\(UInt64.random(in: 0...UInt64.max))") }
            let gatewaySpec = settings.outDirectory.appendingPathComponent("gateway.yaml")
            try AtomicOutput.write(
                gatewayYAML(spec: specURL, world: world, mockPort: mockPort, keys: keys, sharedState: database != nil), to: gatewaySpec)
            // The upstreams' key: the twin's own, whatever variables the spec's deployment
            // names (its upstreams are the twin's, which need none, and a real key never
            // reaches them).
            var environment = ProcessInfo.processInfo.environment
            environment[twinKeyVariable] = "sk-twin-upstreams"
            if let database { environment[twinDatabaseVariable] = database.url }
            try? FileManager.default.removeItem(at: settings.outDirectory.appendingPathComponent("ledger.csv"))
            for replica in 0..<replicas {
                let name = replicaName(replica, of: replicas)
                // A run into the folder of an earlier one replaces its traces and spools.
                for stale in ["\(name)-trace", "\(name)-spool.sqlite"] {
                    try? FileManager.default.removeItem(at: settings.outDirectory.appendingPathComponent(stale))
                }
                // Each replica its own name in the shared state and its own spool.
                let own =
                    database == nil
                    ? []
                    : [
                        "--set", "deployment.state.postgres.replica=\(name)",
                        "--set", "deployment.state.postgres.spool=\(settings.outDirectory.appendingPathComponent("\(name)-spool.sqlite").path)",
                    ]
                gateways.append(
                    try ChildProcess(
                        settings.executables.appendingPathComponent("brownout-gateway"),
                        [gatewaySpec.path] + sets + own + [
                            "--seed", String(spec.seed &+ UInt64(replica)), "--time-scale", String(settings.scale),
                            "--clock-start-unix-ns", String(start),
                            "--calendar-start-unix-s", String(world.startUnixSeconds),
                            "--record", settings.outDirectory.appendingPathComponent("\(name)-trace").path,
                        ],
                        environment: environment, log: settings.outDirectory.appendingPathComponent("\(name).log")))
            }
            var gatewayPorts: [Int] = [], metricsPorts: [Int] = []
            for gateway in gateways {
                gatewayPorts.append(try await gateway.listeningPort(within: .seconds(startSeconds - 1)))
                let metricsLine = try await gateway.line(startingWith: "metrics on ", within: .seconds(startSeconds - 1))
                guard let colon = metricsLine.lastIndex(of: ":"), let metricsPort = Int(metricsLine[metricsLine.index(after: colon)...]) else {
                    throw TwinError("the gateway printed '\(metricsLine)', which names no port")
                }
                metricsPorts.append(metricsPort)
            }
            guard clock.nanoseconds() < 0 else {
                throw TwinError("the upstreams and the gateway replicas took more than \(Int(startSeconds)) s to start")
            }

            let window = MeasurementWindow(
                warmUp: Seconds.nanoseconds(world.warmUpSeconds), horizon: Seconds.nanoseconds(world.durationSeconds),
                bucket: Seconds.nanoseconds(world.bucketSeconds))
            let longest = world.router.routes.map(\.timeouts.effectiveOverallSeconds).max() ?? Timeouts.defaultOverallSeconds
            let timeout = TimeAmount.nanoseconds(Seconds.nanoseconds(longest) / settings.scale + 30_000_000_000)
            let teams = zip(world.teams, keys).map { team, key in
                LiveTeam(
                    spec: team, key: key.key, clock: clock, client: client, gateways: gatewayPorts.map { "http://127.0.0.1:\($0)" },
                    window: window, requestTimeout: timeout,
                    holdingRoutes: Set(world.router.routes.filter(\.streamCommit.holds).map(\.name)),
                    seed: spec.seed, replication: settings.replication)
            }
            let reporter = Task {
                while !Task.isCancelled {
                    progress?("live", min(1, max(0, Double(clock.nanoseconds()) / Double(window.horizon))))
                    try? await Task.sleep(for: .milliseconds(250))
                }
            }
            // Spend counts from the end of the warm-up, as the simulated gateway's ledger does.
            let metricsAtWarmUp = Task { () -> String in
                guard window.warmUp > 0 else { return "" }
                try await clock.sleep(until: window.warmUp)
                return try await gatewayMetrics(client: client, ports: metricsPorts).joined(separator: "\n")
            }
            // Attempts count between the warm-up and the horizon, as the simulated upstreams
            // count them (not the drain after it).
            let metricsAtHorizon = Task { () -> String in
                try await clock.sleep(until: window.horizon)
                return try await gatewayMetrics(client: client, ports: metricsPorts).joined(separator: "\n")
            }
            let wallStart = ContinuousClock.now
            let results = await withTaskGroup(of: (Int, LiveTeamResult).self) { group in
                for (index, team) in teams.enumerated() {
                    group.addTask { (index, await team.run(seed: spec.seed, replication: settings.replication)) }
                }
                var results: [(Int, LiveTeamResult)] = []
                for await result in group { results.append(result) }
                return results.sorted { $0.0 < $1.0 }.map(\.1)
            }
            reporter.cancel()
            let seconds = Double(wallStart.duration(to: .now).components.seconds)
            let metricsTexts = try await gatewayMetrics(client: client, ports: metricsPorts)
            for (replica, text) in metricsTexts.enumerated() {
                try AtomicOutput.write(text, to: settings.outDirectory.appendingPathComponent("\(replicaName(replica, of: replicas))-metrics.txt"))
            }
            let metricsText = metricsTexts.joined(separator: "\n")
            let atWarmUp = try await metricsAtWarmUp.value
            let spend = sum(metricsText, family: "brownout_team_spend_usd", by: "team")
            let spentInWarmUp = sum(atWarmUp, family: "brownout_team_spend_usd", by: "team")
            let attemptsAtHorizon = sum(try await metricsAtHorizon.value, family: "brownout_attempts_total", by: "upstream")
            let attemptsInWarmUp = sum(atWarmUp, family: "brownout_attempts_total", by: "upstream")
            for gateway in gateways { await gateway.stop(grace: .seconds(10)) }
            await mock.stop(grace: .seconds(10))
            try await client.shutdown()
            // The replicas' spend ledger, as a platform team exports it (the README's query),
            // before the twin's database goes: `brownout incident` reads it beside the traces.
            if let database {
                let ledger: String
                do {
                    ledger = try await database.csv("SELECT * FROM brownout_spend_ledger ORDER BY settled_at, replica, boot, request_id, part")
                } catch {
                    throw TwinError("the replicas' spend ledger could not be exported: \(error)")
                }
                try AtomicOutput.write(ledger, to: settings.outDirectory.appendingPathComponent("ledger.csv"))
            }
            return LiveRun(
                results: results, spendUSD: results.map { (spend[$0.metrics.name] ?? 0) - (spentInWarmUp[$0.metrics.name] ?? 0) },
                attempts: attemptsAtHorizon.merging(attemptsInWarmUp.mapValues { -$0 }, uniquingKeysWith: +), seconds: seconds,
                poolAttempts: try (0..<replicas).map { replica in
                    try poolAttempts(trace: settings.outDirectory.appendingPathComponent("\(replicaName(replica, of: replicas))-trace/trace.jsonl"))
                })
        } catch {
            for gateway in gateways { await gateway.stop(grace: .seconds(10)) }
            await mock.stop(grace: .seconds(10))
            try? await client.shutdown()
            throw error
        }
    }

    /// Each request's successful attempt at a local pool in the gateway's trace (the attempts
    /// billed GPU time), by request id.
    static func poolAttempts(trace url: URL) throws -> [UInt64: (latencyNanoseconds: Int64, gpuSeconds: Double)] {
        let text: String
        do {
            text = try String(contentsOf: url, encoding: .utf8)
        } catch {
            throw TwinError("\(url.path): the gateway's trace could not be read (\(error.localizedDescription))")
        }
        var attempts: [UInt64: (latencyNanoseconds: Int64, gpuSeconds: Double)] = [:]
        do {
            for line in try RouterTrace.lines(text, file: url.path).lines where line.call == .attemptFinished && line.outcome == .success {
                guard let gpuSeconds = line.gpuSeconds, gpuSeconds > 0, let latency = line.latencyNanoseconds else { continue }
                attempts[line.requestID] = (latency, gpuSeconds)
            }
        } catch {
            throw TwinError(error.description)
        }
        return attempts
    }

    /// The simulated half: the spec's replications, conditioned on the live run's health
    /// history and arrivals, with the deployment the live gateways ran (the twin's
    /// `gateway.yaml`: its state, and so whether the replicas share budgets and rate limits).
    static func simulate(settings: Settings, progress: Progress?) throws -> [ReplicationResult] {
        var simulated: ExperimentSpec
        do {
            (_, simulated, _) = try Experiment.load(
                path: settings.outDirectory.appendingPathComponent("gateway.yaml").path, overrides: settings.overrides)
        } catch {
            throw TwinError(error.description)
        }
        simulated.world.healthReplication = settings.replication
        simulated.world.trafficReplication = settings.replication
        if let count = settings.simulatedReplications { simulated.replications = count }
        do {
            return try Experiment.simulate([simulated], jobs: settings.jobs) { done, total in progress?("simulation", Double(done) / Double(total)) }[
                0]
        } catch {
            throw TwinError(error.description)
        }
    }

    /// Each team's metrics, each upstream's attempts and the failures, live against the
    /// simulator; `twin.csv`, `twin-upstreams.csv` and `live-failures.csv` written.
    static func compare(_ live: LiveRun, with runs: [ReplicationResult], world: WorldSpec, settings: Settings) throws -> Outcome {
        var lateness = LatencyHistogram(), transport = LatencyHistogram()
        for result in live.results {
            lateness.merge(result.lateness)
            transport.merge(result.transport)
        }
        let replications = runs.map { run in
            world.teams.enumerated().map { index, team -> TwinComparison.TeamRun in
                let routerIndex = world.router.teams.firstIndex { $0.name == team.name } ?? index
                return (run.teams[index], run.ledger.teams[routerIndex].totalUSD)
            }
        }
        // The pools bill GPU time by the attempt's length as the gateway measured it, the
        // twin's transport and the mock's timer lateness included, which the simulated pool
        // does not have: the share of each answer's billed GPU time beyond the mock's plan is
        // taken out of spend, as the transport is out of latencies.
        let netSpend = zip(live.results, live.spendUSD).map { result, spend in
            spend
                - result.poolAnswers.reduce(0) { sum, answer in
                    guard let billed = live.poolAttempts[answer.replica][answer.requestID], billed.latencyNanoseconds > answer.plannedNanoseconds,
                        let pool = world.router.targets.first(where: { $0.name == answer.pool })
                    else { return sum }
                    let beyondPlan = 1 - Double(answer.plannedNanoseconds) / Double(billed.latencyNanoseconds)
                    return sum + billed.gpuSeconds * beyondPlan * pool.gpuPricePerHour / 3_600
                }
        }
        let comparison = TwinComparison(
            teams: world.teams.map(\.name), replications: replications,
            live: zip(live.results, netSpend).map { (metrics: $0.metrics, spendUSD: $1) },
            liveRaw: zip(live.results, live.spendUSD).map { (metrics: $0.rawMetrics, spendUSD: $1) })
        try AtomicOutput.write(comparison.csv, to: settings.outDirectory.appendingPathComponent("twin.csv"))
        let upstreamNames = world.router.targets.map(\.name)
        let upstreams = TwinUpstreamComparison(
            upstreams: upstreamNames,
            replications: runs.map { run in upstreamNames.map { name in Double(run.upstreams.first { $0.name == name }?.offered ?? 0) } },
            live: upstreamNames.map { live.attempts[$0] ?? 0 })
        try AtomicOutput.write(upstreams.csv, to: settings.outDirectory.appendingPathComponent("twin-upstreams.csv"))
        var failureTable = CSVTable(header: LiveFailure.csvHeader)
        for result in live.results {
            for failure in result.failures.sorted(by: { $0.arrivedAt < $1.arrivedAt }) { failureTable.append(failure.csvRow) }
        }
        try AtomicOutput.write(failureTable.text, to: settings.outDirectory.appendingPathComponent("live-failures.csv"))
        let failures = world.teams.indices.map { index in
            let live = live.results[index].metrics.failures.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
            var simulated: [String: Double] = [:]
            for run in runs { for (label, count) in run.teams[index].failures { simulated[label, default: 0] += Double(count) / Double(runs.count) } }
            return (team: world.teams[index].name, live: live, simulated: simulated.sorted { $0.key < $1.key }.map { ($0.key, $0.value) })
        }
        return Outcome(
            comparison: comparison, upstreams: upstreams, failures: failures, lateness: lateness, transport: transport, liveSeconds: live.seconds,
            simulatedReplications: runs.count)
    }

    /// Many connections to one host (the gateway): a team's concurrency is the spec's, not
    /// the client's default of 8.
    static var loadClientConfiguration: HTTPClient.Configuration {
        var configuration = HTTPClient.Configuration(timeout: .init(connect: .seconds(10)), decompression: .disabled)
        configuration.tracing.tracer = nil
        configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = 4_096
        return configuration
    }

    /// The variable the twin's gateway reads its upstreams' key from.
    static let twinKeyVariable = "BROWNOUT_TWIN_UPSTREAM_KEY"
    /// The variable the twin's gateway replicas read their shared database's URL from.
    static let twinDatabaseVariable = "BROWNOUT_TWIN_DATABASE_URL"

    /// A replica's name, and its files' (`NAME.log`, `NAME-trace/`): `gateway` when there is
    /// one, `gateway-1`, `gateway-2`, … when there are more.
    static func replicaName(_ replica: Int, of replicas: Int) -> String {
        replicas == 1 ? "gateway" : "gateway-\(replica + 1)"
    }

    /// The spec the twin's gateway runs: the user's spec, included unchanged, and a
    /// deployment section over its own: every upstream at the mock under its own name (its
    /// `protocol` kept) with the twin's key, the listeners on free loopback ports (`/metrics`
    /// on its own, wherever the spec put it), the spend not saved to a spend database, and a
    /// key per team. One replica keeps its state in SQLite (its breakers its own); replicas
    /// (`sharedState`) share theirs through the twin's PostgreSQL, the spec's lease settings
    /// kept (each replica's name and spool are set where it starts).
    static func gatewayYAML(spec: URL, world: WorldSpec, mockPort: Int, keys: [(team: String, key: String)], sharedState: Bool) -> String {
        func quoted(_ text: String) -> String {
            "\"" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
        }
        var lines = [
            "# Written by brownout twin: the spec below, served by the real gateway against the twin's upstreams.",
            "include: [\(quoted(spec.path))]",
        ]
        // One replica: nothing to share breakers with, and no database to share them through.
        if !sharedState { lines.append("gateway: {breaker_scope: replica}") }
        lines += [
            "deployment:",
            "  listen: 127.0.0.1:0",
            "  metrics_listen: 127.0.0.1:0",
            "  spend_database: none",
            sharedState ? "  state: {postgres: {url_env: \(twinDatabaseVariable)}}" : "  state: sqlite",
            "  upstreams:",
        ]
        for name in world.router.targets.map(\.name) {
            lines.append(
                "    \(quoted(name)): {base_url: \(quoted("http://127.0.0.1:\(mockPort)/v1")), model: \(quoted(name)), api_key_env: \(twinKeyVariable)}"
            )
        }
        lines.append("  keys:")
        for (team, key) in keys {
            let hash = SHA256.hash(data: Data(key.utf8)).map { String(format: "%02x", $0) }.joined()
            lines.append("    \(quoted(team)): [\(quoted(hash))]")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Each gateway replica's `/metrics`.
    static func gatewayMetrics(client: HTTPClient, ports: [Int]) async throws -> [String] {
        var texts: [String] = []
        for port in ports {
            let response = try await client.execute(HTTPClientRequest(url: "http://127.0.0.1:\(port)/metrics"), timeout: .seconds(10))
            texts.append(String(buffer: try await response.body.collect(upTo: 16 << 20)))
        }
        return texts
    }

    /// A family of the gateway's metrics summed by one label (each team's spend, each
    /// upstream's attempts over every outcome).
    static func sum(_ metrics: String, family: String, by label: String) -> [String: Double] {
        var sums: [String: Double] = [:]
        for line in metrics.split(separator: "\n") where line.hasPrefix(family + "{") {
            guard let open = line.range(of: label + "=\""), let close = line[open.upperBound...].firstIndex(of: "\""),
                let value = line.split(separator: " ").last.flatMap({ Double($0) })
            else { continue }
            sums[String(line[open.upperBound..<close]), default: 0] += value
        }
        return sums
    }
}
