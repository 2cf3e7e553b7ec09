import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import Testing

/// A gateway and its mock upstreams, started as real processes on loopback for one test and
/// stopped (by their process ids) when it ends.
final class LiveGateway: @unchecked Sendable {
    /// Where the built executables are: `BROWNOUT_RELEASE_BIN` (what `make test` builds), else
    /// beside the test bundle.
    static let binaries: URL = {
        if let release = ProcessInfo.processInfo.environment["BROWNOUT_RELEASE_BIN"] { return URL(fileURLWithPath: release) }
        return URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    }()

    /// The tests' client: many connections to the gateway at once (the default is 8 a host).
    static let client: HTTPClient = {
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = 256
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }()

    /// A key of team `search`, and its SHA-256.
    static let searchKey = "sk-test-search"
    static let batchKey = "sk-test-batch"
    static let supportKey = "sk-test-support"

    let directory: URL
    var mocks: [String: (process: Process, port: Int)] = [:]
    var gateway: (process: Process, port: Int)?
    let specPath: URL

    /// Starts one mock per name in `mocks` (extra arguments each), writes `spec` with
    /// `{PORT:name}` replaced by that mock's port, and starts the gateway on it.
    init(mocks names: [String: [String]], spec: String, gatewayArguments arguments: [String] = []) async throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("brownout-gateway-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        specPath = directory.appendingPathComponent("spec.yaml")
        var text = spec.replacingOccurrences(of: "{DIR}", with: directory.path)
        for (name, arguments) in names.sorted(by: { $0.key < $1.key }) {
            let started = try Self.start("brownout-mock-provider", ["--port", "0", "--slow-first-token-seconds", "1.5", "--hang-seconds", "30"] + arguments)
            mocks[name] = started
            text = text.replacingOccurrences(of: "{PORT:\(name)}", with: String(started.port))
        }
        text = text.replacingOccurrences(of: "{SEARCH}", with: Self.sha256(Self.searchKey)).replacingOccurrences(of: "{BATCH}", with: Self.sha256(Self.batchKey))
            .replacingOccurrences(of: "{SUPPORT}", with: Self.sha256(Self.supportKey))
        try text.write(to: specPath, atomically: true, encoding: .utf8)
        try startGateway(arguments)
    }

    /// `arguments`: the gateway's own options (`--record DIR`, `--seed N`).
    func startGateway(_ arguments: [String] = []) throws {
        gateway = try Self.start("brownout-gateway", [specPath.path] + arguments)
    }

    /// SIGTERM: the gateway finishes what is in flight, saves spend and exits — within 30 s,
    /// or the test fails (and the gateway is killed) instead of hanging the run.
    func stopGateway() {
        guard let gateway else { return }
        gateway.process.terminate()
        let deadline = Date().addingTimeInterval(30)
        while gateway.process.isRunning && Date() < deadline { usleep(20_000) }
        if gateway.process.isRunning {
            Issue.record("brownout-gateway did not exit within 30 s of SIGTERM")
            kill(gateway.process.processIdentifier, SIGKILL)
        }
        gateway.process.waitUntilExit()
        self.gateway = nil
    }

    func stop() {
        stopGateway()
        for (_, mock) in mocks {
            // The mocks are fixtures: a hanging request must not hold up their exit.
            kill(mock.process.processIdentifier, SIGKILL)
            mock.process.waitUntilExit()
        }
        mocks = [:]
        try? FileManager.default.removeItem(at: directory)
    }

    deinit { stop() }

    static func start(_ executable: String, _ arguments: [String]) throws -> (process: Process, port: Int) {
        let process = Process()
        process.executableURL = binaries.appendingPathComponent(executable)
        process.arguments = arguments
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.standardError
        try process.run()
        // It is ready when it prints "listening on HOST:PORT" (after other lines, such as the
        // gateway's router seed); give up after 20 s.
        var output = Data()
        let deadline = Date().addingTimeInterval(20)
        func listening() -> Substring? {
            String(decoding: output, as: UTF8.self).split(separator: "\n").first { $0.hasPrefix("listening on ") && output.last == UInt8(ascii: "\n") }
        }
        while listening() == nil && Date() < deadline && process.isRunning {
            output.append(out.fileHandleForReading.availableData)
        }
        let text = String(decoding: output, as: UTF8.self)
        guard let line = listening(), let port = Int(line.split(separator: ":").last ?? "") else {
            process.terminate()
            throw StartFailure(description: "\(executable) \(arguments.joined(separator: " ")) did not start: '\(text)'")
        }
        return (process, port)
    }

    struct StartFailure: Error, CustomStringConvertible { let description: String }

    /// Runs one of the built executables to its end (it prints little: stdout is read to its
    /// end before stderr).
    static func run(_ executable: String, _ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
        let process = Process()
        process.executableURL = binaries.appendingPathComponent(executable)
        process.arguments = arguments
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: stdout, as: UTF8.self), String(decoding: stderr, as: UTF8.self))
    }

    static func sha256(_ key: String) -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", "printf %s '\(key)' | sha256sum | cut -d' ' -f1"]
        let out = Pipe()
        process.standardOutput = out
        try? process.run()
        process.waitUntilExit()
        return String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    // MARK: Calls

    struct Reply {
        let status: Int
        let headers: HTTPHeaders
        let body: String
        let seconds: Double

        func header(_ name: String) -> String? { headers.first(name: name) }
    }

    func chat(model: String = "chat", stream: Bool = false, includeUsage: Bool = false, key: String? = LiveGateway.searchKey, maxTokens: Int = 64) async throws -> Reply {
        var body: [String: Any] = ["model": model, "messages": [["role": "user", "content": "Say something."]], "max_tokens": maxTokens]
        if stream { body["stream"] = true }
        if includeUsage { body["stream_options"] = ["include_usage": true] }
        return try await call("/v1/chat/completions", port: gateway!.port, body: try JSONSerialization.data(withJSONObject: body), key: key)
    }

    func call(_ path: String, port: Int, method: HTTPMethod = .POST, body: Data? = nil, key: String? = nil) async throws -> Reply {
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)\(path)")
        request.method = method
        if let body { request.body = .bytes(ByteBuffer(bytes: body)) }
        if let key { request.headers.add(name: "authorization", value: "Bearer \(key)") }
        let started = Date()
        let response = try await Self.client.execute(request, timeout: .seconds(30))
        var collected = ByteBuffer()
        do {
            for try await var part in response.body { collected.writeBuffer(&part) }
        } catch {
            // A stream the gateway ended abruptly: what arrived is the answer.
        }
        return Reply(status: Int(response.status.code), headers: response.headers, body: String(buffer: collected), seconds: Date().timeIntervalSince(started))
    }

    /// Schedules `fault` on mock `name` for its next `count` requests.
    func fault(_ name: String, _ fault: String, count: Int = 1) async throws {
        _ = try await call("/mock/faults", port: mocks[name]!.port, body: Data(#"{"fault": "\#(fault)", "count": \#(count)}"#.utf8))
    }

    /// Sets the fault for all of mock `name`'s requests not scheduled otherwise.
    func defaultFault(_ name: String, _ fault: String) async throws {
        _ = try await call("/mock/faults", port: mocks[name]!.port, body: Data(#"{"default": "\#(fault)"}"#.utf8))
    }

    struct Stats: Decodable {
        let requests: Int
        let completed: Int
        let cancelled: Int
        let maxConcurrent: Int
        let connections: Int

        enum CodingKeys: String, CodingKey {
            case requests, completed, cancelled, maxConcurrent = "max_concurrent", connections
        }
    }

    func stats(_ name: String) async throws -> Stats {
        let reply = try await call("/mock/stats", port: mocks[name]!.port, method: .GET)
        return try JSONDecoder().decode(Stats.self, from: Data(reply.body.utf8))
    }

    /// A team's spend, from `/metrics`.
    func spend(team: String) async throws -> Double {
        let prefix = "brownout_team_spend_usd{team=\"\(team)\"} "
        let line = try await metrics().split(separator: "\n").first { $0.hasPrefix(prefix) }
        return line.flatMap { Double($0.dropFirst(prefix.count)) } ?? -1
    }

    func metrics() async throws -> String {
        try await call("/metrics", port: gateway!.port, method: .GET).body
    }
}

extension String {
    /// The SSE `data:` payloads of a stream, in order.
    var sseData: [String] {
        components(separatedBy: "\n\n").compactMap { frame in
            frame.hasPrefix("data: ") ? String(frame.dropFirst(6)) : nil
        }
    }
}
