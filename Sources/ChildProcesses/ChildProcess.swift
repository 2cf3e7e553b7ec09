import Dispatch
import Foundation
import Synchronization

/// A process started by the twin (its upstreams, the gateway) or by a test (a built executable,
/// the shell). Its output goes to files, never to pipes, and every wait is an asynchronous
/// poll with a deadline, so that
///
/// - no wait blocks a thread of the concurrency pool (two on a 2-core machine) in a read or
///   in `waitUntilExit`, where two such waits can stall every other task;
/// - no read waits on a pipe's end of file, which a process started at the same moment by
///   another task may have inherited and hold open for as long as it lives;
/// - a child that hangs is killed after its time limit instead of hanging its parent.
///
/// Only processes started here are ever signalled, by their own process id. (Unchecked
/// Sendable: `Process` is not marked, and its state is only read after `run()`.)
public final class ChildProcess: @unchecked Sendable {
    public let executable: URL
    public let arguments: [String]
    /// Where the child's standard output and standard error go (one file when merged).
    public let outputFile: URL
    public let errorFile: URL
    private let process: Process
    /// The folder of the output files when this made them (removed with the child).
    private let directory: URL?

    /// The children running now, so that a SIGINT or SIGTERM to the parent stops them too
    /// (``stopChildrenOnSignal()``: a terminal's Ctrl-C reaches them anyway, a `kill` of the
    /// parent alone would not).
    private static let running = Mutex<[Int32: ChildProcess]>([:])
    private static let signalSources = Mutex<[any DispatchSourceSignal]>([])

    public var processIdentifier: Int32 { process.processIdentifier }
    public var isRunning: Bool { process.isRunning }

    /// Starts `executable` with `arguments`; `mergingErrors` sends standard error to the
    /// output file (as `2>&1` would). `log`: the file both go to (a server's log, kept), else
    /// files in a temporary folder removed with the child.
    public init(
        _ executable: URL, _ arguments: [String], environment: [String: String]? = nil,
        currentDirectory: URL? = nil, mergingErrors: Bool = false, log: URL? = nil
    ) throws {
        self.executable = executable
        self.arguments = arguments
        guard FileManager.default.isExecutableFile(atPath: executable.path) else {
            throw ChildProcessFailure(
                "\(executable.path) is not there (or not executable): build the package first (swift build -c release, or make build)")
        }
        if let log {
            directory = nil
            outputFile = log
            errorFile = log
        } else {
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("brownout-child-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            self.directory = directory
            outputFile = directory.appendingPathComponent("stdout")
            errorFile = mergingErrors ? outputFile : directory.appendingPathComponent("stderr")
        }
        let mergingErrors = mergingErrors || log != nil
        _ = FileManager.default.createFile(atPath: outputFile.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errorFile.path, contents: nil)
        let output = try FileHandle(forWritingTo: outputFile)
        let errors = mergingErrors ? output : try FileHandle(forWritingTo: errorFile)
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        if let environment { process.environment = environment }
        if let currentDirectory { process.currentDirectoryURL = currentDirectory }
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = output
        process.standardError = errors
        self.process = process
        defer {
            try? output.close()
            if !mergingErrors { try? errors.close() }
        }
        do {
            try process.run()
        } catch {
            if let directory { try? FileManager.default.removeItem(at: directory) }
            throw ChildProcessFailure("could not start \(executable.path): \(error)")
        }
        Self.running.withLock { $0[process.processIdentifier] = self }
    }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        if let directory { try? FileManager.default.removeItem(at: directory) }
    }

    /// Installs the handlers once: on SIGINT or SIGTERM, SIGTERM to every child still
    /// running, then exit with 128 + the signal's number.
    public static func stopChildrenOnSignal() {
        signalSources.withLock { sources in
            guard sources.isEmpty else { return }
            for signalNumber in [SIGINT, SIGTERM] {
                signal(signalNumber, SIG_IGN)
                let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
                source.setEventHandler {
                    for child in running.withLock({ Array($0.values) }) where child.isRunning { kill(child.processIdentifier, SIGTERM) }
                    Foundation.exit(128 + signalNumber)
                }
                source.resume()
                sources.append(source)
            }
        }
    }

    /// What the child has written to standard output (and standard error, when merged) so far.
    public var output: String { (try? String(contentsOf: outputFile, encoding: .utf8)) ?? "" }
    public var errors: String { (try? String(contentsOf: errorFile, encoding: .utf8)) ?? "" }

    /// Waits until the child exits and returns its status; a child still running after
    /// `limit` is killed and the wait throws.
    @discardableResult
    public func exit(within limit: Duration) async throws -> Int32 {
        let deadline = ContinuousClock.now + limit
        while process.isRunning {
            guard ContinuousClock.now < deadline, !Task.isCancelled else {
                await killAndReap()
                throw ChildProcessFailure("\(description) did not exit within \(limit) (or its test was cancelled); killed")
            }
            try? await Task.sleep(for: .milliseconds(10))
        }
        await settle()
        return process.terminationStatus
    }

    /// SIGTERM, without waiting.
    public func terminate() { process.terminate() }

    /// SIGTERM, then SIGKILL if the child has not exited after `grace`. Returns whether it
    /// exited by itself within the grace.
    @discardableResult
    public func stop(grace: Duration) async -> Bool {
        guard process.isRunning else { return true }
        process.terminate()
        let deadline = ContinuousClock.now + grace
        while process.isRunning && ContinuousClock.now < deadline && !Task.isCancelled { try? await Task.sleep(for: .milliseconds(10)) }
        let exited = !process.isRunning
        if !exited { kill(process.processIdentifier, SIGKILL) }
        await settle()
        return exited
    }

    /// SIGKILL, for fixtures whose state does not matter; returns once the child is gone.
    public func killAndReap() async {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        await settle()
    }

    /// After a SIGKILL, `isRunning` turns false once the exit is reaped: wait for that
    /// (a killed process is reaped within milliseconds; the wait is bounded all the same).
    private func settle() async {
        let deadline = ContinuousClock.now + .seconds(10)
        while process.isRunning && ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(5)) }
        if !process.isRunning { _ = Self.running.withLock { $0.removeValue(forKey: process.processIdentifier) } }
    }

    /// The port of the server's `listening on HOST:PORT` line (what every server of this
    /// package prints once it accepts connections), within `limit`.
    public func listeningPort(within limit: Duration) async throws -> Int {
        let line = try await line(startingWith: "listening on ", within: limit)
        guard let colon = line.lastIndex(of: ":"), let port = Int(line[line.index(after: colon)...]) else {
            throw ChildProcessFailure("\(description) printed '\(line)', which names no port")
        }
        return port
    }

    /// The first line of the output that starts with `prefix`, once written in full (at most
    /// `limit`); throws when the child exits or the limit passes first.
    public func line(startingWith prefix: String, within limit: Duration) async throws -> Substring {
        let deadline = ContinuousClock.now + limit
        while true {
            let text = output
            if let line = text.split(separator: "\n", omittingEmptySubsequences: false).dropLast().first(where: { $0.hasPrefix(prefix) }) {
                return line
            }
            guard process.isRunning else {
                throw ChildProcessFailure(
                    "\(description) exited (status \(process.terminationStatus)) before printing '\(prefix)…': '\(text)\(errors == text ? "" : errors)'"
                )
            }
            guard ContinuousClock.now < deadline, !Task.isCancelled else {
                await killAndReap()
                throw ChildProcessFailure("\(description) did not print '\(prefix)…' within \(limit): '\(text)'")
            }
            try? await Task.sleep(for: .milliseconds(10))
        }
    }

    public var description: String { ([executable.lastPathComponent] + arguments).joined(separator: " ") }
}

/// What a child printed and how it ended.
public struct ChildOutput: Sendable {
    public let status: Int32
    public let stdout: String
    public let stderr: String
}

extension ChildProcess {
    /// Runs `executable` to its end (at most `limit`, 10 minutes unless told) and returns
    /// what it printed.
    public static func run(
        _ executable: URL, _ arguments: [String], environment: [String: String]? = nil,
        currentDirectory: URL? = nil, mergingErrors: Bool = false,
        within limit: Duration = .seconds(600)
    ) async throws -> ChildOutput {
        let child = try ChildProcess(
            executable, arguments, environment: environment, currentDirectory: currentDirectory, mergingErrors: mergingErrors)
        let status = try await child.exit(within: limit)
        return ChildOutput(status: status, stdout: child.output, stderr: mergingErrors ? "" : child.errors)
    }
}

public struct ChildProcessFailure: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
