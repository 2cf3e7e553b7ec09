import Foundation
import RoutingCore

/// `--record DIR`: writes `DIR/trace.jsonl`, the router trace (`RouterTrace`): its header,
/// then one line per router call, in call order, and `DIR/spec.yaml`, the spec the gateway ran
/// (its overrides applied). An existing trace is not overwritten.
final class RouterTraceRecorder: Sendable {

    private let lines: LineFileWriter
    private let config: RouterConfig

    var path: String { lines.path }

    /// `specYAML`: the spec the gateway ran, written to `spec.yaml`.
    init(directory: String, header: RouterTrace.Header, config: RouterConfig, specYAML: String, metrics: GatewayMetrics) throws {
        let path = URL(fileURLWithPath: directory).appendingPathComponent(RouterTrace.fileName).path
        let specPath = URL(fileURLWithPath: directory).appendingPathComponent(RouterTrace.specFileName)
        for existing in [path, specPath.path] where FileManager.default.fileExists(atPath: existing) {
            throw GatewayStartError("--record: '\(existing)' already exists; record into a new directory")
        }
        lines = try LineFileWriter(path: path, maxBytes: Int.max, what: "--record") { metrics.linesLost(.trace, $0) }
        do {
            try Data(specYAML.utf8).write(to: specPath, options: .atomic)
        } catch {
            lines.close()
            throw GatewayStartError("--record: cannot write '\(specPath.path)': \(error.localizedDescription)")
        }
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
