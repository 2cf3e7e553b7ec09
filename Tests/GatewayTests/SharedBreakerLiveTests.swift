import ChildProcesses
import Foundation
import LiveGatewaySupport
import ProcessTestSupport
import Testing

/// Breakers shared by replicas through PostgreSQL (`gateway.breaker_scope: shared`), two
/// gateways on one throwaway cluster: failures one replica sees open the breaker on the
/// other, only the replica that opened it probes, its probe's success closes both, and each
/// replica's trace replays identically with the other's news in it.
@Suite("brownout-gateway: breakers shared across replicas", .serialized, .timeLimit(.minutes(5)))
struct SharedBreakerLiveTests {
    /// The ledger tests' gateway (alpha then beta; 3 failures open a breaker for 4 s, doubling
    /// on each failed probe: long enough that a loaded machine's slowness does not end an open
    /// period between two steps of the test), its breakers shared.
    static var spec: String {
        SpendLedgerTests.spec.replacingOccurrences(
            of: "  breaker: {consecutive_failures: 3, open_s: 1}",
            with: "  breaker: {consecutive_failures: 3, open_s: 4}\n  breaker_scope: shared")
    }

    static func breakerState(_ gateway: LiveGateway, _ upstream: String) async throws -> Double {
        LiveGateway.metric("brownout_breaker_state{upstream=\"\(upstream)\"}", in: try await gateway.metrics())
    }

    @Test("one replica's failures open the other's breaker; only the opener probes; its success closes both; both traces replay identically")
    func sharedAcrossTwoReplicas() async throws {
        let database = try await ThrowawayPostgres()
        defer { Task { await database.remove() } }
        let environment = [SpendLedgerTests.variable: database.url]
        let traceA = FileManager.default.temporaryDirectory.appendingPathComponent("brownout-shared-a-\(UUID().uuidString)")
        let traceB = FileManager.default.temporaryDirectory.appendingPathComponent("brownout-shared-b-\(UUID().uuidString)")
        defer {
            try? FileManager.default.removeItem(at: traceA)
            try? FileManager.default.removeItem(at: traceB)
        }
        let a = try await LiveGateway(
            mocks: ["alpha": [], "beta": [], "local": []], spec: Self.spec,
            gatewayArguments: ["--record", traceA.path, "--set", "deployment.state.postgres.replica=gw-a"], gatewayEnvironment: environment)
        let b = try await LiveGateway(
            mocks: ["alpha": [], "beta": [], "local": []], spec: Self.spec,
            gatewayArguments: ["--record", traceB.path, "--set", "deployment.state.postgres.replica=gw-b"], gatewayEnvironment: environment)
        defer {
            Task {
                await a.stop(); await b.stop()
            }
        }
        // Both listening before anything happens.
        for replica in [a, b] {
            #expect(
                try await LiveGateway.waitFor(.seconds(10)) {
                    LiveGateway.metric("brownout_shared_breakers_up", in: try await replica.metrics()) == 1
                }
                    != nil)
        }

        // alpha fails for a (its own mock); b's alpha is healthy: b can only learn of it from a.
        try await a.defaultFault("alpha", "overloaded")
        for _ in 0..<3 {
            let reply = try await a.chat()
            #expect(reply.status == 200 && reply.header("x-brownout-upstream") == "beta")
        }
        #expect(try await Self.breakerState(a, "alpha") == 2)
        let delay = try await LiveGateway.waitFor(.seconds(5)) { try await Self.breakerState(b, "alpha") == 2 }
        #expect(delay != nil, "b's breaker of alpha opened with a's")
        if let delay { print("shared breaker propagation, a's third failure answered → b's breaker open: \(delay)") }
        let before = try await b.stats("alpha").requests
        #expect(try await b.chat().header("x-brownout-upstream") == "beta", "b sends nothing to alpha")

        // For 5 s both replicas keep sending; a probes alpha at the end of its open period (4 s;
        // its mock still fails: open again for 8 s), and tells b; b never probes.
        let probesBefore = try await a.stats("alpha").requests
        let end = ContinuousClock.now + .milliseconds(5_000)
        while ContinuousClock.now < end {
            _ = try await a.chat()
            _ = try await b.chat()
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(try await b.stats("alpha").requests == before, "b sent alpha no probe of its own")
        let probes = try await a.stats("alpha").requests - probesBefore
        #expect(probes >= 1 && probes <= 2, "a probed once per open period (4 s, then 8 s): \(probes)")

        // alpha answers again: a's next probe succeeds, and b closes with it.
        try await a.defaultFault("alpha", "none")
        let closed = try await LiveGateway.waitFor(.seconds(40)) {
            _ = try await a.chat()
            return try await b.chat().header("x-brownout-upstream") == "alpha"
        }
        #expect(closed != nil, "b sends to alpha again once a's probe succeeded")
        #expect(try await Self.breakerState(b, "alpha") == 0)

        // Each replica's trace replays identically; b's holds a's news.
        await a.stopGateway()
        await b.stopGateway()
        let traceText = try String(contentsOf: traceB.appendingPathComponent("trace.jsonl"), encoding: .utf8)
        #expect(traceText.contains(#""call":"breaker_shared""#) && traceText.contains(#""state":"closed""#))
        #expect(traceText.split(separator: "\n").first?.contains(#""replica_rank":"#) == true)
        for (replica, trace) in [(a, traceA), (b, traceB)] {
            let replayed = try await LiveGateway.run("brownout", ["replay", trace.path, "--spec", replica.specPath.path])
            #expect(replayed.status == 0 && replayed.stdout.contains("identical"), "\(replayed.stdout)\(replayed.stderr)")
        }
        await database.remove()
    }

    @Test("breaker_scope: shared without a database is a start error, with one located line")
    func needsDatabase() async throws {
        let spec = GatewayFaultTests.spec.replacingOccurrences(
            of: "  breaker: {consecutive_failures: 3, open_s: 1}", with: "  breaker: {consecutive_failures: 3, open_s: 1}\n  breaker_scope: shared")
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("brownout-gateway-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("spec.yaml")
        try spec.replacingOccurrences(of: "{DIR}", with: directory.path).replacingOccurrences(of: "{PORT:alpha}", with: "1")
            .replacingOccurrences(of: "{PORT:beta}", with: "2").replacingOccurrences(of: "{PORT:local}", with: "3")
            .replacingOccurrences(of: "{SEARCH}", with: LiveGateway.sha256("a")).replacingOccurrences(of: "{BATCH}", with: LiveGateway.sha256("b"))
            .write(to: path, atomically: true, encoding: .utf8)
        let result = try await LiveGateway.run("brownout-gateway", [path.path])
        #expect(result.status != 0)
        #expect(
            result.stderr.contains("spec.yaml:") && result.stderr.contains("gateway.breaker_scope: shared needs deployment.state"), "\(result.stderr)"
        )
    }
}
