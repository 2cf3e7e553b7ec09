import Foundation
import RoutingCore

/// Where `brownout-gateway --record DIR` put its trace and the spec it ran, found from `DIR` or
/// from `DIR/trace.jsonl`.
public struct RecordedTraceFiles: Sendable {
    /// The trace (`DIR/trace.jsonl`, or the file given).
    public let trace: String
    /// The spec the gateway kept beside it (`DIR/spec.yaml`; it may not be there).
    public let spec: String

    public init(_ path: String) {
        var isDirectory: ObjCBool = false
        let url = URL(fileURLWithPath: path)
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && isDirectory.boolValue {
            trace = url.appendingPathComponent(RouterTrace.fileName).path
            spec = url.appendingPathComponent(RouterTrace.specFileName).path
        } else {
            trace = path
            spec = url.deletingLastPathComponent().appendingPathComponent(RouterTrace.specFileName).path
        }
    }

    /// The spec to read `recordings` with: `given`, else the one the first recording's gateway
    /// kept beside its trace (each trace's routing config is checked against it when read).
    public static func spec(given: String?, for recordings: [RecordedTraceFiles]) throws(ExperimentFailure) -> String {
        if let given { return given }
        guard let first = recordings.first else { throw ExperimentFailure("give at least one trace") }
        guard FileManager.default.fileExists(atPath: first.spec) else {
            throw ExperimentFailure(
                "\(first.spec): not there (a gateway's --record keeps the spec it ran beside its trace): give --spec, the spec the gateway ran")
        }
        return first.spec
    }
}
