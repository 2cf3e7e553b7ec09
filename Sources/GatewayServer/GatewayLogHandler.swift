import Foundation
import Logging

/// The gateway's log lines, on standard error: `TIME LEVEL LABEL: MESSAGE key=value…`.
///
/// Hummingbird gives every request a logger of its own carrying the request's id, so setting
/// metadata happens once per request while a line is written only for a warning. swift-log's
/// `StreamLogHandler` formats all metadata each time a key is set; this handler keeps the
/// values as they are and formats them only when it writes a line.
struct GatewayLogHandler: LogHandler {
    let label: String
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]
    var metadataProvider: Logger.MetadataProvider?

    init(label: String) {
        self.label = label
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var all = metadata
        if let provided = metadataProvider?.get() { all.merge(provided) { _, new in new } }
        if let explicit = event.metadata { all.merge(explicit) { _, new in new } }
        var text = "\(Date().ISO8601Format()) \(event.level) \(label): \(event.message)"
        if let error = event.error { text += " error=\(error)" }
        // Sorted, so the same event always reads the same.
        for (key, value) in all.sorted(by: { $0.key < $1.key }) { text += " \(key)=\(value)" }
        FileHandle.standardError.write(Data((text + "\n").utf8))
    }
}
