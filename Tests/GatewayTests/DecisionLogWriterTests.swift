import ConfigSchema
import Foundation
import RoutingCore
import Synchronization
import Testing
@testable import GatewayServer

/// The decision log rotates by size: the current file never grows past its bound by more
/// than one line, the previous one is kept as PATH.1, and no line is split or lost across a
/// rotation. A file that cannot be written, or a writer far behind, loses lines, counted,
/// and never stops the gateway.
@Suite("Decision log and trace files")
struct DecisionLogWriterTests {
    @Test("rotates to PATH.1 at max_bytes, whole lines only")
    func rotation() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("brownout-log-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("decisions.jsonl").path
        let config = try RouterConfig.decode(
            yamlOrJSON: #"{"providers": {"alpha": {"input_usd_per_mtok": 1, "output_usd_per_mtok": 2}}, "routes": {"chat": {"chain": ["alpha"]}}}"#,
            file: "test.json")
        let clock = ManualClock()
        var router = try Router(
            config: config, clock: clock, wallClock: OffsetWallClock(clock: clock, unixNanosecondsAtZero: 0), generator: SplitMix64(seed: 1))
        let writer = try DecisionLogWriter(path: path, maxBytes: 4_000, metrics: GatewayMetrics(config: config))
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

    @Test("a full disk (/dev/full): every write fails, the lines are counted as lost, and the writer goes on")
    func fullDisk() throws {
        let lost = Mutex(0)
        let writer = try LineFileWriter(path: "/dev/full", maxBytes: Int.max, what: "decision_log.path") { count in lost.withLock { $0 += count } }
        for line in 1...3 { writer.append(#"{"line": \#(line)}"#) }
        writer.flush()
        #expect(lost.withLock { $0 } == 3)
        writer.append(#"{"line": 4}"#)
        writer.close()
        #expect(lost.withLock { $0 } == 4)
    }

    @Test("a writer far behind keeps at most max_pending bytes of lines and counts the ones it drops")
    func boundedPending() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("brownout-log-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("trace.jsonl").path
        let lost = Mutex(0)
        // Chunks too large to ever fill: nothing is written until the flush below.
        let writer = try LineFileWriter(path: path, maxBytes: Int.max, chunkBytes: 1 << 30, maxPendingBytes: 100, what: "--record") { count in
            lost.withLock { $0 += count }
        }
        let line = String(repeating: "x", count: 9)  // 10 bytes with its newline
        for _ in 1...25 { writer.append(line) }
        #expect(try String(contentsOfFile: path, encoding: .utf8).isEmpty, "appending never writes the file")
        writer.close()
        let kept = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
        #expect(kept.count == 10 && lost.withLock { $0 } == 15, "\(kept.count) kept")
    }
}
