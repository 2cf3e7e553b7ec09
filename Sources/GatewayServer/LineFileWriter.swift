import Foundation
import Synchronization

/// Appends JSON lines (a decision log, a router trace) to a file, rotating it to `PATH.1`
/// when it would grow past `maxBytes`. Lines are gathered in memory and written in chunks:
/// by the periodic `flush()` (every second, on the blocking thread pool) and on `close()`,
/// so a request on the event loop usually only copies its line. When the gathered lines
/// reach `chunkBytes` between two flushes, the request whose line filled them writes them
/// itself, on its own thread, waiting for the file's lock (and any rotation) meanwhile.
final class LineFileWriter: Sendable {
    private struct File {
        var handle: FileHandle
        var size: Int
    }

    let path: String
    let maxBytes: Int
    let chunkBytes: Int
    private let pending = Mutex<[UInt8]>([])
    private let file: Mutex<File>

    init(path: String, maxBytes: Int, chunkBytes: Int = 64 << 10, what: String) throws {
        self.path = path
        self.maxBytes = maxBytes
        self.chunkBytes = chunkBytes
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent()
        try? FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        if !FileManager.default.fileExists(atPath: path) {
            guard FileManager.default.createFile(atPath: path, contents: nil) else {
                throw GatewayStartError("\(what): cannot create '\(path)'")
            }
        }
        guard let handle = FileHandle(forWritingAtPath: path) else { throw GatewayStartError("\(what): cannot write '\(path)'") }
        let size = Int(handle.seekToEndOfFile())
        file = Mutex(File(handle: handle, size: size))
    }

    /// Adds one line (without its newline).
    func append(_ line: String) {
        let full = pending.withLock { pending in
            pending.append(contentsOf: line.utf8)
            pending.append(UInt8(ascii: "\n"))
            return pending.count >= chunkBytes
        }
        if full { flush() }
    }

    /// Writes what has been appended so far.
    func flush() {
        file.withLock { file in
            let chunk = pending.withLock { pending in
                defer { pending.removeAll(keepingCapacity: true) }
                return pending
            }
            var start = 0
            while start < chunk.count {
                // As many whole lines as fit under the bound (at least one, into an empty file).
                var end = start
                var fitting = start
                while end < chunk.count {
                    guard let newline = chunk[end...].firstIndex(of: UInt8(ascii: "\n")) else { end = chunk.count; break }
                    end = newline + 1
                    if file.size + (end - start) > maxBytes { break }
                    fitting = end
                }
                if fitting == start {
                    if file.size > 0 {
                        rotate(&file)
                        continue
                    }
                    fitting = end
                }
                file.handle.write(Data(chunk[start..<fitting]))
                file.size += fitting - start
                start = fitting
            }
        }
    }

    func close() {
        flush()
        file.withLock { try? $0.handle.close() }
    }

    private func rotate(_ file: inout File) {
        try? file.handle.close()
        try? FileManager.default.removeItem(atPath: path + ".1")
        try? FileManager.default.moveItem(atPath: path, toPath: path + ".1")
        _ = FileManager.default.createFile(atPath: path, contents: nil)
        if let handle = FileHandle(forWritingAtPath: path) { file.handle = handle }
        file.size = 0
    }
}
