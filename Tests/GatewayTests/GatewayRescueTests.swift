import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import LiveGatewaySupport
import ProcessTestSupport
import Testing

/// What the gateway rescues, over real loopback HTTP against the fault-injecting mock: a stream
/// complete but for its `[DONE]`, a stray malformed event, transient failures retried on the
/// same target before the chain moves on, a context-length refusal that a larger target
/// answers, a stream that stalls, and a client that leaves or reads too slowly. As in
/// `GatewayFaultTests`, no assert reads how fast the machine is: who answered, what the
/// decision log and the metrics say, and lower bounds on elapsed time.
@Suite("brownout-gateway: rescuing what can be rescued", .serialized, .timeLimit(.minutes(5)))
struct GatewayRescueTests {
    static let spec = """
        name: gateway-rescue
        run: {duration_s: 60}
        providers:
          alpha: {concurrency: 10, ttft_s: 0.5, output_tokens_per_s: 50, input_usd_per_mtok: 3, output_usd_per_mtok: 15}
          beta: {concurrency: 10, ttft_s: 0.5, output_tokens_per_s: 50, input_usd_per_mtok: 1, output_usd_per_mtok: 5}
          big: {concurrency: 10, ttft_s: 0.5, output_tokens_per_s: 50, input_usd_per_mtok: 5, output_usd_per_mtok: 20}
        routes:
          chat:
            chain: [alpha, beta]
            retry: {max_attempts: 3, backoff: {kind: none}}
            timeouts: {first_token_s: 2, per_try_s: 5}
          nextonly:
            chain: [alpha, beta]
            retry: {max_attempts: 3, backoff: {kind: none}, target: next}
          strict:
            chain: [alpha, beta]
            on_malformed_event: fail
          idle:
            chain: [alpha, beta]
            timeouts: {idle_s: 0.3}
          long:
            chain: [alpha, beta]
            retry: {backoff: {kind: none}}
            context_window_fallbacks: [big]
          held:
            chain: [alpha, beta]
            retry: {backoff: {kind: none}, target: next}
            timeouts: {idle_s: 0.3}
            on_malformed_event: fail
            stream_commit: {complete: true}
          brief:
            chain: [alpha, beta]
            stream_commit: {after_s: 0.5}
          bulk:
            chain: [alpha, beta]
        teams:
          search: {route: chat, arrivals: {poisson: {rate_per_s: 1}}, input_tokens: 100, output_tokens: 10}
          batch:
            route: chat
            arrivals: {poisson: {rate_per_s: 1}}
            input_tokens: 100
            output_tokens: 10
            budget: {usd: 0.000001, period: day, mode: degrade, degrade_to: strict}
        deployment:
          listen: 127.0.0.1:0
          upstreams:
            alpha: {base_url: "http://127.0.0.1:{PORT:alpha}/v1", model: alpha-1}
            beta: {base_url: "http://127.0.0.1:{PORT:beta}/v1", model: beta-1}
            big: {base_url: "http://127.0.0.1:{PORT:big}/v1", model: big-1}
          keys: {search: ["{SEARCH}"], batch: ["{BATCH}"]}
          decision_log: {path: "{DIR}/decisions.jsonl"}
          spend_database: none
          stream_buffer_max_bytes: 65536
        """

    /// A prompt of about 100 tokens (4 characters each): over alpha's and beta's 50-token window.
    static let longPrompt = String(repeating: "word ", count: 80)

    func live(alpha: [String] = []) async throws -> LiveGateway {
        try await LiveGateway(
            mocks: ["alpha": ["--context-window-tokens", "50"] + alpha, "beta": ["--context-window-tokens", "50"], "big": []], spec: Self.spec)
    }

    @Test("a stream complete but for its [DONE] (the finish came, the body ended cleanly): the client gets the whole answer and a [DONE], counted")
    func completeWithoutDone() async throws {
        let gateway = try await live()
        try await gateway.use { gateway in
            try await gateway.fault("alpha", "stream_no_done")
            let reply = try await gateway.chat(stream: true)
            #expect(reply.status == 200 && reply.header("x-brownout-upstream") == "alpha" && reply.body.contains("end."))
            #expect(reply.body.sseData.last == "[DONE]" && !reply.body.contains("\"error\""), "\(reply.body.sseData.suffix(2))")
            let metrics = try await gateway.metrics()
            #expect(metrics.contains(#"brownout_stream_repairs_total{upstream="alpha",repair="completed_without_done"} 1"#))
            #expect(metrics.contains(#"brownout_requests_total{team="search",result="success"} 1"#))
            #expect(try await gateway.stats("beta").requests == 0)
        }
    }

    @Test(
        "one malformed event inside a good stream: dropped (never reaching the client) and the answer completes; with on_malformed_event: fail, the stream ends with an error event"
    )
    func malformedEvent() async throws {
        let gateway = try await live()
        try await gateway.use { gateway in
            try await gateway.fault("alpha", "stream_extra_malformed")
            let dropped = try await gateway.chat(stream: true)
            #expect(dropped.status == 200 && dropped.body.contains("end.") && dropped.body.sseData.last == "[DONE]")
            #expect(!dropped.body.contains("broken"), "the malformed event never reaches the client")
            #expect(try await gateway.metrics().contains(#"brownout_stream_repairs_total{upstream="alpha",repair="malformed_event_dropped"} 1"#))
            try await gateway.fault("alpha", "stream_extra_malformed")
            let failed = try await gateway.chat(model: "strict", stream: true)
            #expect(failed.status == 200 && !failed.body.contains("broken") && !failed.body.contains("end."))
            #expect(!failed.body.sseData.contains("[DONE]") && failed.body.sseData.last?.contains("stream_interrupted") == true)
        }
    }

    @Test(
        "a budget that degrades a request to another route: the stream follows the rules of the route in force (strict's on_malformed_event: fail), not the route asked for"
    )
    func degradedRouteStreamRules() async throws {
        let gateway = try await live()
        try await gateway.use { gateway in
            try await gateway.fault("alpha", "stream_extra_malformed")
            let degraded = try await gateway.chat(stream: true, key: LiveGateway.batchKey)
            #expect(degraded.status == 200 && !degraded.body.contains("broken") && !degraded.body.contains("end."))
            #expect(degraded.header("x-brownout-route") == "strict")
            #expect(degraded.body.sseData.last?.contains("stream_interrupted") == true, "\(degraded.body.sseData.suffix(2))")
            let kept = try await gateway.chat(stream: true)
            #expect(kept.status == 200 && kept.header("x-brownout-route") == nil)
            let sends = try await gateway.decisions { $0.contains { $0.contains("budget_degraded") } }
            #expect(sends.contains { $0.contains("budget_degraded") && $0.contains(#""route":"strict""#) }, "\(sends)")
        }
    }

    @Test(
        "same then next: a single 500 or 429 is retried on the target that sent it; a persistent 503 takes one retry there, then the chain; target: next skips at once"
    )
    func sameThenNext() async throws {
        let gateway = try await live()
        try await gateway.use { gateway in
            try await gateway.fault("alpha", "server_error")
            let once = try await gateway.chat()
            #expect(once.status == 200 && once.header("x-brownout-upstream") == "alpha" && once.header("x-brownout-attempts") == "2")
            try await gateway.fault("alpha", "rate_limited")
            let limited = try await gateway.chat()
            #expect(limited.status == 200 && limited.header("x-brownout-upstream") == "alpha" && limited.header("x-brownout-attempts") == "2")
            #expect(limited.seconds >= 1, "the retry waited out the mock's Retry-After of 1 s: \(limited.seconds) s")
            try await gateway.fault("alpha", "unavailable", count: 10)
            let persistent = try await gateway.chat()
            #expect(persistent.status == 200 && persistent.header("x-brownout-upstream") == "beta" && persistent.header("x-brownout-attempts") == "3")
            let next = try await gateway.chat(model: "nextonly")
            #expect(next.status == 200 && next.header("x-brownout-upstream") == "beta" && next.header("x-brownout-attempts") == "2")
            // alpha: 2 + 2 + 2 + 1 requests; the retries that went back to it say why.
            #expect(try await gateway.stats("alpha").requests == 7)
            let sends = try await gateway.decisions { $0.filter { $0.contains("same_target") }.count == 3 }
            #expect(sends.filter { $0.contains("same_target") }.count == 3, "\(sends)")
        }
    }

    @Test(
        "a context-length refusal goes to the route's larger-context target; without one, and for a content filter, the refusal is passed back unchanged"
    )
    func contextWindowFallback() async throws {
        let gateway = try await live()
        try await gateway.use { gateway in
            let rescued = try await gateway.chat(model: "long", content: Self.longPrompt)
            #expect(rescued.status == 200 && rescued.header("x-brownout-upstream") == "big" && rescued.header("x-brownout-attempts") == "2")
            let streamed = try await gateway.chat(model: "long", stream: true, content: Self.longPrompt)
            #expect(streamed.status == 200 && streamed.header("x-brownout-upstream") == "big" && streamed.body.sseData.last == "[DONE]")
            let passedBack = try await gateway.chat(content: Self.longPrompt)
            #expect(
                passedBack.status == 400 && passedBack.body.contains("context_length_exceeded") && passedBack.header("x-brownout-attempts") == "1")
            try await gateway.fault("alpha", "content_filter")
            let filtered = try await gateway.chat(model: "long")
            #expect(filtered.status == 400 && filtered.body.contains("content_filter") && filtered.header("x-brownout-attempts") == "1")
            let (big, beta) = (try await gateway.stats("big"), try await gateway.stats("beta"))
            #expect(big.requests == 2 && beta.requests == 0)
            let lines = try await gateway.decisions { $0.filter { $0.contains("context_window_fallback") }.count == 2 }
            #expect(lines.filter { $0.contains("context_window_fallback") && $0.contains(#""target":"big""#) }.count == 2)
        }
    }

    @Test("a stream that stalls after its first tokens is cut at its idle limit, not at the attempt's end: an error event, counted")
    func idleLimit() async throws {
        let gateway = try await live(alpha: ["--hang-seconds", "600"])
        try await gateway.use { gateway in
            try await gateway.fault("alpha", "stream_stall")
            // The route has no per-try limit and the overall default of 600 s: only the idle
            // limit (0.3 s) can end this within the client's 60 s.
            let reply = try await gateway.chat(model: "idle", stream: true)
            #expect(reply.status == 200 && reply.body.sseData.first?.contains("w0 ") == true)
            #expect(!reply.body.sseData.contains("[DONE]") && reply.body.sseData.last?.contains("stream_interrupted") == true)
            #expect(reply.seconds >= 0.3)
            let metrics = try await gateway.metrics()
            #expect(metrics.contains(#"brownout_stream_repairs_total{upstream="alpha",repair="idle_cut"} 1"#))
            #expect(metrics.contains(#"brownout_attempts_total{upstream="alpha",outcome="failed_after_first_byte"} 1"#))
        }
    }

    @Test(
        "with the whole answer held (stream_commit: complete), every fault inside a stream fails over before the client sees a byte",
        arguments: ["stream_cut", "stream_stall", "stream_malformed", "stream_extra_malformed"])
    func heldAnswerFailsOver(fault: String) async throws {
        // A stall lasts 10 s at the mock: the route's idle limit (0.3 s) ends it long before.
        let gateway = try await live(alpha: ["--hang-seconds", "10"])
        try await gateway.use { gateway in
            try await gateway.fault("alpha", fault)
            let reply = try await gateway.chat(model: "held", stream: true)
            #expect(reply.status == 200 && reply.header("x-brownout-upstream") == "beta" && reply.header("x-brownout-attempts") == "2")
            #expect(reply.body.sseData.last == "[DONE]" && reply.body.contains("end.") && !reply.body.contains("\"error\""))
            #expect(!reply.body.contains("alpha-1") && !reply.body.contains("broken"), "nothing of the held attempt reaches the client")
            let healthy = try await gateway.chat(model: "held", stream: true)
            #expect(healthy.header("x-brownout-upstream") == "alpha" && healthy.body.sseData.last == "[DONE]", "a healthy answer is relayed whole")
        }
    }

    @Test("a hold by time delays the client's first byte by the held interval, and the answer is the same")
    func holdByTime() async throws {
        // 16 tokens at 10 a second: the first at once, the answer complete after 1.5 s.
        let gateway = try await live(alpha: ["--tokens-per-second", "10"])
        try await gateway.use { gateway in
            let request = gateway.chatRequest(#"{"model": "brief", "stream": true, "messages": [{"role": "user", "content": "Say something."}]}"#)
            let sent = ContinuousClock.now
            let response = try await LiveGateway.client.execute(request, timeout: .seconds(30))
            var body = ByteBuffer()
            var firstByte: Duration?
            for try await var part in response.body {
                if firstByte == nil { firstByte = sent.duration(to: .now) }
                body.writeBuffer(&part)
            }
            let text = String(buffer: body)
            #expect(response.status == .ok && text.sseData.last == "[DONE]" && text.contains("end.") && text.contains("w0 "))
            #expect(try #require(firstByte) >= .milliseconds(500), "the first byte waited for the hold")
        }
    }

    @Test("a client that leaves before its first byte: its attempt is cancelled then, and nothing is sent after", arguments: [false, true])
    func clientLeavesEarly(stream: Bool) async throws {
        let gateway = try await live(alpha: ["--slow-first-token-seconds", "3"])
        try await gateway.use { gateway in
            // Alpha's first token would come after 3 s; the route's first-token limit, 2 s,
            // would send to beta then if the gateway had not noticed the client leave at 0.3 s.
            try await gateway.fault("alpha", "slow_first_token")
            let request = gateway.chatRequest(
                #"{"model": "chat", "stream": \#(stream), "messages": [{"role": "user", "content": "Say something."}]}"#)
            await #expect(throws: (any Error).self) { _ = try await LiveGateway.client.execute(request, timeout: .milliseconds(300)) }
            try await Task.sleep(for: .seconds(3.5))
            let alpha = try await gateway.stats("alpha")
            #expect(alpha.requests == 1 && alpha.cancelled == 1 && alpha.completed == 0, "\(alpha)")
            #expect(try await gateway.stats("beta").requests == 0, "nothing is sent for a client that has left")
            let metrics = try await gateway.metrics()
            #expect(
                metrics.contains(#"brownout_attempts_total{upstream="alpha",outcome="cancelled"} 1"#)
                    && metrics.contains("brownout_in_flight_requests 0"))
        }
    }

    @Test("a client that stops reading a long stream is cut once the gateway holds 64 KiB for it, counted, and the request ends")
    func slowReader() async throws {
        // 400,000 tokens as fast as the mock writes them: tens of megabytes.
        let gateway = try await live(alpha: ["--output-tokens", "400000"])
        try await gateway.use { gateway in
            // A client with a 4 KiB receive buffer that reads the head and a little, then nothing:
            // the kernel holds a few kilobytes for it, so what the gateway holds grows at once.
            // Route bulk sets no per-try limit: only the cut can end this.
            let body = #"{"model": "bulk", "stream": true, "max_tokens": 400000, "messages": [{"role": "user", "content": "Say something."}]}"#
            let reader = try LoopbackSocket(port: gateway.gateway!.port, receiveBufferBytes: 4_096)
            try reader.send(
                "POST /v1/chat/completions HTTP/1.1\r\nhost: 127.0.0.1\r\nauthorization: Bearer \(LiveGateway.searchKey)\r\n"
                    + "content-type: application/json\r\ncontent-length: \(body.utf8.count)\r\n\r\n" + body)
            #expect(String(decoding: reader.receive(upTo: 1_024) ?? [], as: UTF8.self).hasPrefix("HTTP/1.1 200"))
            var metrics = try await gateway.metrics()
            for _ in 0..<300 where !metrics.contains("brownout_slow_clients_cut_total 1") {
                try await Task.sleep(for: .milliseconds(100))
                metrics = try await gateway.metrics()
            }
            #expect(metrics.contains("brownout_slow_clients_cut_total 1"))
            // The request is over for the gateway (its attempt cancelled, or ended if the mock
            // had already written all of it): nothing is held for it any more.
            for _ in 0..<50 where !metrics.contains("brownout_in_flight_requests 0") {
                try await Task.sleep(for: .milliseconds(100))
                metrics = try await gateway.metrics()
            }
            #expect(metrics.contains("brownout_in_flight_requests 0"))
        }
    }
}
