import Foundation
import RoutingCore
import Synchronization

/// Appends one JSON line per router decision (the format of `docs/decision-records.md`),
/// rotating the file to `PATH.1` when it would grow past `maxBytes`.
final class DecisionLogWriter: Sendable {
    private struct File {
        var handle: FileHandle
        var size: Int
    }

    let path: String
    let maxBytes: Int
    private let file: Mutex<File>

    init(path: String, maxBytes: Int) throws {
        self.path = path
        self.maxBytes = maxBytes
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent()
        try? FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        if !FileManager.default.fileExists(atPath: path) {
            guard FileManager.default.createFile(atPath: path, contents: nil) else {
                throw GatewayStartError("decision_log.path: cannot create '\(path)'")
            }
        }
        guard let handle = FileHandle(forWritingAtPath: path) else { throw GatewayStartError("decision_log.path: cannot write '\(path)'") }
        let size = Int(handle.seekToEndOfFile())
        file = Mutex(File(handle: handle, size: size))
    }

    func append(_ record: DecisionRecord) {
        guard let line = try? record.jsonLine() else { return }
        let data = Data((line + "\n").utf8)
        file.withLock { file in
            if file.size > 0 && file.size + data.count > maxBytes {
                try? file.handle.close()
                try? FileManager.default.removeItem(atPath: path + ".1")
                try? FileManager.default.moveItem(atPath: path, toPath: path + ".1")
                _ = FileManager.default.createFile(atPath: path, contents: nil)
                if let handle = FileHandle(forWritingAtPath: path) { file.handle = handle }
                file.size = 0
            }
            file.handle.write(data)
            file.size += data.count
        }
    }

    func close() {
        file.withLock { try? $0.handle.close() }
    }
}

/// A reason the gateway cannot start.
public struct GatewayStartError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
