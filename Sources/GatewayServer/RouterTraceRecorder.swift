import Foundation
import RoutingCore

/// `--record DIR`: writes `DIR/trace.jsonl`, the router trace (`RouterTrace`): its header,
/// then one line per router call, in call order. An existing trace is not overwritten.
final class RouterTraceRecorder: Sendable {
    static let fileName = "trace.jsonl"

    private let lines: LineFileWriter
    private let config: RouterConfig

    var path: String { lines.path }

    init(directory: String, header: RouterTrace.Header, config: RouterConfig, metrics: GatewayMetrics) throws {
        let path = URL(fileURLWithPath: directory).appendingPathComponent(Self.fileName).path
        guard !FileManager.default.fileExists(atPath: path) else {
            throw GatewayStartError("--record: '\(path)' already exists; record into a new directory")
        }
        lines = try LineFileWriter(path: path, maxBytes: Int.max, what: "--record") { metrics.linesLost(.trace, $0) }
        self.config = config
        lines.append(header.jsonLine())
        lines.flush()
    }

    func append(_ entry: RouterTrace.Entry) {
        lines.append(entry.jsonLine(config: config))
    }

    func flush() { lines.flush() }

    func close() { lines.close() }
}
