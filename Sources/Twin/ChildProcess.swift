import Dispatch
import Foundation
import Synchronization

/// A server the twin starts (a mock provider, the gateway): its output goes to a log file,
/// from which the port it listens on is read; it is stopped with SIGTERM (SIGKILL if it
/// has not exited 10 s later). Only processes started here are ever signalled.
final class ChildProcess: @unchecked Sendable {
    let name: String
    let log: URL
    private let process = Process()

    /// The children running now, so that a SIGINT or SIGTERM to the twin stops them too
    /// (a terminal's Ctrl-C reaches them anyway; a `kill` of the twin alone would not).
    private static let running = Mutex<[Int32: ChildProcess]>([:])
    private static let signalSources = Mutex<[any DispatchSourceSignal]>([])

    /// Installs the handlers once: on SIGINT or SIGTERM, SIGTERM to every child, then exit.
    static func stopChildrenOnSignal() {
        signalSources.withLock { sources in
            guard sources.isEmpty else { return }
            for signalNumber in [SIGINT, SIGTERM] {
                signal(signalNumber, SIG_IGN)
                let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
                source.setEventHandler {
                    for child in running.withLock({ Array($0.values) }) { kill(child.process.processIdentifier, SIGTERM) }
                    exit(128 + signalNumber)
                }
                source.resume()
                sources.append(source)
            }
        }
    }

    init(name: String, executable: URL, arguments: [String], log: URL) throws {
        self.name = name
        self.log = log
        guard FileManager.default.isExecutableFile(atPath: executable.path) else {
            throw TwinError("\(executable.path) is not there: build the package first (swift build -c release, or make build)")
        }
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        let output = try FileHandle(forWritingTo: log)
        process.executableURL = executable
        process.arguments = arguments
        process.standardOutput = output
        process.standardError = output
        process.standardInput = FileHandle.nullDevice
        try process.run()
        Self.running.withLock { $0[process.processIdentifier] = self }
    }

    var isRunning: Bool { process.isRunning }

    /// The port of the "listening on HOST:PORT" line, once it is written (at most `seconds`).
    func port(within seconds: Double) async throws -> Int {
        let deadline = ContinuousClock.now + .milliseconds(Int64(seconds * 1_000))
        while ContinuousClock.now < deadline {
            let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
            if let line = text.split(separator: "\n").first(where: { $0.hasPrefix("listening on ") }),
               let colon = line.lastIndex(of: ":"), let port = Int(line[line.index(after: colon)...]) {
                return port
            }
            guard process.isRunning else {
                throw TwinError("\(name) exited (status \(process.terminationStatus)) before it listened:\n\(text.trimmingCharacters(in: .whitespacesAndNewlines))")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw TwinError("\(name) did not start listening within \(Int(seconds)) s; its output is in \(log.path)")
    }

    /// SIGTERM, then SIGKILL after 10 s; returns once it has exited.
    func stop() async {
        guard process.isRunning else { return }
        process.terminate()
        for _ in 0..<500 where process.isRunning {
            try? await Task.sleep(for: .milliseconds(20))
        }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        _ = Self.running.withLock { $0.removeValue(forKey: process.processIdentifier) }
    }
}
