import ConfigSchema
import Foundation
import GatewaySim
import RoutingCore
import Testing

@testable import Experiments

/// ``ConfigSchema/SpecValue/yaml(indent:)`` (how `brownout fit --timeline` copies a spec's
/// sections): every stored experiment, resolved, written out and read back is the same tree and
/// the same spec.
@Suite("Spec values written as YAML")
struct SpecYAMLTests {
    /// The tree without locations.
    static func canonical(_ value: SpecValue) -> String {
        switch value {
        case .scalar(let text, _): return "s(\(text.debugDescription))"
        case .map(let entries, _): return "m(" + entries.map { "\($0.key.debugDescription):\(canonical($0.value))" }.joined(separator: ",") + ")"
        case .list(let items, _): return "l(" + items.map(canonical).joined(separator: ",") + ")"
        }
    }

    @Test(
        "each stored experiment reads back as it was written",
        arguments: try FileManager.default.contentsOfDirectory(atPath: "experiments").filter { $0.hasSuffix(".yaml") }.sorted())
    func roundTrip(file: String) throws {
        let document = try SpecDocument.load(path: "experiments/" + file)
        let text = "root:" + document.yaml(indent: 2)
        guard case .map(let entries, _) = try SpecValue.parse(yaml: text, file: "written.yaml"), let back = entries.first?.value else {
            Issue.record("the written text is not a map:\n\(text)")
            return
        }
        #expect(Self.canonical(back) == Self.canonical(document))
        // The spec without its variants (read apart, by the variants' parser).
        func base(_ value: SpecValue) -> SpecValue {
            guard case .map(let entries, let location) = value else { return value }
            return .map(entries.filter { $0.key != "variants" }, location)
        }
        let original = try ExperimentSpec(decoding: base(document)), reread = try ExperimentSpec(decoding: base(back))
        #expect(original.world.router.fingerprint == reread.world.router.fingerprint && original.seed == reread.seed)
    }

    @Test("quotes, backslashes, newlines and empty collections survive")
    func awkwardScalars() throws {
        let value = try SpecValue.parse(yaml: "a: \"say \\\"hi\\\"\\\\ \\n\"\nb: []\nc: {}\nd: [[1, 2], {e: ~}]\n", file: "t.yaml")
        let back = try SpecValue.parse(yaml: "root:" + value.yaml(indent: 2), file: "back.yaml")
        guard case .map(let entries, _) = back else { Issue.record("not a map"); return }
        #expect(Self.canonical(entries[0].value) == Self.canonical(value))
    }
}
