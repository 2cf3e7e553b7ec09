import Foundation
import NIOPosix
import Synchronization

/// Appends JSON lines (a decision log, a router trace) to a file, rotating it to `PATH.1`
/// when it would grow past `maxBytes`. Callers append under the router's lock, so an append
/// only copies its line: the file is written by `flush()` on NIO's blocking thread pool — every
/// second (the periodic flush), as soon as the gathered lines reach `chunkBytes`, and on
/// `close()`. A slow disk therefore never holds up a routing decision: lines gather in memory
/// meanwhile, up to `maxPendingBytes`, past which new lines are dropped and counted. A write
/// that fails (a full disk, a file removed from under it) is never fatal: its lines are lost
/// and counted, a warning names the error once per kind, and the next flush tries again.
final class LineFileWriter: Sendable {
    private struct File {
        var handle: FileHandle
        var size: Int
    }

    private struct Pending {
        var bytes: [UInt8] = []
        /// A flush is scheduled on the thread pool and has not taken the lines yet.
        var flushScheduled = false
    }

    let path: String
    let maxBytes: Int
    let chunkBytes: Int
    let maxPendingBytes: Int
    /// The log's name in `brownout_log_lines_lost_total{log}` and in the warning.
    let what: String
    private let pending = Mutex(Pending())
    private let file: Mutex<File>
    private let lost: @Sendable (_ lines: Int) -> Void
    private let warned = Mutex<Set<String>>([])

    /// `lost`: told how many lines were dropped or failed to be written.
    init(
        path: String, maxBytes: Int, chunkBytes: Int = 64 << 10, maxPendingBytes: Int = 64 << 20, what: String,
        lost: @escaping @Sendable (_ lines: Int) -> Void = { _ in }
    ) throws {
        self.path = path
        self.maxBytes = maxBytes
        self.chunkBytes = chunkBytes
        self.maxPendingBytes = maxPendingBytes
        self.what = what
        self.lost = lost
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

    /// Adds one line (without its newline). Never writes the file on the caller's thread.
    func append(_ line: String) {
        let (accepted, scheduleFlush) = pending.withLock { pending -> (Bool, Bool) in
            guard pending.bytes.count + line.utf8.count + 1 <= maxPendingBytes else { return (false, false) }
            pending.bytes.append(contentsOf: line.utf8)
            pending.bytes.append(UInt8(ascii: "\n"))
            guard pending.bytes.count >= chunkBytes, !pending.flushScheduled else { return (true, false) }
            pending.flushScheduled = true
            return (true, true)
        }
        if !accepted { lost(1) }
        if scheduleFlush { NIOThreadPool.singleton.submit { [self] _ in flush() } }
    }

    /// Writes what has been appended so far (blocking: call it off the event loops).
    func flush() {
        file.withLock { file in
            let chunk = pending.withLock { pending in
                pending.flushScheduled = false
                defer { pending.bytes.removeAll(keepingCapacity: true) }
                return pending.bytes
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
                do {
                    try file.handle.write(contentsOf: chunk[start..<fitting])
                    file.size += fitting - start
                } catch {
                    lost(chunk[start..<fitting].count { $0 == UInt8(ascii: "\n") })
                    warnOnce("\(what): cannot write '\(path)' (\(error.localizedDescription)); its lines are lost until a write succeeds")
                }
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
        if let handle = FileHandle(forWritingAtPath: path) {
            file.handle = handle
        } else {
            warnOnce("\(what): cannot reopen '\(path)' after rotating it; its lines are lost until a write succeeds")
        }
        file.size = 0
    }

    private func warnOnce(_ message: String) {
        guard warned.withLock({ $0.insert(message).inserted }) else { return }
        FileHandle.standardError.write(Data("warning: \(message)\n".utf8))
    }
}
