import Foundation
import LiveGatewaySupport
import ProcessTestSupport
import Testing

/// An upstream that speaks Anthropic's Messages API (`protocol: anthropic`), over real loopback
/// HTTP against the mock's `POST /v1/messages` (which, as Anthropic's, refuses a request
/// without `anthropic-version` or `max_tokens`): chat completions clients get chat completions,
/// whole and streamed, and the squeeze's failures are classified as the router's classes say —
/// a 529 fails over at once, an overload reported inside a stream fails over while nothing has
/// reached the client and breaks the stream after.
@Suite("brownout-gateway: Anthropic Messages upstreams", .serialized, .timeLimit(.minutes(5)))
struct AnthropicUpstreamTests {
    static let spec = """
        name: anthropic-upstream
        run: {duration_s: 60}
        providers:
          claude: {concurrency: 10, ttft_s: 0.5, output_tokens_per_s: 50, input_usd_per_mtok: 3, output_usd_per_mtok: 15}
          gpt: {concurrency: 10, ttft_s: 0.5, output_tokens_per_s: 50, input_usd_per_mtok: 1, output_usd_per_mtok: 5}
        routes:
          chat:
            chain: [claude, gpt]
            retry: {max_attempts: 3, backoff: {kind: none}}
          held:
            chain: [claude, gpt]
            retry: {max_attempts: 3, backoff: {kind: none}, target: next}
            stream_commit: {complete: true}
          only:
            chain: [claude]
        teams:
          search: {route: chat, arrivals: {poisson: {rate_per_s: 1}}, input_tokens: 100, output_tokens: 10}
        deployment:
          listen: 127.0.0.1:0
          upstreams:
            claude: {base_url: "http://127.0.0.1:{PORT:claude}/v1", protocol: anthropic, model: claude-test}
            gpt: {base_url: "http://127.0.0.1:{PORT:gpt}/v1", model: gpt-test}
          keys: {search: ["{SEARCH}"]}
          decision_log: {path: "{DIR}/decisions.jsonl"}
          spend_database: none
        """

    func live() async throws -> LiveGateway {
        try await LiveGateway(mocks: ["claude": ["--context-window-tokens", "50"], "gpt": []], spec: Self.spec)
    }

    static func object(_ text: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    }

    @Test("a whole answer comes back as a chat completion: the text, the finish, the usage, and spend settled from it")
    func whole() async throws {
        let gateway = try await live()
        try await gateway.use { gateway in
            let reply = try await gateway.chat(maxTokens: 5)
            #expect(reply.status == 200 && reply.header("x-brownout-upstream") == "claude", "\(reply.body)")
            let completion = try Self.object(reply.body)
            #expect(completion["object"] as? String == "chat.completion" && (completion["id"] as? String)?.hasPrefix("msg_mock_") == true)
            let choice = try #require((completion["choices"] as? [[String: Any]])?.first)
            #expect(
                (choice["message"] as? [String: Any])?["content"] as? String == "w0 w1 w2 w3 end." && choice["finish_reason"] as? String == "stop")
            let usage = try #require(completion["usage"] as? [String: Int])
            #expect(usage["completion_tokens"] == 5 && (usage["prompt_tokens"] ?? 0) >= 1)
            #expect(try await gateway.spend(team: "search") > 0)
            #expect(try await gateway.stats("gpt").requests == 0)
        }
    }

    @Test("a stream comes back as chunks: the role, the text token by token, the finish, the usage when asked for, then [DONE]")
    func stream() async throws {
        let gateway = try await live()
        try await gateway.use { gateway in
            for includeUsage in [false, true] {
                let reply = try await gateway.chat(stream: true, includeUsage: includeUsage, maxTokens: 4)
                #expect(reply.status == 200 && reply.header("x-brownout-upstream") == "claude")
                let events = reply.body.sseData
                #expect(events.last == "[DONE]", "\(events)")
                let chunks = try events.dropLast().map(Self.object)
                let text = chunks.compactMap { (($0["choices"] as? [[String: Any]])?.first?["delta"] as? [String: Any])?["content"] as? String }
                    .joined()
                #expect(text == "w0 w1 w2 end.")
                let finishes = chunks.compactMap { ($0["choices"] as? [[String: Any]])?.first?["finish_reason"] as? String }
                #expect(finishes == ["stop"])
                let usage = chunks.compactMap { $0["usage"] as? [String: Int] }
                #expect(includeUsage ? usage.count == 1 && usage[0]["completion_tokens"] == 4 : usage.isEmpty, "\(usage)")
            }
        }
    }

    @Test("a 529 overloaded_error fails over to the next target at once")
    func overloaded() async throws {
        let gateway = try await live()
        try await gateway.use { gateway in
            try await gateway.fault("claude", "overloaded")
            let reply = try await gateway.chat(stream: true)
            #expect(reply.status == 200 && reply.header("x-brownout-upstream") == "gpt" && reply.header("x-brownout-attempts") == "2")
            #expect(try await gateway.metrics().contains(#"brownout_attempts_total{upstream="claude",outcome="overloaded_529"} 1"#))
        }
    }

    @Test("an overload inside a stream: after its first tokens reached the client the stream breaks with an error event; held, it fails over")
    func overloadedInsideStream() async throws {
        let gateway = try await live()
        try await gateway.use { gateway in
            try await gateway.fault("claude", "stream_overloaded")
            let broken = try await gateway.chat(stream: true)
            #expect(broken.status == 200 && broken.body.contains("w0 ") && !broken.body.sseData.contains("[DONE]"))
            #expect(broken.body.sseData.last?.contains("stream_interrupted") == true, "\(broken.body.sseData.suffix(2))")
            try await gateway.fault("claude", "stream_overloaded")
            let rescued = try await gateway.chat(model: "held", stream: true)
            #expect(rescued.status == 200 && rescued.header("x-brownout-upstream") == "gpt" && rescued.body.sseData.last == "[DONE]")
            #expect(!rescued.body.contains("msg_mock_"), "nothing of the held attempt reaches the client")
            let metrics = try await gateway.metrics()
            #expect(metrics.contains(#"brownout_attempts_total{upstream="claude",outcome="failed_after_first_byte"} 1"#))
            #expect(metrics.contains(#"brownout_attempts_total{upstream="claude",outcome="server_error_5xx"} 1"#))
        }
    }

    @Test("Anthropic's context-length refusal is passed back as it came; a request with no Messages counterpart is refused before it is sent")
    func refusals() async throws {
        let gateway = try await live()
        try await gateway.use { gateway in
            let long = try await gateway.chat(model: "only", content: String(repeating: "word ", count: 80))
            #expect(long.status == 400 && long.body.contains("prompt is too long"), "\(long.body)")
            let untranslatable = try await gateway.call(
                "/v1/chat/completions", port: gateway.gateway!.port,
                body: Data(#"{"model": "only", "n": 2, "messages": [{"role": "user", "content": "hi"}]}"#.utf8), key: LiveGateway.searchKey)
            #expect(untranslatable.status == 400 && untranslatable.body.contains("untranslatable_request"), "\(untranslatable.body)")
            #expect(try await gateway.stats("claude").requests == 1, "only the long prompt reached the upstream")
        }
    }
}
