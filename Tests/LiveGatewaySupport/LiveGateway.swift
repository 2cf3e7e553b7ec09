import AsyncHTTPClient
import ChildProcesses
import Crypto
import Foundation
import NIOCore
import NIOHTTP1
import ProcessTestSupport
import ServerSentEvents
import Testing

/// A gateway and its mock upstreams, started as real processes on loopback for one test and
/// stopped (by their process ids) when it ends.
public final class LiveGateway: @unchecked Sendable {
    /// Where the built executables are: `BROWNOUT_RELEASE_BIN` (what `make test` builds), else
    /// beside the test bundle.
    public static let binaries = BuiltProducts.preferRelease

    /// The tests' client: many connections to the gateway at once (the default is 8 a host).
    public static let client: HTTPClient = {
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = 256
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }()

    /// A key of team `search`, and its SHA-256.
    public static let searchKey = "sk-test-search"
    public static let batchKey = "sk-test-batch"
    public static let supportKey = "sk-test-support"

    public let directory: URL
    public var mocks: [String: (process: ChildProcess, port: Int)] = [:]
    public var gateway: (process: ChildProcess, port: Int)?
    public let specPath: URL

    /// Starts one mock per name in `mocks` (extra arguments each), writes `spec` with
    /// `{PORT:name}` replaced by that mock's port, and starts the gateway on it.
    /// Variables added to the gateway's environment (a database URL).
    public let gatewayEnvironment: [String: String]

    public init(
        mocks names: [String: [String]], spec: String, gatewayArguments arguments: [String] = [], gatewayEnvironment: [String: String] = [:]
    ) async throws {
        self.gatewayEnvironment = gatewayEnvironment
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("brownout-gateway-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        specPath = directory.appendingPathComponent("spec.yaml")
        var text = spec.replacingOccurrences(of: "{DIR}", with: directory.path)
        for (name, arguments) in names.sorted(by: { $0.key < $1.key }) {
            let started = try await Self.start(
                "brownout-mock-provider", ["--port", "0", "--slow-first-token-seconds", "1.5", "--hang-seconds", "30"] + arguments)
            mocks[name] = started
            text = text.replacingOccurrences(of: "{PORT:\(name)}", with: String(started.port))
        }
        text = text.replacingOccurrences(of: "{SEARCH}", with: Self.sha256(Self.searchKey)).replacingOccurrences(
            of: "{BATCH}", with: Self.sha256(Self.batchKey)
        )
        .replacingOccurrences(of: "{SUPPORT}", with: Self.sha256(Self.supportKey))
        try text.write(to: specPath, atomically: true, encoding: .utf8)
        try await startGateway(arguments)
    }

    /// `arguments`: the gateway's own options (`--record DIR`, `--seed N`).
    public func startGateway(_ arguments: [String] = []) async throws {
        gateway = try await Self.start(
            "brownout-gateway", [specPath.path] + arguments,
            environment: gatewayEnvironment.isEmpty ? nil : ProcessInfo.processInfo.environment.merging(gatewayEnvironment) { $1 })
    }

    /// SIGTERM: the gateway finishes what is in flight, saves spend and exits — within 30 s,
    /// or the test fails (and the gateway is killed) instead of hanging the run.
    public func stopGateway() async {
        guard let gateway else { return }
        if await !gateway.process.stop(grace: .seconds(30)) {
            Issue.record("brownout-gateway did not exit within 30 s of SIGTERM")
        }
        self.gateway = nil
    }

    /// Stops the gateway (SIGTERM) and kills the mocks, which are fixtures: a hanging request
    /// must not hold up their exit. Every test that starts a `LiveGateway` calls this at its end.
    public func stop() async {
        await stopGateway()
        for (_, mock) in mocks { await mock.process.killAndReap() }
        mocks = [:]
        try? FileManager.default.removeItem(at: directory)
    }

    /// A test that threw before its `stop()` leaves its children to be killed here.
    deinit {
        if let gateway { kill(gateway.process.processIdentifier, SIGKILL) }
        for (_, mock) in mocks { kill(mock.process.processIdentifier, SIGKILL) }
        try? FileManager.default.removeItem(at: directory)
    }

    /// Starts a server and reads its port from the "listening on HOST:PORT" line it prints
    /// (after other lines, such as the gateway's router seed), within 20 s.
    public static func start(
        _ executable: String, _ arguments: [String], environment: [String: String]? = nil
    ) async throws -> (process: ChildProcess, port: Int) {
        let process = try ChildProcess(binaries.appendingPathComponent(executable), arguments, environment: environment)
        let line = try await process.line(startingWith: "listening on ", within: .seconds(20))
        guard let port = Int(line.split(separator: ":").last ?? "") else {
            await process.killAndReap()
            throw ChildProcessFailure("\(executable): no port in '\(line)'")
        }
        return (process, port)
    }

    /// Runs one of the built executables to its end.
    public static func run(_ executable: String, _ arguments: [String]) async throws -> ChildOutput {
        try await ChildProcess.run(binaries.appendingPathComponent(executable), arguments)
    }

    public static func sha256(_ key: String) -> String {
        SHA256.hash(data: Data(key.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    // MARK: Calls

    public struct Reply: Sendable {
        public let status: Int
        public let headers: HTTPHeaders
        public let body: String
        public let seconds: Double

        public func header(_ name: String) -> String? { headers.first(name: name) }
    }

    public func chat(
        model: String = "chat", stream: Bool = false, includeUsage: Bool = false, key: String? = LiveGateway.searchKey, maxTokens: Int = 64,
        content: String = "Say something."
    ) async throws -> Reply {
        var body: [String: Any] = ["model": model, "messages": [["role": "user", "content": content]], "max_tokens": maxTokens]
        if stream { body["stream"] = true }
        if includeUsage { body["stream_options"] = ["include_usage": true] }
        return try await call("/v1/chat/completions", port: gateway!.port, body: try JSONSerialization.data(withJSONObject: body), key: key)
    }

    /// One request, its whole answer read within 60 s (AsyncHTTPClient's timeout bounds the
    /// wait for the head; a stream that stalls after it would otherwise hang the test).
    public func call(_ path: String, port: Int, method: HTTPMethod = .POST, body: Data? = nil, key: String? = nil) async throws -> Reply {
        try await withThrowingTaskGroup(of: Reply?.self) { group in
            group.addTask { try await Self.exchange(path, port: port, method: method, body: body, key: key) }
            group.addTask {
                try await Task.sleep(for: .seconds(60))
                return nil
            }
            defer { group.cancelAll() }
            guard let reply = try await group.next()! else {
                throw ChildProcessFailure("\(method) \(path) on port \(port) was not answered within 60 s")
            }
            return reply
        }
    }

    /// A request to `path` on loopback `port`, with `body` and team `key`, for a test that
    /// reads (or drops) the answer itself.
    public static func request(_ path: String, port: Int, method: HTTPMethod = .POST, body: Data? = nil, key: String? = nil) -> HTTPClientRequest {
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)\(path)")
        request.method = method
        if let body { request.body = .bytes(ByteBuffer(bytes: body)) }
        if let key { request.headers.add(name: "authorization", value: "Bearer \(key)") }
        return request
    }

    /// A chat completion request to this gateway with `body`, as team search.
    public func chatRequest(_ body: String) -> HTTPClientRequest {
        Self.request("/v1/chat/completions", port: gateway!.port, body: Data(body.utf8), key: Self.searchKey)
    }

    private static func exchange(_ path: String, port: Int, method: HTTPMethod, body: Data?, key: String?) async throws -> Reply {
        let request = request(path, port: port, method: method, body: body, key: key)
        let started = Date()
        let response = try await client.execute(request, timeout: .seconds(30))
        var collected = ByteBuffer()
        do {
            for try await var part in response.body { collected.writeBuffer(&part) }
        } catch {
            // A stream the gateway ended abruptly: what arrived is the answer.
        }
        return Reply(
            status: Int(response.status.code), headers: response.headers, body: String(buffer: collected), seconds: Date().timeIntervalSince(started))
    }

    /// Schedules `fault` on mock `name` for its next `count` requests.
    public func fault(_ name: String, _ fault: String, count: Int = 1) async throws {
        _ = try await call("/mock/faults", port: mocks[name]!.port, body: Data(#"{"fault": "\#(fault)", "count": \#(count)}"#.utf8))
    }

    /// Sets the fault for all of mock `name`'s requests not scheduled otherwise.
    public func defaultFault(_ name: String, _ fault: String) async throws {
        _ = try await call("/mock/faults", port: mocks[name]!.port, body: Data(#"{"default": "\#(fault)"}"#.utf8))
    }

    public struct Stats: Decodable, Sendable {
        public let requests: Int
        public let completed: Int
        public let cancelled: Int
        public let maxConcurrent: Int
        public let connections: Int

        enum CodingKeys: String, CodingKey {
            case requests, completed, cancelled, maxConcurrent = "max_concurrent", connections
        }
    }

    public func stats(_ name: String) async throws -> Stats {
        let reply = try await call("/mock/stats", port: mocks[name]!.port, method: .GET)
        return try JSONDecoder().decode(Stats.self, from: Data(reply.body.utf8))
    }

    /// A team's spend, from `/metrics`.
    public func spend(team: String) async throws -> Double {
        let prefix = "brownout_team_spend_usd{team=\"\(team)\"} "
        let line = try await metrics().split(separator: "\n").first { $0.hasPrefix(prefix) }
        return line.flatMap { Double($0.dropFirst(prefix.count)) } ?? -1
    }

    public func metrics() async throws -> String {
        try await call("/metrics", port: gateway!.port, method: .GET).body
    }

    /// The value of the sample `name` (with its labels) in a `/metrics` text, or -1 without one.
    public static func metric(_ name: String, in text: String) -> Double {
        text.split(separator: "\n").first { $0.hasPrefix(name + " ") }.flatMap { Double($0.split(separator: " ").last!) } ?? -1
    }

    /// Waits (at most `limit`) for `condition`; returns how long it took, or nil.
    public static func waitFor(_ limit: Duration, _ condition: () async throws -> Bool) async throws -> Duration? {
        let start = ContinuousClock.now
        while ContinuousClock.now - start < limit {
            if try await condition() { return ContinuousClock.now - start }
            try await Task.sleep(for: .milliseconds(5))
        }
        return nil
    }

    /// The decision log's lines so far (the gateway writes them a moment after each decision:
    /// waits up to 3 s for one that satisfies `until`).
    public func decisions(until: ([Substring]) -> Bool = { _ in true }) async throws -> [Substring] {
        var lines: [Substring] = []
        for _ in 0..<30 {
            let text = (try? String(contentsOf: directory.appendingPathComponent("decisions.jsonl"), encoding: .utf8)) ?? ""
            lines = text.split(separator: "\n")
            if until(lines) { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        return lines
    }
}

extension String {
    /// The SSE `data:` payloads of a stream, in order.
    public var sseData: [String] {
        ServerSentEventParser.events(in: self).compactMap(\.text)
    }
}

extension LiveGateway {
    /// Runs `body` with this gateway, then stops it (and its mocks), whether `body` threw or not.
    public func use<T>(_ body: (LiveGateway) async throws -> T) async throws -> T {
        do {
            let result = try await body(self)
            await stop()
            return result
        } catch {
            await stop()
            throw error
        }
    }
}
