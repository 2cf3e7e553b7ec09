import ChildProcesses
import Foundation
import NIOHTTP1
import LiveGatewaySupport
import ProcessTestSupport
import Testing

/// The gateway starts only on a spec `brownout validate` accepts, with the same located
/// messages, and stops gracefully.
@Suite("brownout-gateway: configuration and shutdown", .serialized, .timeLimit(.minutes(5)))
struct GatewayStartTests {
    /// The fault tests' spec written to a fresh directory with every placeholder filled: the
    /// upstreams on port 9 (nothing listens there), stand-in key hashes, the directory for
    /// {DIR}; `edit` changes the text first (it gets the directory). The caller removes it.
    static func writeSpec(_ edit: (String, URL) -> String = { text, _ in text }) throws -> (directory: URL, spec: URL) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("brownout-gateway-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let spec = directory.appendingPathComponent("spec.yaml")
        try edit(GatewayFaultTests.spec, directory)
            .replacingOccurrences(of: "{PORT:alpha}", with: "9").replacingOccurrences(of: "{PORT:beta}", with: "9").replacingOccurrences(
                of: "{PORT:local}", with: "9"
            )
            .replacingOccurrences(of: "{SEARCH}", with: String(repeating: "a", count: 64)).replacingOccurrences(
                of: "{BATCH}", with: String(repeating: "b", count: 64)
            )
            .replacingOccurrences(of: "{DIR}", with: directory.path)
            .write(to: spec, atomically: true, encoding: .utf8)
        return (directory, spec)
    }
    @Test(
        "a deployment without an upstream for every target: brownout validate and the gateway give the same located error, and the gateway does not start"
    )
    func refusesBadDeployment() async throws {
        let (directory, spec) = try Self.writeSpec { text, _ in
            text.replacingOccurrences(of: "    beta: {base_url: \"http://127.0.0.1:{PORT:beta}/v1\", model: beta-1}\n", with: "")
        }
        defer { try? FileManager.default.removeItem(at: directory) }
        let expected = "\(spec.path):31:5: deployment.upstreams: no upstream for 'beta'; every provider and pool needs one"
        let validate = try await LiveGateway.run("brownout", ["validate", spec.path])
        #expect(validate.status != 0 && validate.stderr.contains(expected), "\(validate.stderr)")
        let gateway = try await LiveGateway.run("brownout-gateway", [spec.path])
        #expect(gateway.status != 0 && gateway.stderr.contains(expected), "\(gateway.stderr)")
        let typo = try await LiveGateway.run("brownout-gateway", [spec.path, "--set", "routes.chat.retry.max_atempts=2"])
        #expect(typo.stderr.contains("routes.chat.retry.max_atempts: unknown key 'max_atempts'; did you mean 'max_attempts'?"), "\(typo.stderr)")
        let noHost = try await LiveGateway.run("brownout-gateway", [spec.path, "--set", "deployment.upstreams.alpha.base_url=http:///v1"])
        #expect(
            noHost.status != 0 && noHost.stderr.contains("deployment.upstreams.alpha.base_url: is not a URL with a host, got 'http:///v1'"),
            "\(noHost.stderr)")
        let noDeployment = try await LiveGateway.run("brownout-gateway", ["experiments/retry-storm.yaml"])
        #expect(noDeployment.status != 0 && noDeployment.stderr.contains("deployment: missing"), "\(noDeployment.stderr)")
    }

    @Test(
        "a port in use and an API key variable that is not set: each a non-zero exit with one clear line, never a silent exit 0 or keyless requests")
    func refusesToStartBroken() async throws {
        let (directory, spec) = try Self.writeSpec()
        defer { try? FileManager.default.removeItem(at: directory) }
        // A port this process holds open.
        let held = try HeldPort()
        defer { held.close() }
        let port = held.port
        let taken = try await LiveGateway.run("brownout-gateway", [spec.path, "--set", "deployment.listen=127.0.0.1:\(port)"])
        #expect(taken.status != 0, "\(taken.stderr)")
        #expect(taken.stderr == "Error: deployment.listen: cannot listen on 127.0.0.1:\(port): Address already in use\n", "\(taken.stderr)")
        let variable = "BROWNOUT_TEST_KEY_\(UInt32.random(in: 0...UInt32.max))"
        let keyless = try await LiveGateway.run("brownout-gateway", [spec.path, "--set", "deployment.upstreams.alpha.api_key_env=\(variable)"])
        #expect(keyless.status != 0)
        #expect(
            keyless.stderr.contains("deployment.upstreams.alpha.api_key_env: the environment variable '\(variable)' is not set"), "\(keyless.stderr)")
        // Located where the value came from: here the --set that wrote it.
        #expect(keyless.stderr.hasPrefix("Error: --set deployment.upstreams.alpha.api_key_env=\(variable): "), "located: \(keyless.stderr)")
    }

    @Test("a decision log that cannot be written: the gateway refuses to start and leaves no new file behind")
    func refusesUnwritableLog() async throws {
        // A log "inside" a regular file: its directory cannot be created.
        let (directory, spec) = try Self.writeSpec { text, directory in
            text.replacingOccurrences(of: "{DIR}/decisions.jsonl", with: directory.path + "/not-a-directory/decisions.jsonl")
        }
        defer { try? FileManager.default.removeItem(at: directory) }
        try Data().write(to: directory.appendingPathComponent("not-a-directory"))
        let gateway = try await LiveGateway.run("brownout-gateway", [spec.path])
        #expect(gateway.status != 0 && gateway.stderr.contains("decision_log.path: cannot create"), "\(gateway.stderr)")
        let left = try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
        #expect(left == ["not-a-directory", "spec.yaml"], "the spend database it opened first is removed again")
    }

    @Test("--record into the spec's own folder: refused, the spec untouched (the gateway would keep its spec.yaml there)")
    func refusesToRecordOverASpec() async throws {
        let (directory, spec) = try Self.writeSpec()
        defer { try? FileManager.default.removeItem(at: directory) }
        let before = try Data(contentsOf: spec)
        let gateway = try await LiveGateway.run("brownout-gateway", [spec.path, "--record", directory.path])
        #expect(
            gateway.status != 0 && gateway.stderr.contains("--record: '\(spec.path)' already exists; record into a new directory"),
            "\(gateway.stderr)")
        #expect(try Data(contentsOf: spec) == before)
        #expect(!FileManager.default.fileExists(atPath: directory.appendingPathComponent("trace.jsonl").path))
    }

    @Test("SIGTERM: the gateway stops accepting, lets the stream in flight finish with [DONE], then exits")
    func gracefulShutdown() async throws {
        let gateway = try await LiveGateway(mocks: ["alpha": ["--tokens-per-second", "20"], "beta": [], "local": []], spec: GatewayFaultTests.spec)
        try await gateway.use { gateway in
            let process = gateway.gateway!.process
            async let reply = gateway.chat(stream: true)
            // SIGTERM once the answer is under way (the upstream has the request), not before.
            for _ in 0..<100 where try await gateway.stats("alpha").requests == 0 { try await Task.sleep(for: .milliseconds(20)) }
            try await Task.sleep(for: .milliseconds(100))
            #expect(try await gateway.call("/readyz", port: gateway.gateway!.port, method: .GET).status == 200)
            process.terminate()
            // Draining: /readyz is never 200 again (503 on a connection still open, or no
            // connection at all once the listener has closed).
            try await Task.sleep(for: .milliseconds(100))
            let ready = try? await gateway.call("/readyz", port: gateway.gateway!.port, method: .GET)
            #expect(ready == nil || (ready!.status == 503 && ready!.body.hasPrefix("draining")), "\(ready.map { "\($0.status) \($0.body)" } ?? "")")
            let answer = try await reply
            #expect(
                answer.status == 200 && answer.body.sseData.last == "[DONE]" && answer.body.contains("end."), "the 0.8 s answer in flight finishes")
            #expect(try await process.exit(within: .seconds(30)) == 0)
            gateway.gateway = nil
        }
    }

    @Test(
        "SIGTERM with a request that would outlast shutdown_grace_s: /readyz stops saying ready, at the grace the request is cut, answered 503 gateway_shutting_down with x-should-retry: true, and the gateway exits"
    )
    func cutAtTheGrace() async throws {
        let spec = GatewayFaultTests.spec.replacingOccurrences(
            of: "  spend_database: \"{DIR}/spend.sqlite\"",
            with: "  spend_database: \"{DIR}/spend.sqlite\"\n  shutdown_grace_s: 0.5")
        #expect(spec != GatewayFaultTests.spec)
        // alpha holds every request open (600 s); route solo waits for it (no first-token limit).
        let gateway = try await LiveGateway(mocks: ["alpha": ["--fault", "hang"], "beta": [], "local": []], spec: spec)
        try await gateway.use { gateway in
            let process = gateway.gateway!.process
            async let reply = gateway.chat(model: "solo")
            for _ in 0..<100 where try await gateway.stats("alpha").requests == 0 { try await Task.sleep(for: .milliseconds(20)) }
            #expect(try await gateway.call("/readyz", port: gateway.gateway!.port, method: .GET).status == 200)
            process.terminate()
            // Draining: /readyz is never 200 again (503 on a connection still open, or no
            // connection at all once the listener has closed).
            try await Task.sleep(for: .milliseconds(100))
            let ready = try? await gateway.call("/readyz", port: gateway.gateway!.port, method: .GET)
            #expect(ready == nil || (ready!.status == 503 && ready!.body.hasPrefix("draining")), "\(ready.map { "\($0.status) \($0.body)" } ?? "")")
            let answer = try await reply
            #expect(
                answer.status == 503 && answer.header("x-should-retry") == "true" && answer.header("x-brownout-failure") == "gateway_shutting_down",
                "\(answer.status) \(answer.body)")
            #expect(answer.body.contains(#""code":"gateway_shutting_down""#))
            #expect(try await process.exit(within: .seconds(30)) == 0)
            gateway.gateway = nil
        }
    }

    @Test("metrics_listen: /metrics (team names, spend) only on its own listener, not on the public one; a port in use there is one clear line")
    func separateMetricsListener() async throws {
        let spec = GatewayFaultTests.spec.replacingOccurrences(
            of: "  listen: 127.0.0.1:0\n", with: "  listen: 127.0.0.1:0\n  metrics_listen: 127.0.0.1:0\n")
        #expect(spec != GatewayFaultTests.spec)
        let gateway = try await LiveGateway(mocks: ["alpha": [], "beta": [], "local": []], spec: spec)
        try await gateway.use { gateway in
            #expect(try await gateway.chat().status == 200)
            let line = try await gateway.gateway!.process.line(startingWith: "metrics on ", within: .seconds(10))
            let port = Int(line.split(separator: ":").last!)!
            let scraped = try await gateway.call("/metrics", port: port, method: .GET)
            #expect(scraped.status == 200 && scraped.body.contains(#"brownout_requests_total{team="search",result="success"} 1"#))
            #expect(try await gateway.call("/metrics", port: gateway.gateway!.port, method: .GET).status == 404)
            #expect(try await gateway.call("/readyz", port: gateway.gateway!.port, method: .GET).status == 200)
            #expect(try await gateway.call("/v1/models", port: port, method: .GET, key: LiveGateway.searchKey).status == 404)
        }
        let (directory, file) = try Self.writeSpec()
        defer { try? FileManager.default.removeItem(at: directory) }
        let held = try HeldPort()
        defer { held.close() }
        let taken = held.port
        let refused = try await LiveGateway.run("brownout-gateway", [file.path, "--set", "deployment.metrics_listen=127.0.0.1:\(taken)"])
        #expect(refused.status != 0)
        #expect(
            refused.stderr == "Error: deployment.metrics_listen: cannot listen on 127.0.0.1:\(taken): Address already in use\n", "\(refused.stderr)")
    }
}
