import RoutingCore

/// The decision log: one JSON line per router decision (`docs/decision-records.md`).
final class DecisionLogWriter: Sendable {
    private let lines: LineFileWriter

    var path: String { lines.path }

    init(path: String, maxBytes: Int, metrics: GatewayMetrics) throws {
        lines = try LineFileWriter(path: path, maxBytes: maxBytes, what: "decision_log.path") { metrics.linesLost(.decisionLog, $0) }
    }

    func append(_ record: DecisionRecord) {
        lines.append(record.jsonLine())
    }

    func flush() { lines.flush() }

    func close() { lines.close() }
}
