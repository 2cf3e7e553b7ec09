import ConfigSchema
import Foundation
import RoutingCore
import Testing
@testable import GatewayServer

/// The decision log rotates by size: the current file never grows past its bound by more
/// than one line, the previous one is kept as PATH.1, and no line is split or lost across a
/// rotation.
@Suite("Decision log rotation")
struct DecisionLogWriterTests {
    @Test("rotates to PATH.1 at max_bytes, whole lines only")
    func rotation() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("brownout-log-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("decisions.jsonl").path
        let config = try RouterConfig.decode(yamlOrJSON: #"{"providers": {"alpha": {"input_usd_per_mtok": 1, "output_usd_per_mtok": 2}}, "routes": {"chat": {"chain": ["alpha"]}}}"#, file: "test.json")
        let clock = ManualClock()
        var router = try Router(config: config, clock: clock, wallClock: OffsetWallClock(clock: clock, unixNanosecondsAtZero: 0), generator: SplitMix64(seed: 1))
        let writer = try DecisionLogWriter(path: path, maxBytes: 4_000)
        var written: [String] = []
        for id in 1...200 {
            let request = try router.request(id: UInt64(id), route: "chat", team: nil, inputTokens: 10, maxOutputTokens: 10)
            let (_, decision) = router.begin(request)
            let record = router.record(decision)
            written.append(record.jsonLine())
            writer.append(record)
        }
        writer.close()
        let current = try String(contentsOfFile: path, encoding: .utf8)
        let previous = try String(contentsOfFile: path + ".1", encoding: .utf8)
        #expect(current.utf8.count <= 4_000 && previous.utf8.count <= 4_000)
        #expect(current.hasSuffix("\n") && previous.hasSuffix("\n"))
        // The two files hold the most recent lines, in order, each whole.
        let kept = (previous + current).split(separator: "\n").map(String.init)
        #expect(kept == Array(written.suffix(kept.count)))
        #expect(kept.count > 1 && kept.allSatisfy { (try? JSONSerialization.jsonObject(with: Data($0.utf8))) != nil })
    }
}
