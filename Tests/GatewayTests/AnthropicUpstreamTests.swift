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
          faithful:
            chain: [claude, gpt]
            cross_protocol: false
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

    /// Anthropic names a spend limit's 429 in `error.details.error_code`; it is the request's
    /// own fault at that provider (never retried there), not a rate limit to wait out.
    @Test("a spend-limit 429 in Anthropic's shape is a spend limit, a plain 429 a rate limit")
    func spendLimit() async throws {
        let gateway = try await live()
        try await gateway.use { gateway in
            try await gateway.fault("claude", "spend_limit")
            _ = try await gateway.chat(stream: false)
            try await gateway.fault("claude", "rate_limited")
            _ = try await gateway.chat(stream: false)
            let metrics = try await gateway.metrics()
            #expect(metrics.contains(#"brownout_attempts_total{upstream="claude",outcome="spend_limit_429"} 1"#), "\(metrics)")
            #expect(metrics.contains(#"brownout_attempts_total{upstream="claude",outcome="rate_limited_429"} 1"#), "\(metrics)")
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

/// Clients that speak Anthropic's Messages API to the gateway (`POST /v1/messages`), over real
/// loopback HTTP: to an Anthropic upstream the request and the answer pass unchanged but for
/// the model's name; to an OpenAI-compatible one (after a failover) both are translated, whole
/// and streamed; refusals and failures come back in Anthropic's error shape, an overload that
/// no failover could get past as Anthropic's own 529.
@Suite("brownout-gateway: Messages API clients", .serialized, .timeLimit(.minutes(5)))
struct MessagesClientTests {
    func live() async throws -> LiveGateway {
        try await LiveGateway(mocks: ["claude": ["--context-window-tokens", "50"], "gpt": []], spec: AnthropicUpstreamTests.spec)
    }

    static func messages(_ gateway: LiveGateway, model: String = "chat", stream: Bool = false, maxTokens: Int? = 5) async throws -> LiveGateway.Reply
    {
        var body: [String: Any] = ["model": model, "system": "Be brief.", "messages": [["role": "user", "content": "Say something."]]]
        if let maxTokens { body["max_tokens"] = maxTokens }
        if stream { body["stream"] = true }
        return try await gateway.call(
            "/v1/messages", port: gateway.gateway!.port, body: try JSONSerialization.data(withJSONObject: body), key: LiveGateway.searchKey)
    }

    /// A Messages stream's events: (name, data).
    static func events(_ body: String) -> [(String, [String: Any])] {
        body.components(separatedBy: "\n\n").compactMap { block in
            let lines = block.split(separator: "\n")
            guard let name = lines.first(where: { $0.hasPrefix("event: ") })?.dropFirst(7),
                let data = lines.first(where: { $0.hasPrefix("data: ") })?.dropFirst(6),
                let object = try? JSONSerialization.jsonObject(with: Data(data.utf8)) as? [String: Any]
            else { return nil }
            return (String(name), object)
        }
    }

    static func text(_ events: [(String, [String: Any])]) -> String {
        events.compactMap { ($0.1["delta"] as? [String: Any])?["text"] as? String }.joined()
    }

    @Test("to an Anthropic upstream: the Messages answer as the upstream gave it, whole and streamed to its message_stop")
    func passThrough() async throws {
        let gateway = try await live()
        try await gateway.use { gateway in
            let whole = try await Self.messages(gateway)
            #expect(whole.status == 200 && whole.header("x-brownout-upstream") == "claude", "\(whole.body)")
            let message = try AnthropicUpstreamTests.object(whole.body)
            #expect(message["type"] as? String == "message" && (message["id"] as? String)?.hasPrefix("msg_mock_") == true)
            #expect(((message["content"] as? [[String: Any]])?.first?["text"] as? String) == "w0 w1 w2 w3 end.")
            #expect((message["usage"] as? [String: Int])?["output_tokens"] == 5)
            let streamed = try await Self.messages(gateway, stream: true, maxTokens: 4)
            let events = Self.events(streamed.body)
            #expect(streamed.status == 200 && events.first?.0 == "message_start" && events.last?.0 == "message_stop", "\(streamed.body)")
            #expect(events.contains { $0.0 == "ping" }, "events pass unchanged, pings included")
            #expect(Self.text(events) == "w0 w1 w2 end.")
            #expect(((events.first { $0.0 == "message_delta" }?.1["usage"]) as? [String: Int])?["output_tokens"] == 4)
            #expect(try await gateway.spend(team: "search") > 0)
        }
    }

    @Test("failed over to an OpenAI-compatible upstream: a valid Messages answer, whole and streamed, translated from the chat completion")
    func translated() async throws {
        let gateway = try await live()
        try await gateway.use { gateway in
            try await gateway.fault("claude", "overloaded")
            let whole = try await Self.messages(gateway)
            #expect(whole.status == 200 && whole.header("x-brownout-upstream") == "gpt", "\(whole.body)")
            let message = try AnthropicUpstreamTests.object(whole.body)
            #expect(message["type"] as? String == "message" && message["stop_reason"] as? String == "end_turn")
            #expect(((message["content"] as? [[String: Any]])?.first?["text"] as? String) == "w0 w1 w2 w3 end.")
            #expect((message["usage"] as? [String: Int])?["output_tokens"] == 5)
            try await gateway.fault("claude", "overloaded")
            let streamed = try await Self.messages(gateway, stream: true, maxTokens: 4)
            let events = Self.events(streamed.body)
            #expect(streamed.header("x-brownout-upstream") == "gpt")
            #expect(
                events.map(\.0) == ["message_start", "content_block_start"] + Array(repeating: "content_block_delta", count: 4) + [
                    "content_block_stop", "message_delta", "message_stop",
                ], "\(events.map(\.0))")
            #expect(Self.text(events) == "w0 w1 w2 end.")
            let delta = try #require(events.first { $0.0 == "message_delta" }?.1)
            #expect(
                (delta["delta"] as? [String: Any])?["stop_reason"] as? String == "end_turn"
                    && (delta["usage"] as? [String: Int])?["output_tokens"] == 4)
        }
    }

    @Test("refusals and failures in Anthropic's error shape: a missing max_tokens (400), a bad key (401), an overload no failover got past (529)")
    func errors() async throws {
        let gateway = try await live()
        try await gateway.use { gateway in
            let missing = try await Self.messages(gateway, maxTokens: nil)
            #expect(missing.status == 400 && missing.body.contains(#""type":"invalid_request_error""#) && missing.body.contains(#""type":"error""#))
            let unknown = try await gateway.call(
                "/v1/messages", port: gateway.gateway!.port,
                body: Data(#"{"model":"chat","max_tokens":5,"messages":[{"role":"user","content":"hi"}]}"#.utf8),
                key: "not-a-key")
            #expect(unknown.status == 401 && unknown.body.contains("authentication_error"))
            // Every attempt the route allows meets the overload.
            try await gateway.fault("claude", "overloaded", count: 5)
            let overloaded = try await Self.messages(gateway, model: "only")
            #expect(overloaded.status == 529 && overloaded.body.contains(#""type":"overloaded_error""#), "\(overloaded.status) \(overloaded.body)")
        }
    }

    @Test(
        "cross_protocol: false: a chat completion goes only to OpenAI-compatible targets and a Messages request only to Anthropic ones, untranslated")
    func faithful() async throws {
        let gateway = try await live()
        try await gateway.use { gateway in
            let chat = try await gateway.chat(model: "faithful")
            #expect(chat.status == 200 && chat.header("x-brownout-upstream") == "gpt" && chat.header("x-brownout-attempts") == "1")
            try await gateway.fault("claude", "overloaded", count: 5)
            let messages = try await Self.messages(gateway, model: "faithful")
            #expect(messages.status == 529 && messages.body.contains("overloaded_error"), "\(messages.status) \(messages.body)")
            #expect(try await gateway.stats("gpt").requests == 1, "only the chat completion reached the OpenAI-compatible target")
            let lines = try await gateway.decisions { $0.contains { $0.contains("other_protocol") } }
            #expect(lines.contains { $0.contains("other_protocol") })
        }
    }
}
