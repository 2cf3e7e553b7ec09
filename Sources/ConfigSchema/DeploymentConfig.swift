import Foundation
import RoutingCore

/// The `deployment` section of a spec: what a production gateway needs beyond the routing
/// the team simulated — where it listens, each upstream's address, model and key, each
/// team's API keys (as SHA-256 hashes, never the keys), and where it writes its records.
///
///     deployment:
///       listen: 127.0.0.1:8080
///       upstreams:
///         anthropic: {base_url: "https://api.anthropic.com/v1", protocol: anthropic, model: claude-sonnet-4-5, api_key_env: ANTHROPIC_API_KEY}
///         h100-llama-70b: {base_url: "http://10.0.0.7:8000/v1", model: llama-3.3-70b}
///       keys:
///         search: ["9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"]
///       decision_log: {path: decisions.jsonl, max_bytes: 104857600}
///       spend_database: spend.sqlite
///       state: {postgres: {url_env: BROWNOUT_DATABASE_URL}}   # default: sqlite
public struct DeploymentConfig: Decodable, Sendable {
    public struct Upstream: Sendable, Equatable {
        /// The router's target this upstream serves.
        public var target: String
        /// The OpenAI-compatible API root, e.g. `https://api.openai.com/v1`.
        public var baseURL: String
        /// The model name sent upstream.
        public var model: String
        /// The environment variable holding the upstream's API key (none: no key is sent).
        public var apiKeyEnvironmentVariable: String?
        /// The API the upstream speaks (`protocol`; default `openai`).
        public var apiProtocol: APIProtocol = .openai
    }

    public struct DecisionLog: Sendable, Equatable {
        public var path: String
        /// The log is rotated (to `PATH.1`) when it would grow past this.
        public var maxBytes: Int
    }

    /// What the gateway takes of request bodies (`request_bodies`): a body over `max_bytes` is
    /// refused with 413, one not read within `read_timeout_s` with 408 (nginx allows 60 s of
    /// silence in a body, `client_body_timeout`; here the whole body), and past `held_max_bytes`
    /// of bodies held at once (each request keeps its body until it ends, for its retries) a
    /// new request is refused with 503: a bound on the memory clients can make it hold.
    public struct RequestBodies: Sendable, Equatable {
        public var maxBytes = 16 << 20
        public var readTimeoutSeconds = 60.0
        /// Sixteen bodies of the largest size.
        public var heldMaxBytes = 256 << 20
    }

    public var host: String = "127.0.0.1"
    public var port: Int = 8080
    /// Where `/metrics` is served instead of the main listener (`metrics_listen`, HOST:PORT;
    /// nil: on the main listener).
    public var metricsListen: (host: String, port: Int)?
    public var upstreams: [Upstream] = []
    /// Lowercase hex SHA-256 of each API key, by team.
    public var keyHashes: [(team: String, sha256: String)] = []
    /// The routes (models) a team's keys may use; a team not listed may use every route.
    public var teamRoutes: [(team: String, routes: [String])] = []
    public var decisionLog: DecisionLog?
    /// The SQLite database where budget spend is saved and restored across restarts
    /// (`spend_database: none`: not kept).
    public var spendDatabase: String? = "brownout-spend.sqlite"
    /// Where state shared beyond one request is kept (`state`): SQLite alone, or PostgreSQL
    /// with the spend ledger.
    public var state = StateStoreConfig.sqlite
    /// How long in-flight requests may take to finish on SIGTERM, in seconds.
    public var shutdownGraceSeconds: Double = 30
    public var requestBodies = RequestBodies()
    /// The most bytes of a streamed answer held for a client that reads slower than the
    /// upstream writes (`stream_buffer_max_bytes`); past it the client is cut off as if it
    /// had left (its attempt cancelled, counted): a slow reader cannot make the gateway hold
    /// an answer without bound. 4 MiB is some thousand times a typical answer's frames.
    public var streamBufferMaxBytes = 4 << 20

    public init() {}

    enum CodingKeys: String, CodingKey, CaseIterable {
        case listen, upstreams, keys
        case metricsListen = "metrics_listen"
        case teamRoutes = "team_routes"
        case decisionLog = "decision_log", spendDatabase = "spend_database", shutdownGrace = "shutdown_grace_s", state
        case requestBodies = "request_bodies", streamBufferMaxBytes = "stream_buffer_max_bytes"
    }

    enum RequestBodiesKeys: String, CodingKey, CaseIterable {
        case maxBytes = "max_bytes", readTimeout = "read_timeout_s", heldMaxBytes = "held_max_bytes"
    }

    enum UpstreamKeys: String, CodingKey, CaseIterable {
        case model
        case baseURL = "base_url", apiKeyEnvironmentVariable = "api_key_env", apiProtocol = "protocol"
    }

    enum DecisionLogKeys: String, CodingKey, CaseIterable {
        case path
        case maxBytes = "max_bytes"
    }

    /// Sets each target's API (`upstreams.NAME.protocol`) on `router`: a route with
    /// `cross_protocol: false` sends a request only to targets that speak its client's.
    public func setTargetProtocols(of router: inout RouterConfig) {
        for upstream in upstreams {
            guard let index = router.targets.firstIndex(where: { $0.name == upstream.target }) else { continue }
            router.targets[index].apiProtocol = upstream.apiProtocol
        }
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        if let listen = try Self.address(c, .listen) { (host, port) = listen }
        metricsListen = try Self.address(c, .metricsListen)
        let upstreamEntries = try c.nestedContainer(keyedBy: ConfigKey.self, forKey: .upstreams)
        for key in upstreamEntries.allKeys {
            let u = try upstreamEntries.nestedContainer(keyedBy: UpstreamKeys.self, forKey: key)
            let baseURL = try u.decode(String.self, forKey: .baseURL)
            guard baseURL.hasPrefix("http://") || baseURL.hasPrefix("https://") else {
                throw DecodingError.dataCorruptedError(
                    forKey: .baseURL, in: u, debugDescription: "must start with http:// or https://, got '\(baseURL)'")
            }
            guard let host = URL(string: baseURL)?.host, !host.isEmpty else {
                throw DecodingError.dataCorruptedError(forKey: .baseURL, in: u, debugDescription: "is not a URL with a host, got '\(baseURL)'")
            }
            var apiProtocol = APIProtocol.openai
            if let name = try u.decodeIfPresent(String.self, forKey: .apiProtocol) {
                guard let known = APIProtocol(rawValue: name) else {
                    throw DecodingError.dataCorruptedError(
                        forKey: .apiProtocol, in: u,
                        debugDescription: "must be one of \(APIProtocol.allCases.map(\.rawValue).joined(separator: ", ")), got '\(name)'")
                }
                apiProtocol = known
            }
            upstreams.append(
                Upstream(
                    target: key.stringValue, baseURL: baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL,
                    model: try u.decode(String.self, forKey: .model),
                    apiKeyEnvironmentVariable: try u.decodeIfPresent(String.self, forKey: .apiKeyEnvironmentVariable), apiProtocol: apiProtocol))
        }
        if c.contains(.keys) {
            let teams = try c.nestedContainer(keyedBy: ConfigKey.self, forKey: .keys)
            for team in teams.allKeys {
                var list = try teams.nestedUnkeyedContainer(forKey: team)
                while !list.isAtEnd {
                    let hash = try list.decode(String.self).lowercased()
                    guard hash.count == 64, hash.allSatisfy(\.isHexDigit) else {
                        throw DecodingError.dataCorruptedError(
                            in: list,
                            debugDescription: "must be the SHA-256 of the key as 64 hex digits (`printf %s KEY | sha256sum`), never the key itself")
                    }
                    keyHashes.append((team.stringValue, hash))
                }
            }
        }
        if c.contains(.teamRoutes) {
            let teams = try c.nestedContainer(keyedBy: ConfigKey.self, forKey: .teamRoutes)
            for team in teams.allKeys { teamRoutes.append((team.stringValue, try teams.decode([String].self, forKey: team))) }
        }
        if c.contains(.decisionLog) {
            let log = try c.nestedContainer(keyedBy: DecisionLogKeys.self, forKey: .decisionLog)
            decisionLog = DecisionLog(
                path: try log.decode(String.self, forKey: .path), maxBytes: try log.number(.maxBytes, default: 100 << 20, atLeast: 4_096))
        }
        if let database = try c.decodeIfPresent(String.self, forKey: .spendDatabase) { spendDatabase = database == "none" ? nil : database }
        state = try c.decode(.state, default: state)
        shutdownGraceSeconds = try c.number(.shutdownGrace, default: shutdownGraceSeconds, atLeast: 0)
        streamBufferMaxBytes = try c.number(.streamBufferMaxBytes, default: streamBufferMaxBytes, atLeast: 1)
        if c.contains(.requestBodies) {
            let bodies = try c.nestedContainer(keyedBy: RequestBodiesKeys.self, forKey: .requestBodies)
            requestBodies.maxBytes = try bodies.number(.maxBytes, default: requestBodies.maxBytes, atLeast: 1)
            requestBodies.readTimeoutSeconds = try bodies.number(.readTimeout, default: requestBodies.readTimeoutSeconds, above: 0)
            requestBodies.heldMaxBytes = try bodies.number(.heldMaxBytes, default: requestBodies.heldMaxBytes, atLeast: requestBodies.maxBytes)
        }
    }

    /// A `HOST:PORT` at `key`, or nil when the key is absent.
    static func address(_ c: KeyedDecodingContainer<CodingKeys>, _ key: CodingKeys) throws -> (host: String, port: Int)? {
        guard let listen = try c.decodeIfPresent(String.self, forKey: key) else { return nil }
        guard let colon = listen.lastIndex(of: ":"), let port = Int(listen[listen.index(after: colon)...]), (0...65_535).contains(port),
            colon != listen.startIndex
        else {
            throw DecodingError.dataCorruptedError(forKey: key, in: c, debugDescription: "must be HOST:PORT, e.g. 127.0.0.1:8080, got '\(listen)'")
        }
        return (String(listen[..<colon]).trimmingCharacters(in: ["[", "]"]), port)
    }

    /// Checks the deployment against the routing it serves: one upstream per target, keys
    /// only for known teams, no key given to two teams.
    public func findings(for router: RouterConfig) -> [ConfigFinding] {
        var findings: [ConfigFinding] = []
        let targets = router.targets.map(\.name)
        for target in targets where !upstreams.contains(where: { $0.target == target }) {
            findings.append(ConfigFinding(path: "deployment.upstreams", message: "no upstream for '\(target)'; every provider and pool needs one"))
        }
        for upstream in upstreams where !targets.contains(upstream.target) {
            findings.append(
                ConfigFinding(
                    path: "deployment.upstreams.\(upstream.target)",
                    message: NameSuggestion.unknown("target", upstream.target, in: targets, label: "providers and pools")))
        }
        let teams = router.teams.map(\.name)
        var seen: [String: String] = [:]
        for (team, hash) in keyHashes {
            if !teams.contains(team) {
                findings.append(
                    ConfigFinding(path: "deployment.keys.\(team)", message: NameSuggestion.unknown("team", team, in: teams, label: "teams")))
            }
            if let other = seen[hash], other != team {
                findings.append(ConfigFinding(path: "deployment.keys.\(team)", message: "a key of team '\(other)' is also given to '\(team)'"))
            }
            seen[hash] = team
        }
        let routes = router.routes.map(\.name)
        for (team, allowed) in teamRoutes {
            if !teams.contains(team) {
                findings.append(
                    ConfigFinding(path: "deployment.team_routes.\(team)", message: NameSuggestion.unknown("team", team, in: teams, label: "teams")))
            }
            for route in allowed where !routes.contains(route) {
                findings.append(
                    ConfigFinding(
                        path: "deployment.team_routes.\(team)", message: NameSuggestion.unknown("route", route, in: routes, label: "routes")))
            }
        }
        return findings
    }

    /// Whether `team` may use `route`.
    public func team(_ team: String, mayUse route: String) -> Bool {
        guard let allowed = teamRoutes.first(where: { $0.team == team }) else { return true }
        return allowed.routes.contains(route)
    }
}

/// The root of a spec as a gateway reads it: its `deployment` section.
public struct DeploymentSection: Decodable, Sendable {
    public var deployment: DeploymentConfig?

    enum CodingKeys: String, CodingKey, CaseIterable { case deployment }

    public init(from decoder: any Decoder) throws {
        deployment = try decoder.container(keyedBy: CodingKeys.self).decodeIfPresent(DeploymentConfig.self, forKey: .deployment)
    }
}
