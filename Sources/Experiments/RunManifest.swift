import ConfigSchema
import Foundation
import GatewaySim
import RoutingCore
import Stochastics

/// `run.json`: what was run, with which seed, by which version, and how long it took.
public struct RunManifest: Codable {
    public let name: String
    public let spec: String
    /// FNV-1a 64 of the resolved spec (includes and overrides applied), in hex.
    public let specHash: String
    public let seed: UInt64
    /// `run.start_time` as written (absent when the spec has none).
    public let startTime: String?
    public let replications: Int
    public let jobs: Int
    public let version: String
    public let wallSeconds: Double
    public let events: UInt64
    public let variants: [String]
    public let outputs: [String]
    /// Each team of the baseline and how it reaches its upstreams.
    public let teams: [Team]

    /// A team, its route, whether the route goes through the gateway (`mode`: `gateway` or
    /// `bypass`), the API its clients speak, and the upstreams its route may send it to in
    /// order (a bypassing route: its first target alone, the one its clients call).
    public struct Team: Codable, Equatable {
        public let name: String
        public let route: String
        public let mode: String
        public let api: String
        public let upstreams: [String]
    }

    public static let version = "0.2.0"

    enum CodingKeys: String, CodingKey {
        case name, spec, specHash = "spec_hash", seed, startTime = "start_time", replications, jobs, version, wallSeconds = "wall_seconds", events,
            variants, outputs, teams
    }

    public init(
        spec: ExperimentSpec, specPath: String, document: SpecValue, jobs: Int, wallSeconds: Double, events: UInt64, variants: [String] = ["baseline"]
    ) {
        self.name = spec.name
        self.spec = specPath
        self.specHash = RunManifest.hash(document)
        self.seed = spec.seed
        self.startTime = spec.startOfDaySeconds.map { String(format: "%02d:%02d", Int($0) / 3_600, Int($0) / 60 % 60) }
        self.replications = spec.replications
        self.jobs = jobs
        self.version = RunManifest.version
        self.wallSeconds = (wallSeconds * 1_000).rounded() / 1_000
        self.events = events
        self.variants = variants
        self.outputs =
            ["summary.csv", "per_team.csv", "per_provider.csv", "timeseries.csv", "provider_timeseries.csv"]
            + (variants.count > 1 ? ["compare.csv"] : [])
        let routes = spec.world.router.routes
        self.teams = spec.world.teams.map { team in
            let route = routes.first { $0.name == team.route }
            var upstreams: [String] = []
            if let route {
                let chain = route.chain.flatMap(\.targets)
                for name in route.mode == .bypass ? Array(chain.prefix(1)) : chain + (route.fallback?.targets ?? []) + route.contextWindowFallbacks
                where !upstreams.contains(name) {
                    upstreams.append(name)
                }
            }
            return Team(
                name: team.name, route: team.route, mode: (route?.mode ?? .gateway).rawValue, api: team.apiProtocol.rawValue, upstreams: upstreams)
        }
    }

    public func json() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: (try? encoder.encode(self)) ?? Data(), as: UTF8.self) + "\n"
    }

    /// FNV-1a 64 of the resolved spec, in hex.
    static func hash(_ document: SpecValue) -> String {
        String(format: "%016llx", StreamSeed.fnv1a64(canonical(document)))
    }

    /// A rendering of the spec that ignores where values came from.
    static func canonical(_ value: SpecValue) -> String {
        switch value {
        case .scalar(let text, _): return "s:\(text.count):\(text)"
        case .list(let items, _): return "[" + items.map(canonical).joined(separator: ",") + "]"
        case .map(let entries, _): return "{" + entries.map { "\($0.key)=\(canonical($0.value))" }.joined(separator: ",") + "}"
        }
    }
}
