import Foundation
import RoutingCore
import Testing

@testable import Experiments

/// `brownout size-fallback` reads a replication at one pool size from its run at another
/// wherever the pool's size could not have mattered in that run. The claim is exact, so the
/// check is exact: on random specs (pools with queues, some autoscaling, every routing kind),
/// both goals, the search that reuses runs writes the same `sizing.csv`, byte for byte (run
/// costs included), and says the same sentence, as the search that simulates every
/// replication at every size.
@Suite("Fallback sizing: runs reused across pool sizes", .timeLimit(.minutes(10)))
struct SizingReuseTests {
    struct Outcome {
        let sentence: String
        let table: String
        let manifest: [String: Any]
        var simulated: Int { manifest["simulated_replications"] as! Int }
        var reused: Int { manifest["reused_replications"] as! Int }
    }

    static func size(_ path: String, pool: String, goal: FallbackSizing.Goal, reuse: Bool) throws -> Outcome {
        let out = try specDirectory([:]) + "/sizing"
        let sentence = try FallbackSizing.run(
            path: path, overrides: [], pool: pool, slos: ["all.availability>=0.99", "all.latency_p99_s<=5"], maxReplicas: 8,
            confidence: 0.95, goal: goal, directory: out, jobs: 2, progress: nil, reuseAcrossSizes: reuse)
        let manifest = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/sizing.json"))) as! [String: Any]
        return Outcome(
            sentence: sentence.replacingOccurrences(of: out, with: "OUT"), table: try String(contentsOfFile: out + "/sizing.csv", encoding: .utf8),
            manifest: manifest)
    }

    @Test("the same sizing.csv and answer as simulating every size, on random specs and both goals")
    func reuseChangesNothing() throws {
        var writer = RandomSpecWriter(generator: SplitMix64(seed: 20_261_207))
        var cases = 0, reused = 0, refused = 0
        for index in 0..<60 where cases < 16 {
            let text = writer.spec(name: "sizing-\(index)")
            guard text.contains("\npools:\n") else { continue }
            let path = try specDirectory(["spec.yaml": text]) + "/spec.yaml"
            cases += 1
            let goal: FallbackSizing.Goal = cases % 2 == 0 ? .cheapest : .smallest
            let reusing = try Self.size(path, pool: "g0", goal: goal, reuse: true)
            let simulating = try Self.size(path, pool: "g0", goal: goal, reuse: false)
            #expect(reusing.table == simulating.table, "spec \(index), \(goal)\n\(text)")
            #expect(reusing.sentence == simulating.sentence, "spec \(index), \(goal)")
            // Every replication a size read was either simulated or reused, never both.
            #expect(reusing.simulated + reusing.reused == simulating.simulated, "spec \(index)")
            #expect(simulating.reused == 0)
            reused += reusing.reused
            // Runs simulated beyond one per replication index: a size the reuse rule refused.
            let rows = reusing.table.components(separatedBy: "\r\n").dropFirst().filter { !$0.isEmpty }
            let deepest = rows.map { Int($0.split(separator: ",")[1])! }.max() ?? 0
            refused += max(0, reusing.simulated - deepest)
        }
        // The rule was exercised both ways: runs reused, and runs it would not reuse (the pool full).
        #expect(cases == 16)
        #expect(reused > 0)
        #expect(refused > 0)
        print("sizing reuse: \(cases) specs, \(reused) replications reused, \(refused) simulated again at another size")
    }
}
