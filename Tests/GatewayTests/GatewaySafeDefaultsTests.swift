import ChildProcesses
import Foundation
import NIOCore
import LiveGatewaySupport
import ProcessTestSupport
import Testing

/// The gateway's defaults where the spec says nothing, and its edges: no request waits
/// forever, a request body that cannot be taken gets its own status, an upstream's odd
/// status is never dressed as a refusal, an answer without usage is billed by a stated
/// rule, the memory request bodies take is bounded, and a changed spec never stops a restart.
@Suite("brownout-gateway: safe by default", .serialized, .timeLimit(.minutes(5)))
struct GatewaySafeDefaultsTests {
    static let spec = """
        name: gateway-safe-defaults
        run: {duration_s: 60}
        providers:
          alpha: {concurrency: 10, ttft_s: 0.5, output_tokens_per_s: 50, input_usd_per_mtok: 3, output_usd_per_mtok: 15}
          beta: {concurrency: 10, ttft_s: 0.5, output_tokens_per_s: 50, input_usd_per_mtok: 1, output_usd_per_mtok: 5}
        routes:
          open:
            chain: [alpha]
            retry: {max_attempts: 1}
          chat:
            chain: [alpha, beta]
            retry: {max_attempts: 2, backoff: {kind: none}, target: next}
            timeouts: {first_token_s: 5, overall_s: 10}
        teams:
          search: {route: chat, arrivals: {poisson: {rate_per_s: 1}}, input_tokens: 100, output_tokens: 10}
          batch: {route: chat, arrivals: {poisson: {rate_per_s: 1}}, input_tokens: 100, output_tokens: 10, budget: {usd: 10, period: day}}
        deployment:
          listen: 127.0.0.1:0
          upstreams:
            alpha: {base_url: "http://127.0.0.1:{PORT:alpha}/v1", model: alpha-1}
            beta: {base_url: "http://127.0.0.1:{PORT:beta}/v1", model: beta-1}
          keys: {search: ["{SEARCH}"], batch: ["{BATCH}"]}
          spend_database: "{DIR}/spend.sqlite"
          request_bodies: {read_timeout_s: 1, max_bytes: 65536, held_max_bytes: 65536}
        """

    func live(gatewayArguments: [String] = []) async throws -> LiveGateway {
        try await LiveGateway(
            mocks: ["alpha": ["--hang-seconds", "3600"], "beta": ["--hang-seconds", "3600"]], spec: Self.spec, gatewayArguments: gatewayArguments)
    }

    @Test(
        "a route without timeouts in front of an upstream that never answers: the default first-token limit ends it in a 504, with the explaining headers"
    )
    func hangWithoutTimeouts() async throws {
        // The router's clock 100× real time: the 300 s default is 3 s here.
        let gateway = try await live(gatewayArguments: ["--time-scale", "100"])
        try await gateway.use { gateway in
            try await gateway.defaultFault("alpha", "hang")
            let reply = try await gateway.chat(model: "open")
            #expect(reply.status == 504 && reply.body.contains("upstream_timeout"))
            #expect(reply.header("x-brownout-failure") == "timeout" && reply.header("x-brownout-attempts") == "1")
            #expect(reply.seconds >= 2.5 && reply.seconds < 30, "the default 300 s at 100×: \(reply.seconds) s")
            #expect(try await gateway.metrics().contains(#"brownout_in_flight_requests 0"#))
        }
    }

    @Test("brownout validate shows each route's limits in force, the defaults named")
    func validateShowsLimits() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("brownout-validate-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("spec.yaml")
        try Self.spec.replacingOccurrences(of: "{PORT:alpha}", with: "9001").replacingOccurrences(of: "{PORT:beta}", with: "9002")
            .replacingOccurrences(of: "{SEARCH}", with: LiveGateway.sha256(LiveGateway.searchKey)).replacingOccurrences(
                of: "{BATCH}", with: LiveGateway.sha256(LiveGateway.batchKey)
            )
            .replacingOccurrences(of: "{DIR}", with: directory.path)
            .replacingOccurrences(of: "  batch: {route: chat,", with: "  batch: {route: open, slo: {latency_s: 20},")
            .write(to: path, atomically: true, encoding: .utf8)
        let validated = try await LiveGateway.run("brownout", ["validate", path.path])
        #expect(validated.status == 0, "\(validated.stderr)")
        #expect(validated.stdout.contains("route open: first token 300 s (default), per try none, idle 300 s (default), overall 600 s (default)"))
        #expect(validated.stdout.contains("route chat: first token 5 s, per try none, idle 300 s (default), overall 10 s"))
        // The route the batch team uses waits 300 s for a first token; its SLO allows 20 s.
        #expect(validated.stdout.contains("warning: routes.open.timeouts.first_token_s: an attempt may wait 300 s for its first token (the default"))
        #expect(validated.stdout.contains("team batch's SLO allows a whole request (p99 ≤ 20 s)"))
        #expect(!validated.stdout.contains("routes.chat.timeouts"), "5 s is within search's 30 s")
    }

    @Test("a body that stops arriving is 408, a malformed chunked body 400, an oversized one 413; each counted")
    func bodyFailures() async throws {
        let gateway = try await live()
        try await gateway.use { gateway in
            let port = gateway.gateway!.port
            let head =
                "POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer \(LiveGateway.searchKey)\r\nContent-Type: application/json\r\n"
            let slow = try await RawExchange.send(head + "Content-Length: 100\r\n\r\n{\"model\": \"chat\"", port: port, within: .seconds(20))
            #expect(slow.hasPrefix("HTTP/1.1 408") && slow.contains("request_timeout"), "\(slow.prefix(300))")
            let malformed = try await RawExchange.send(
                head + "Transfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n", port: port, within: .seconds(20))
            #expect(malformed.hasPrefix("HTTP/1.1 400"), "\(malformed.prefix(300))")
            #expect(!malformed.contains("larger than"))
            let tooLarge = try await gateway.call("/v1/chat/completions", port: port, body: Data(count: 65_537), key: LiveGateway.searchKey)
            #expect(tooLarge.status == 413 && tooLarge.body.contains("larger than 65536 bytes"))
            let metrics = try await gateway.metrics()
            #expect(metrics.contains(#"brownout_request_bodies_refused_total{reason="too_slow"} 1"#))
            #expect(metrics.contains(#"brownout_request_bodies_refused_total{reason="too_large"} 1"#))
            #expect(metrics.contains(#"brownout_request_bodies_refused_total{reason="malformed"} 1"#), "the gateway's own 400, not the HTTP server's")
            #expect(try await gateway.chat().status == 200, "the gateway serves on")
            #expect(try await gateway.stats("alpha").requests == 1)
        }
    }

    @Test("past held_max_bytes of bodies in flight a request is refused with 503 and counted; once the first ends, the next is taken")
    func bodiesInFlightBounded() async throws {
        let gateway = try await live()
        try await gateway.use { gateway in
            let port = gateway.gateway!.port
            let body = try JSONSerialization.data(withJSONObject: [
                "model": "chat", "max_tokens": 8,
                "messages": [["role": "user", "content": String(repeating: "a", count: 40_000)]],
            ])
            // The first request holds its 40 kB until the chat route's 5 s first-token limit
            // moves it from a hanging alpha to beta; the second is sent once the gateway says
            // the first's bytes are held, so neither order nor a slow machine decides the test.
            try await gateway.fault("alpha", "hang")
            async let first = gateway.call("/v1/chat/completions", port: port, body: body, key: LiveGateway.searchKey)
            let held = try await LiveGateway.waitFor(.seconds(4)) {
                LiveGateway.metric("brownout_request_body_bytes_held", in: try await gateway.metrics()) >= Double(body.count)
            }
            #expect(held != nil, "the first request's body was never held")
            let second = try await gateway.call("/v1/chat/completions", port: port, body: body, key: LiveGateway.searchKey)
            #expect(second.status == 503 && second.body.contains("gateway_full"))
            #expect(try await first.status == 200)
            let third = try await gateway.call("/v1/chat/completions", port: port, body: body, key: LiveGateway.searchKey)
            #expect(third.status == 200, "the first request's bytes were given back")
            let metrics = try await gateway.metrics()
            #expect(metrics.contains(#"brownout_request_bodies_refused_total{reason="gateway_full"} 1"#))
            #expect(metrics.contains("brownout_request_body_bytes_held 0"))
        }
    }

    @Test("an upstream's redirect or 204 is a server error: failed over, and never passed back as its status", arguments: ["redirect", "no_content"])
    func unexpectedStatus(fault: String) async throws {
        let gateway = try await live()
        try await gateway.use { gateway in
            try await gateway.fault("alpha", fault)
            let rescued = try await gateway.chat()
            #expect(rescued.status == 200 && rescued.header("x-brownout-upstream") == "beta" && rescued.header("x-brownout-attempts") == "2")
            try await gateway.defaultFault("alpha", fault)
            try await gateway.defaultFault("beta", fault)
            let failed = try await gateway.chat()
            #expect(failed.status == 502 && failed.header("x-brownout-failure") == "server_error_5xx", "\(failed.status) \(failed.body)")
            #expect(failed.body.contains("which is not an answer to a chat completion"))
            #expect(try await gateway.metrics().contains(#"brownout_attempts_total{upstream="alpha",outcome="server_error_5xx"} 2"#))
        }
    }

    @Test("a whole answer without usage is billed by its text (a token per 4 bytes) and counted as estimated")
    func answerWithoutUsage() async throws {
        let gateway = try await live()
        try await gateway.use { gateway in
            try await gateway.fault("alpha", "no_usage")
            let body = Data(#"{"model": "chat", "max_tokens": 64, "messages": [{"role": "user", "content": "Say something."}]}"#.utf8)
            let reply = try await gateway.call("/v1/chat/completions", port: gateway.gateway!.port, body: body, key: LiveGateway.batchKey)
            #expect(reply.status == 200 && !reply.body.contains("\"usage\""))
            let answer = try #require(try JSONSerialization.jsonObject(with: Data(reply.body.utf8)) as? [String: Any])
            let content = try #require(((answer["choices"] as? [[String: Any]])?.first?["message"] as? [String: Any])?["content"] as? String)
            let input = body.count / 4, output = (content.utf8.count + 3) / 4
            #expect(output > 0)
            let spend = try await gateway.spend(team: "batch")
            #expect(abs(spend - Double(input * 3 + output * 15) / 1e6) < 1e-12, "billed \(spend), the text says \(input) in, \(output) out")
            let metrics = try await gateway.metrics()
            #expect(metrics.contains(#"brownout_usage_estimated_attempts_total{upstream="alpha"} 1"#))
            #expect(metrics.contains(#"brownout_usage_estimated_attempts_total{upstream="beta"} 0"#))
        }
    }

    @Test("a team dropped from the spec: its saved spend is kept and reported at start, not fatal; restored when the team returns")
    func droppedTeamKeepsSpend() async throws {
        let gateway = try await live()
        try await gateway.use { gateway in
            let body = Data(#"{"model": "chat", "max_tokens": 64, "messages": [{"role": "user", "content": "Say something."}]}"#.utf8)
            func ask() async throws -> LiveGateway.Reply {
                try await gateway.call("/v1/chat/completions", port: gateway.gateway!.port, body: body, key: LiveGateway.batchKey)
            }
            #expect(try await ask().status == 200)
            let spent = try await gateway.spend(team: "batch")
            #expect(spent > 0)
            await gateway.stopGateway()
            let original = try String(contentsOf: gateway.specPath, encoding: .utf8)
            try original.replacingOccurrences(of: ", budget: {usd: 10, period: day}", with: "").write(
                to: gateway.specPath, atomically: true, encoding: .utf8)
            try await gateway.startGateway()
            #expect(gateway.gateway!.process.errors.contains("keeps spend of 1 budget this spec does not have (team 'batch'): kept, not restored"))
            #expect(try await gateway.metrics().contains("brownout_spend_rows_unknown 1"))
            #expect(try await ask().status == 200)
            await gateway.stopGateway()
            // The budget back, sized so that a request fits a fresh budget but not one that
            // restored the day's spend: the most one request may cost (alpha's prices, the
            // input the gateway counts, max_tokens out), plus half of what was spent.
            let worstCase = Double((body.count / 4) * 3 + 64 * 15) / 1e6
            try original.replacingOccurrences(of: "budget: {usd: 10, period: day}", with: "budget: {usd: \(worstCase + spent / 2), period: day}")
                .write(to: gateway.specPath, atomically: true, encoding: .utf8)
            try await gateway.startGateway()
            let refused = try await ask()
            #expect(
                refused.status == 429 && refused.header("x-brownout-failure") == "budget_exhausted", "the kept spend was restored: \(refused.status)")
            #expect(try await gateway.metrics().contains("brownout_spend_rows_unknown 0"))
        }
    }

    @Test("--log-level and BROWNOUT_LOG_LEVEL: a level that is none is refused, naming where it came from")
    func logLevel() async throws {
        let flag = try await LiveGateway.run("brownout-gateway", ["missing.yaml", "--log-level", "loud"])
        #expect(flag.status != 0 && flag.stderr.contains("--log-level: 'loud' is not a log level; levels are trace, debug"))
        let environment = try await ChildProcess.run(
            LiveGateway.binaries.appendingPathComponent("brownout-gateway"), ["missing.yaml"],
            environment: ProcessInfo.processInfo.environment.merging(["BROWNOUT_LOG_LEVEL": "chatty"]) { $1 })
        #expect(environment.status != 0 && environment.stderr.contains("BROWNOUT_LOG_LEVEL: 'chatty' is not a log level"))
        let gateway = try await live(gatewayArguments: ["--log-level", "debug"])
        try await gateway.use { gateway in
            let reply = try await gateway.chat()
            #expect(reply.status == 200)
        }
    }
}

/// One HTTP exchange written byte for byte on a raw loopback socket (a body that stops, a
/// malformed chunk: what an HTTP client will not send), on a thread of its own; the answer
/// is what arrives until the server closes or goes quiet, or `within` passes.
enum RawExchange {
    static func send(_ text: String, port: Int, within limit: Duration) async throws -> String {
        try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread {
                continuation.resume(with: Result { try exchange(text, port: port, limit: limit) })
            }
        }
    }

    private static func exchange(_ text: String, port: Int, limit: Duration) throws -> String {
        let socket = try LoopbackSocket(port: port)
        socket.receiveTimeout(seconds: Int(limit.components.seconds))
        try socket.send(text)
        var answer: [UInt8] = []
        while let bytes = socket.receive() {
            answer += bytes
            // One answer is enough: its head and a body of the declared length.
            if let text = String(bytes: answer, encoding: .utf8), let end = text.range(of: "\r\n\r\n"),
                let lengthLine = text[..<end.lowerBound].split(separator: "\r\n").first(where: { $0.lowercased().hasPrefix("content-length:") }),
                let length = Int(lengthLine.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)),
                text.utf8.count - text.utf8.distance(from: text.utf8.startIndex, to: end.upperBound) >= length
            {
                break
            }
        }
        return String(decoding: answer, as: UTF8.self)
    }
}
