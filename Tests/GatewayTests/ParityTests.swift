import ChildProcesses
import Foundation
import NIOHTTP1
import LiveGatewaySupport
import ProcessTestSupport
import Testing

/// Decision parity (docs/parity.md): the production gateway records every router call while
/// mocks inject every fault class at random under load from three teams; the simulator's
/// gateway, driven through the trace, must make every recorded decision. Exact: one differing
/// decision fails.
@Suite("Parity: the simulator's gateway decides what the production gateway decided", .serialized, .timeLimit(.minutes(10)))
struct ParityTests {
    /// Three teams on three routes, each showing its own behaviour whatever the load does to the
    /// others: retries and timeouts over two upstreams balanced by their measured latency, under
    /// a budget that runs out after about 40 answers (search); hedging over two balanced at
    /// random (support: the router's seeded generator); failover to a local pool whenever the
    /// one frontier upstream is cooling down after a Retry-After or its breaker is open (batch).
    /// The budget is not on the pool's team: production charges pool answers nothing (it reports
    /// no GPU seconds), and a budget there could run out before the pool is ever needed. A breaker that opens
    /// after 3 failures in a row for 0.3 s, so it opens and closes many times. Search's route
    /// retries a transient failure on the same target first (the default shape), sends a
    /// context-length refusal to beta (as batch's does), and cuts a stalled stream at 0.1 s of silence;
    /// batch's holds a stream until its 5th token, so a stream that breaks after its 3rd fails over.
    static let spec = """
        name: parity
        run: {duration_s: 60}
        providers:
          alpha: {concurrency: 50, ttft_s: 0.01, output_tokens_per_s: 1000, input_usd_per_mtok: 3, output_usd_per_mtok: 15}
          beta: {concurrency: 50, ttft_s: 0.01, output_tokens_per_s: 1000, input_usd_per_mtok: 1, output_usd_per_mtok: 5}
        pools:
          local: {replicas: 1, concurrency_per_replica: 16, replica_output_tokens_per_s: 1000, ttft_s: 0.01, gpu_usd_per_hour: 4}
        gateway:
          breaker: {consecutive_failures: 3, open_s: 0.3}
        routes:
          chat:
            chain: [{targets: [alpha, beta], balancing: lowest_latency}]
            retry: {max_attempts: 3, backoff: {kind: exponential, base_s: 0.005, cap_s: 0.02}, retry_after_cap_s: 0.05}
            timeouts: {first_token_s: 0.25, per_try_s: 0.6, overall_s: 2, idle_s: 0.1}
            context_window_fallbacks: [beta]
          hedged:
            chain: [[alpha, beta]]
            hedging: {after_s: 0.02}
            retry: {max_attempts: 3, backoff: {kind: none}, retry_after_cap_s: 0.05}
            timeouts: {first_token_s: 0.25, per_try_s: 0.6, overall_s: 2}
          degraded:
            chain: [alpha]
            retry: {max_attempts: 2, backoff: {kind: none}, retry_after_cap_s: 0.05}
            timeouts: {first_token_s: 0.25, per_try_s: 0.6, overall_s: 2}
            fallback: {pools: [local]}
            context_window_fallbacks: [beta]
            stream_commit: {after_tokens: 5}
        teams:
          search: {tier: 0, route: chat, arrivals: {poisson: {rate_per_s: 1}}, input_tokens: 100, output_tokens: 10, budget: {usd: 0.005, period: day}}
          support: {tier: 0, route: hedged, arrivals: {poisson: {rate_per_s: 1}}, input_tokens: 100, output_tokens: 10}
          batch: {tier: 1, route: degraded, arrivals: {poisson: {rate_per_s: 1}}, input_tokens: 100, output_tokens: 10}
        deployment:
          listen: 127.0.0.1:0
          upstreams:
            alpha: {base_url: "http://127.0.0.1:{PORT:alpha}/v1", model: alpha-1}
            beta: {base_url: "http://127.0.0.1:{PORT:beta}/v1", model: beta-1}
            local: {base_url: "http://127.0.0.1:{PORT:local}/v1", model: llama}
          keys: {search: ["{SEARCH}"], support: ["{SUPPORT}"], batch: ["{BATCH}"]}
          team_routes: {search: [chat], support: [hedged], batch: [degraded]}
          spend_database: none
        """

    static let requests = 5_400

    /// Records a trace of `requests` requests (a third streaming) under random faults and
    /// returns the trace's directory, which holds the gateway's spec too; the caller removes it.
    static func record() async throws -> (directory: URL, spec: URL) {
        let record = FileManager.default.temporaryDirectory.appendingPathComponent("brownout-parity-\(UUID().uuidString)")
        let mockOptions = ["--first-token-seconds", "0.002", "--tokens-per-second", "2000", "--output-tokens", "8", "--retry-after-seconds", "0.03"]
        let live = try await LiveGateway(
            mocks: ["alpha": mockOptions, "beta": mockOptions, "local": mockOptions], spec: spec,
            gatewayArguments: ["--record", record.path, "--seed", "20261126"])
        return try await live.use { live in
            // Every fault class, at random, from seeded draws: often at the frontier, rarely at the pool.
            for (name, probability, seed) in [("alpha", 0.3, 1), ("beta", 0.25, 2), ("local", 0.05, 3)] {
                _ = try await live.call(
                    "/mock/faults", port: live.mocks[name]!.port, body: Data(#"{"random": {"probability": \#(probability), "seed": \#(seed)}}"#.utf8))
            }
            // 48 clients at a time, round-robin over the teams; every third request streams.
            let teams = [("chat", LiveGateway.searchKey), ("hedged", LiveGateway.supportKey), ("degraded", LiveGateway.batchKey)]
            try await withThrowingTaskGroup(of: Void.self) { group in
                for client in 0..<48 {
                    group.addTask {
                        for n in stride(from: client, to: requests, by: 48) {
                            let (model, key) = teams[n % 3]
                            _ = try await live.chat(model: model, stream: n % 3 == 1 || n % 7 == 0, includeUsage: n % 2 == 0, key: key, maxTokens: 8)
                        }
                    }
                }
                try await group.waitForAll()
            }
            await live.stopGateway()
            // The spec the gateway ran, kept beside its trace by --record: replays read it.
            let spec = record.appendingPathComponent("spec.yaml")
            #expect(FileManager.default.fileExists(atPath: spec.path))
            return (record, spec)
        }
    }

    static func replay(_ directory: URL, spec: URL) async throws -> ChildOutput {
        try await LiveGateway.run("brownout", ["replay", directory.path, "--spec", spec.path])
    }

    @Test("5,400 requests from three teams under random faults: every decision replays identically; one edited decision is reported alone")
    func parity() async throws {
        let (directory, spec) = try await Self.record()
        defer { try? FileManager.default.removeItem(at: directory) }
        let trace = try String(contentsOf: directory.appendingPathComponent("trace.jsonl"), encoding: .utf8)
        let lines = trace.split(separator: "\n")
        // The trace covers what the issue asks for: every request, hedges, retries after
        // Retry-After, the pool serving, breakers opening, a budget running out, timeouts.
        let begins = lines.filter { $0.contains(#""call":"begin""#) }.count
        #expect(begins == Self.requests)
        for evidence in [
            #""action":"hedge""#, #""call":"hedge_due""#, #""call":"resume""#, #""target":"local""#, #""breaker_open""#,
            #""budget_exhausted""#, #""outcome":"timeout""#, #""outcome":"failed_after_first_byte""#, #""outcome":"overloaded_529""#,
            #""outcome":"client_error_4xx""#, #""outcome":"cancelled""#, #""outcome":"connection_error""#, #""call":"first_byte""#,
            #""same_target""#, #""context_window_fallback""#, #""context_window_exceeded":true"#,
        ] {
            let found = trace.contains(evidence)
            #expect(found, "the trace has no \(evidence)")
        }

        let replayed = try await Self.replay(directory, spec: spec)
        // Conduct events that ask the router nothing (a first byte reaching the client) have no decision.
        let deciding = lines.indices.dropFirst().filter { lines[$0].contains(#""decision":"#) }
        let identical = "\(deciding.count) decisions, all identical\n"
        #expect(replayed.status == 0 && replayed.stdout == identical, "\(replayed.stdout)\(replayed.stderr)")

        // One decision edited (a send's target swapped) in the middle of the trace: replay
        // reports exactly that one, at its line, and exits 1.
        let index = lines.indices.dropFirst(lines.count / 2).first {
            lines[$0].contains(#""action":"send""#) && lines[$0].contains(#""target":"alpha""#)
        }!
        var edited = lines.map(String.init)
        let decisionStart = edited[index].range(of: #""decision":"#)!.upperBound
        edited[index] =
            String(edited[index][..<decisionStart])
            + edited[index][decisionStart...].replacingOccurrences(of: #""target":"alpha""#, with: #""target":"beta""#)
        let editedDirectory = directory.appendingPathComponent("edited")
        try FileManager.default.createDirectory(at: editedDirectory, withIntermediateDirectories: true)
        try (edited.joined(separator: "\n") + "\n").write(
            to: editedDirectory.appendingPathComponent("trace.jsonl"), atomically: true, encoding: .utf8)
        let report = try await Self.replay(editedDirectory, spec: spec)
        #expect(report.status == 1)
        let number = deciding.firstIndex(of: index)! + 1
        let located = "trace.jsonl:\(index + 1): decision \(number) of \(deciding.count) differs after \(number - 1) identical (1 differ in all)"
        let marked = "> \(index + 1): "
        #expect(report.stderr.contains(located), "\(report.stderr)")
        #expect(report.stderr.contains(#"recorded: {"action":"send""#) && report.stderr.contains(marked), "\(report.stderr)")
    }
}
