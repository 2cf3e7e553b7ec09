import Foundation
import Testing
import ConfigSchema
@testable import Experiments
@testable import GatewaySim
@testable import RoutingCore

/// Every scenario's routing, copied out of its spec into a gateway's JSON config, decodes
/// strictly to exactly the router configuration the simulator runs.
@Suite("One schema: a spec's routing sections mean the same in a gateway's JSON config")
struct SchemaRoundTripTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../..").standardized

    /// The routing keys of each section, from RoutingCore's own coding keys.
    static func routingKeys(section: String) -> Set<String>? {
        switch section {
        case "providers": return Set(TargetConfig.ProviderKeys.allCases.map(\.rawValue))
        case "pools": return Set(TargetConfig.PoolKeys.allCases.map(\.rawValue))
        case "gateway": return Set(HealthConfig.CodingKeys.allCases.map(\.rawValue) + RouterConfig.GatewayKeys.allCases.map(\.rawValue))
        case "teams": return Set(TeamConfig.CodingKeys.allCases.map(\.rawValue) + RouterConfig.TeamKeys.allCases.map(\.rawValue))
        default: return nil
        }
    }

    static func json(_ value: SpecValue) -> String {
        switch value {
        case .scalar(let text, _):
            if text == "true" || text == "false" || Double(text) != nil { return text }
            return "\"" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
        case .list(let items, _):
            return "[" + items.map(json).joined(separator: ", ") + "]"
        case .map(let entries, _):
            return "{" + entries.map { "\"\($0.key)\": \(json($0.value))" }.joined(separator: ", ") + "}"
        }
    }

    /// The routing sections of a spec document, as JSON: other sections dropped, and in the
    /// named entries only RoutingCore's keys.
    static func routingJSON(_ document: SpecValue) -> String {
        guard case .map(let sections, _) = document else { return "{}" }
        var parts: [String] = []
        for (name, _, value) in sections where RouterConfig.CodingKeys(rawValue: name) != nil {
            guard let keys = routingKeys(section: name) else {
                parts.append("\"\(name)\": \(json(value))")
                continue
            }
            func filtered(_ value: SpecValue) -> String {
                guard case .map(let entries, _) = value else { return json(value) }
                var kept = entries.filter { keys.contains($0.key) }
                // A pool's autoscaling block: only its replica bound is routing.
                if let index = kept.firstIndex(where: { $0.key == "autoscaling" }), case .map(let scaling, let location) = kept[index].value {
                    kept[index].value = .map(scaling.filter { TargetConfig.AutoscalingKeys(rawValue: $0.key) != nil }, location)
                }
                return "{" + kept.map { "\"\($0.key)\": \(json($0.value))" }.joined(separator: ", ") + "}"
            }
            if name == "gateway" {
                parts.append("\"gateway\": \(filtered(value))")
            } else if case .map(let entries, _) = value {
                parts.append("\"\(name)\": {" + entries.map { "\"\($0.key)\": \(filtered($0.value))" }.joined(separator: ", ") + "}")
            }
        }
        return "{" + parts.joined(separator: ",\n") + "}"
    }

    @Test("every spec in experiments/: its routing as JSON decodes to the simulator's router config")
    func experimentsRoundTrip() throws {
        let directory = Self.repository.appendingPathComponent("experiments")
        let specs = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasSuffix(".yaml") }.sorted()
        #expect(specs.count >= 6)
        for name in specs {
            let path = directory.appendingPathComponent(name).path
            let (_, spec, _) = try Experiment.load(path: path, overrides: [])
            let document = try SpecDocument.load(path: path)
            let json = Self.routingJSON(document)
            let config = try RouterConfig.decode(yamlOrJSON: json, file: "\(name).json")
            #expect(config == spec.world.router, "\(name): the JSON config decodes to another router config")
            #expect(!config.routes.isEmpty && config.targets.count == spec.world.providers.count + spec.world.pools.count)
        }
    }

    @Test("the copy is strict: a simulator-only key left in a gateway config is an unknown key")
    func simulatorKeysAreNotRouting() throws {
        let text = """
            {"providers": {"a": {"input_usd_per_mtok": 1, "output_usd_per_mtok": 2, "concurrency": 10}},
             "routes": {"chat": {"chain": ["a"]}}}
            """
        #expect(throws: SpecError.self) { try RouterConfig.decode(yamlOrJSON: text, file: "gateway.json") }
    }

    @Test("the keys a gateway accepts without reading are exactly the simulator's own")
    func simulatorKeysMatchTheSimulator() {
        func names<K: CaseIterable & RawRepresentable>(_ type: K.Type) -> Set<String> where K.RawValue == String { Set(K.allCases.map(\.rawValue)) }
        #expect(SimulatorKeys.provider == names(ProviderSpec.CodingKeys.self))
        #expect(SimulatorKeys.pool == names(FallbackPoolSpec.CodingKeys.self))
        #expect(SimulatorKeys.poolAutoscaling == names(FallbackPoolSpec.AutoscalingKeys.self))
        #expect(SimulatorKeys.gateway == names(SimulatedGatewaySettings.CodingKeys.self))
        #expect(SimulatorKeys.team == names(TeamSpec.CodingKeys.self))
        let shared = names(RouterConfig.CodingKeys.self)
        #expect(SimulatorKeys.sections == names(SimulatedWorldSections.CodingKeys.self).subtracting(shared).union(["variants"]))
    }
}
