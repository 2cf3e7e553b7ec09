import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import LiveGatewaySupport
import ProcessTestSupport
import Testing

/// The production gateway over real loopback HTTP against the fault-injecting mock: each
/// test injects one fault the incident write-ups describe and checks what the client gets.
/// No assert here reads how fast the machine is: that a limit fired is shown by who answered
/// (the next target, not the slow one) and by the decisions logged; only lower bounds on
/// elapsed time remain (a wait is never shorter than asked). The timing rules themselves are
/// tested in process on an injected clock (`RequestConductTests`).
@Suite("brownout-gateway under upstream faults", .serialized, .timeLimit(.minutes(5)))
struct GatewayFaultTests {
    static let spec = """
        name: gateway-test
        run: {duration_s: 60}
        providers:
          alpha: {concurrency: 10, ttft_s: 0.5, output_tokens_per_s: 50, input_usd_per_mtok: 3, output_usd_per_mtok: 15}
          beta: {concurrency: 10, ttft_s: 0.5, output_tokens_per_s: 50, input_usd_per_mtok: 1, output_usd_per_mtok: 5}
        pools:
          local: {replicas: 1, concurrency_per_replica: 4, gpus_per_replica: 2, replica_output_tokens_per_s: 100, ttft_s: 0.2, gpu_usd_per_hour: 4}
        gateway:
          breaker: {consecutive_failures: 3, open_s: 1}
        routes:
          chat:
            chain: [alpha, beta]
            retry: {max_attempts: 3, backoff: {kind: none}, retry_after_cap_s: 2}
            timeouts: {first_token_s: 0.5, per_try_s: 2, overall_s: 4}
          solo:
            chain: [alpha]
            retry: {max_attempts: 2, backoff: {kind: exponential, base_s: 0.05, cap_s: 0.05}, retry_after_cap_s: 2, target: same}
          hedged:
            chain: [alpha, beta]
            hedging: {after_s: 0.2}
          degraded:
            chain: [alpha, beta]
            retry: {max_attempts: 3, backoff: {kind: none}}
            fallback: {pools: [local]}
        teams:
          search: {tier: 0, route: chat, arrivals: {poisson: {rate_per_s: 1}}, input_tokens: 100, output_tokens: 10}
          batch: {tier: 1, route: chat, arrivals: {poisson: {rate_per_s: 1}}, input_tokens: 100, output_tokens: 10, budget: {usd: 0.01, period: day}}
        deployment:
          listen: 127.0.0.1:0
          upstreams:
            alpha: {base_url: "http://127.0.0.1:{PORT:alpha}/v1", model: alpha-1}
            beta: {base_url: "http://127.0.0.1:{PORT:beta}/v1", model: beta-1}
            local: {base_url: "http://127.0.0.1:{PORT:local}/v1", model: llama}
          keys: {search: ["{SEARCH}"], batch: ["{BATCH}"]}
          team_routes: {batch: [chat]}
          decision_log: {path: "{DIR}/decisions.jsonl"}
          spend_database: "{DIR}/spend.sqlite"
        """

    func live() async throws -> LiveGateway {
        try await LiveGateway(mocks: ["alpha": [], "beta": [], "local": []], spec: Self.spec)
    }

    @Test("a healthy upstream: whole and streamed answers, with the explaining headers")
    func healthy() async throws {
        let gateway = try await live()
        try await gateway.use { gateway in
            let whole = try await gateway.chat()
            #expect(whole.status == 200 && whole.body.contains("end.") && whole.body.contains("alpha-1"))
            #expect(
                whole.header("x-brownout-upstream") == "alpha" && whole.header("x-brownout-attempts") == "1"
                    && whole.header("x-brownout-degraded") == "false")
            #expect(whole.header("x-brownout-request-id") != nil && Double(whole.header("x-brownout-overhead-ms") ?? "") != nil)
            let stream = try await gateway.chat(stream: true)
            #expect(stream.status == 200 && stream.header("content-type") == "text/event-stream")
            #expect(stream.body.sseData.last == "[DONE]" && stream.body.contains("end."))
            #expect(!stream.body.contains("\"usage\""), "usage only when the client asks for it")
            let withUsage = try await gateway.chat(stream: true, includeUsage: true)
            let usageChunk = withUsage.body.sseData.dropLast().last ?? ""
            #expect(usageChunk.contains("\"usage\"") && usageChunk.contains("\"choices\":[]") && withUsage.body.sseData.last == "[DONE]")
            let models = try await gateway.call("/v1/models", port: gateway.gateway!.port, method: .GET, key: LiveGateway.searchKey)
            #expect(models.body.contains(#""id":"chat""#) && models.body.contains(#""id":"hedged""#))
            // The metrics: every series from the start, the retry budgets' balance, a fixed order.
            let metrics = try await gateway.metrics()
            #expect(metrics.contains(#"brownout_requests_total{team="search",result="success"} 3"#))
            #expect(metrics.contains(#"brownout_attempts_total{upstream="beta",outcome="overloaded_529"} 0"#))
            #expect(metrics.contains(#"brownout_retry_budget_balance{route="chat",kind="finagle"} 100.0"#), "10 retries/s × 10 s, none spent")
            #expect(metrics.contains(#"brownout_in_flight_requests 0"#) && metrics.contains("brownout_gateway_overhead_seconds_count 3"))
            let families = metrics.split(separator: "\n").filter { $0.hasPrefix("# TYPE") }
            #expect(families == families.sorted() && families.count == 24, "\(families)")
            #expect(metrics.contains("brownout_ledger_rows_spooled 0") && metrics.contains("brownout_ledger_database_round_trips_total 0"))
            #expect(
                metrics.contains(#"brownout_log_lines_lost_total{log="decision_log"} 0"#)
                    && metrics.contains(#"brownout_log_lines_lost_total{log="trace"} 0"#))
            #expect(try await gateway.metrics() == metrics, "the same state renders to the same bytes")
        }
    }

    @Test("streamed and whole answers reuse the upstream connection (the rest of a stream after [DONE] is read, not dropped)")
    func connectionReuse() async throws {
        let gateway = try await live()
        try await gateway.use { gateway in
            for i in 0..<20 {
                let reply = try await gateway.chat(stream: i % 4 != 3)
                #expect(reply.status == 200)
            }
            // One connection, or two: the client may ask again before the last chunk of a stream
            // (after [DONE]) has reached the gateway, and then the pool opens a second. A stream
            // that dropped its connection at [DONE] made it 16 or so.
            let stats = try await gateway.stats("alpha")
            #expect(stats.requests == 20 && stats.connections <= 2, "\(stats)")
        }
    }

    @Test("a client that goes away mid-stream: the upstream request is cancelled, and the request ends (an error, nothing left in flight)")
    func clientGoesAway() async throws {
        // 16 tokens at 10 a second: the client leaves after the first, 1.5 s before the end.
        let gateway = try await LiveGateway(mocks: ["alpha": ["--tokens-per-second", "10"], "beta": [], "local": []], spec: Self.spec)
        try await gateway.use { gateway in
            let request = gateway.chatRequest(#"{"model": "chat", "stream": true, "messages": [{"role": "user", "content": "Say something."}]}"#)
            let response = try await LiveGateway.client.execute(request, timeout: .seconds(30))
            var frames = response.body.makeAsyncIterator()
            let first = try await frames.next()
            #expect(response.status == .ok && first.map { String(buffer: $0).contains("content") } == true)
            // Dropping the body closes the connection; the gateway learns it at its next write.
            _ = consume frames
            _ = consume response
            var stats = try await gateway.stats("alpha")
            for _ in 0..<30 where stats.cancelled == 0 {
                try await Task.sleep(for: .milliseconds(50))
                stats = try await gateway.stats("alpha")
            }
            #expect(stats.requests == 1 && stats.cancelled == 1 && stats.completed == 0, "\(stats)")
            let metrics = try await gateway.metrics()
            #expect(metrics.contains(#"brownout_attempts_total{upstream="alpha",outcome="cancelled"} 1"#))
            #expect(
                metrics.contains(#"brownout_requests_total{team="search",result="error"} 1"#) && metrics.contains("brownout_in_flight_requests 0"))
        }
    }

    @Test("keys: none or unknown is 401, a model the team may not use 403, an unknown model 404")
    func keysAndModels() async throws {
        let gateway = try await live()
        try await gateway.use { gateway in
            let none = try await gateway.chat(key: nil)
            #expect(
                none.status == 401 && none.header("x-brownout-request-id") != nil && none.header("x-brownout-attempts") == "0"
                    && none.header("x-brownout-overhead-ms") != nil,
                "every error carries the explaining headers")
            let unknown = try await gateway.chat(key: "sk-nobody")
            #expect(unknown.status == 401 && unknown.body.contains("invalid_api_key"))
            #expect(try await gateway.chat(model: "hedged", key: LiveGateway.batchKey).status == 403)
            let missing = try await gateway.chat(model: "caht")
            #expect(missing.status == 404 && missing.body.contains("did you mean 'chat'") && missing.header("x-brownout-attempts") == "0")
            let batchModels = try await gateway.call("/v1/models", port: gateway.gateway!.port, method: .GET, key: LiveGateway.batchKey)
            #expect(batchModels.body.contains(#""id":"chat""#) && !batchModels.body.contains("hedged"))
            #expect(try await gateway.stats("alpha").requests == 0, "refused requests never reach an upstream")
        }
    }

    @Test("request bodies: chunked or with a length, in pieces, on a reused connection; over 16 MiB is 413")
    func requestBodies() async throws {
        let gateway = try await live()
        try await gateway.use { gateway in
            let body = Data(#"{"model": "chat", "max_tokens": 8, "messages": [{"role": "user", "content": "Say something."}]}"#.utf8)
            // In three pieces 50 ms apart: without a length (chunked), and with one (the gateway
            // stops reading at the declared length; the end marker is read after the answer).
            for declared in [false, true] {
                let pieces = [body.prefix(20), body.dropFirst(20).prefix(30), body.dropFirst(50)].map { ByteBuffer(bytes: $0) }
                let stream = AsyncStream<ByteBuffer> { continuation in
                    Task {
                        for piece in pieces {
                            continuation.yield(piece)
                            try? await Task.sleep(for: .milliseconds(50))
                        }
                        continuation.finish()
                    }
                }
                var request = HTTPClientRequest(url: "http://127.0.0.1:\(gateway.gateway!.port)/v1/chat/completions")
                request.method = .POST
                request.headers.add(name: "authorization", value: "Bearer \(LiveGateway.searchKey)")
                request.body = .stream(stream, length: declared ? .known(Int64(body.count)) : .unknown)
                let response = try await LiveGateway.client.execute(request, timeout: .seconds(30))
                let answer = try await response.body.collect(upTo: 1 << 20)
                #expect(response.status == .ok && String(buffer: answer).contains("end."), "length declared: \(declared)")
            }
            // Sequential requests reuse the pooled connection: each finds its own head after the
            // previous request's unread end marker.
            for _ in 0..<5 { #expect(try await gateway.chat().status == 200) }
            let tooLarge = try await gateway.call(
                "/v1/chat/completions", port: gateway.gateway!.port, body: Data(count: (16 << 20) + 1), key: LiveGateway.searchKey)
            #expect(tooLarge.status == 413 && tooLarge.body.contains("16 MiB"))
            #expect(try await gateway.chat().status == 200)
            #expect(try await gateway.stats("alpha").requests == 8)
        }
    }

    @Test("500 once: the same target answers the retry; 500 everywhere: 502 naming the upstream's reason")
    func serverErrors() async throws {
        let gateway = try await live()
        try await gateway.use { gateway in
            try await gateway.fault("alpha", "server_error")
            let once = try await gateway.chat()
            #expect(once.status == 200 && once.header("x-brownout-upstream") == "alpha" && once.header("x-brownout-attempts") == "2")
            try await gateway.defaultFault("alpha", "unavailable")
            try await gateway.defaultFault("beta", "unavailable")
            let everywhere = try await gateway.chat()
            #expect(everywhere.status == 502 && everywhere.body.contains("service unavailable") && everywhere.header("x-brownout-attempts") == "3")
            #expect(everywhere.header("x-brownout-failure") == "server_error_5xx", "the simulator's label for the same ending")
            #expect(once.header("x-brownout-failure") == nil)
        }
    }

    @Test("a connection reset before the headers is retried once on the same target, then fails over")
    func reset() async throws {
        let gateway = try await live()
        try await gateway.use { gateway in
            try await gateway.fault("alpha", "reset")
            let once = try await gateway.chat(stream: true)
            #expect(once.status == 200 && once.header("x-brownout-upstream") == "alpha" && once.header("x-brownout-attempts") == "2")
            try await gateway.fault("alpha", "reset", count: 2)
            let reply = try await gateway.chat(stream: true)
            #expect(reply.status == 200 && reply.header("x-brownout-upstream") == "beta" && reply.body.sseData.last == "[DONE]")
            #expect(reply.header("x-brownout-attempts") == "3")
        }
    }

    @Test("429 with Retry-After is waited out before the retry; without it, the backoff decides")
    func retryAfter() async throws {
        let gateway = try await live()
        try await gateway.use { gateway in
            try await gateway.fault("alpha", "rate_limited")
            let honoured = try await gateway.chat(model: "solo")
            #expect(honoured.status == 200 && honoured.header("x-brownout-attempts") == "2")
            #expect(honoured.seconds >= 1.0, "the mock's Retry-After is 1 s; the retry came after \(honoured.seconds) s")
            try await gateway.fault("alpha", "rate_limited_no_retry_after")
            let backoff = try await gateway.chat(model: "solo")
            #expect(backoff.status == 200 && backoff.header("x-brownout-attempts") == "2")
            // The router's two waits, as logged: Retry-After's 1 s, then the route's 50 ms backoff.
            var waits: [Substring] = []
            for _ in 0..<30 where waits.count < 2 {
                try await Task.sleep(for: .milliseconds(100))
                waits = try String(contentsOf: gateway.directory.appendingPathComponent("decisions.jsonl"), encoding: .utf8)
                    .split(separator: "\n").filter { $0.contains(#""action":"wait""#) }
            }
            #expect(waits.count == 2 && waits[0].contains(#""delay_ns":1000000000"#) && waits[0].contains("retry_after_honoured"), "\(waits)")
            #expect(waits.count == 2 && waits[1].contains(#""delay_ns":50000000"#) && !waits[1].contains("retry_after_honoured"), "\(waits)")
        }
    }

    @Test("an upstream that never answers: the first-token limit fires and the next target answers; never past the overall deadline")
    func hang() async throws {
        let gateway = try await live()
        try await gateway.use { gateway in
            try await gateway.fault("alpha", "hang")
            let reply = try await gateway.chat()
            // Alpha never answers: beta's answer is the first-token limit's doing, never before 0.5 s.
            #expect(reply.status == 200 && reply.header("x-brownout-upstream") == "beta")
            #expect(reply.seconds >= 0.5, "\(reply.seconds) s")
            try await gateway.defaultFault("alpha", "hang")
            try await gateway.defaultFault("beta", "hang")
            let nobody = try await gateway.chat()
            #expect(nobody.status == 504 && nobody.body.contains("upstream_timeout"))
            #expect(nobody.header("x-brownout-failure") == "timeout")
            #expect(
                nobody.seconds >= 0.5 && nobody.seconds < 30,
                "the route's limits (0.5 s a first token, 4 s in all), not the mock's 30 s hang, ended it: \(nobody.seconds) s")
        }
    }

    @Test("a slow first token on a stream: the limit fires before any byte, and the stream comes from the next target")
    func slowFirstToken() async throws {
        let gateway = try await live()
        try await gateway.use { gateway in
            try await gateway.fault("alpha", "slow_first_token")
            let reply = try await gateway.chat(stream: true)
            #expect(reply.status == 200 && reply.header("x-brownout-upstream") == "beta" && reply.body.sseData.last == "[DONE]")
            #expect(!reply.body.contains("alpha-1"), "nothing of the abandoned attempt reaches the client")
        }
    }

    @Test(
        "a stream cut, stalled, or ending after a malformed event before its finish: an error event, never a clean [DONE], no failover",
        arguments: ["stream_cut", "stream_stall", "stream_malformed"])
    func brokenStream(fault: String) async throws {
        let gateway = try await live()
        try await gateway.use { gateway in
            try await gateway.fault("alpha", fault)
            let reply = try await gateway.chat(stream: true)
            let frames = reply.body.sseData
            #expect(reply.status == 200 && reply.header("x-brownout-upstream") == "alpha")
            #expect(frames.first?.contains("w0 ") == true, "the tokens sent before the fault reach the client")
            #expect(!frames.contains("[DONE]"), "a truncated answer must never look like a success")
            #expect(frames.last?.contains("\"error\"") == true, "the stream ends with an error event: \(frames.last ?? "")")
            #expect(!reply.body.contains("end."), "the mock's last token never came")
            #expect(try await gateway.stats("beta").requests == 0, "no failover after the first byte")
        }
    }

    @Test(
        "400 context length, content filter and spend-limit 429: not retried, the upstream's reason passed back unchanged",
        arguments: [
            ("context_length", 400, "context_length_exceeded", "client_error_4xx"), ("content_filter", 400, "content_filter", "client_error_4xx"),
            ("spend_limit", 429, "enforced_spend_limit_reached", "spend_limit_429"),
        ])
    func notRetried(fault: String, status: Int, code: String, label: String) async throws {
        let gateway = try await live()
        try await gateway.use { gateway in
            try await gateway.fault("alpha", fault)
            let reply = try await gateway.chat()
            #expect(reply.status == status && reply.body.contains(code) && reply.header("x-brownout-attempts") == "1")
            #expect(reply.header("x-brownout-failure") == label)
            #expect(try await gateway.stats("beta").requests == 0)
        }
    }

    @Test("a primary down for a while: its breaker opens, traffic skips it, and returns after a half-open probe")
    func breakerRecovery() async throws {
        let gateway = try await live()
        try await gateway.use { gateway in
            try await gateway.defaultFault("alpha", "server_error")
            for _ in 0..<3 { #expect(try await gateway.chat().header("x-brownout-upstream") == "beta") }
            #expect(try await gateway.metrics().contains(#"brownout_breaker_state{upstream="alpha"} 2"#))
            let before = try await gateway.stats("alpha").requests
            let skipped = try await gateway.chat()
            #expect(skipped.header("x-brownout-attempts") == "1" && skipped.header("x-brownout-upstream") == "beta")
            #expect(try await gateway.stats("alpha").requests == before, "an open breaker sends nothing to alpha")
            try await gateway.defaultFault("alpha", "none")
            try await Task.sleep(for: .seconds(1.2))
            let probe = try await gateway.chat()
            #expect(probe.header("x-brownout-upstream") == "alpha", "the half-open probe goes to alpha and succeeds")
            #expect(try await gateway.chat().header("x-brownout-upstream") == "alpha")
            #expect(try await gateway.metrics().contains(#"brownout_breaker_state{upstream="alpha"} 0"#))
        }
    }

    @Test("hedging: a slow primary is hedged, the hedge answers, and the primary's request is really cancelled")
    func hedging() async throws {
        let gateway = try await live()
        try await gateway.use { gateway in
            try await gateway.fault("alpha", "slow_first_token")
            let reply = try await gateway.chat(model: "hedged", stream: true)
            #expect(reply.status == 200 && reply.header("x-brownout-upstream") == "beta" && reply.header("x-brownout-attempts") == "2")
            #expect(reply.body.sseData.last == "[DONE]", "\(reply.body)")
            // The mock notices the cancelled request (it checks the connection every 50 ms): the
            // upstream stops working on it, and never completes it.
            var cancelled = 0
            for _ in 0..<250 where cancelled == 0 {
                try await Task.sleep(for: .milliseconds(20))
                cancelled = try await gateway.stats("alpha").cancelled
            }
            let alpha = try await gateway.stats("alpha")
            #expect(
                cancelled == 1 && alpha.completed == 0,
                "alpha: \(alpha.requests) requests, \(alpha.completed) completed, \(alpha.cancelled) cancelled")
            // The router hears of the cancelled primary too (its reservation and in-flight count
            // settle), then of the hedge's answer.
            // (The log is written out once a second.)
            var log: [Substring] = []
            for _ in 0..<30 where log.count < 4 {
                try await Task.sleep(for: .milliseconds(100))
                log = try String(contentsOf: gateway.directory.appendingPathComponent("decisions.jsonl"), encoding: .utf8).split(separator: "\n")
            }
            // In either order: the primary's cancel reported before the hedge's end, or the hedge's
            // completion first (naming the primary to cancel), then the primary's report.
            let cancelledFirst =
                log.count == 4 && log[2].contains(#""action":"none","attempt":1"#) && log[3].contains(#""action":"complete","attempt":2"#)
            let completedFirst =
                log.count == 4 && log[2].contains(#""action":"complete","attempt":2,"cancel_attempt":1"#)
                && log[3].contains(#""action":"none","attempt":1"#) && log[3].contains(#""reasons":["cancelled"]"#)
            #expect(cancelledFirst || completedFirst, "\(log)")
            // A whole answer: the hedge answers first, the router says which attempt to cancel,
            // and the cancelled primary still reports back after the client has its answer.
            try await gateway.fault("alpha", "slow_first_token")
            let whole = try await gateway.chat(model: "hedged")
            #expect(whole.status == 200 && whole.header("x-brownout-upstream") == "beta")
            var settled = false
            for _ in 0..<30 where !settled {
                try await Task.sleep(for: .milliseconds(100))
                let lines = try String(contentsOf: gateway.directory.appendingPathComponent("decisions.jsonl"), encoding: .utf8).split(
                    separator: "\n")
                settled =
                    lines.last?.contains(#""reasons":["cancelled"]"#) == true && lines.dropLast().last?.contains(#""action":"complete""#) == true
            }
            #expect(settled, "the cancelled primary's report reaches the router after the completion")
            // And the whole answer's losing request was really cancelled at the upstream too.
            for _ in 0..<50 where cancelled < 2 {
                try await Task.sleep(for: .milliseconds(100))
                cancelled = try await gateway.stats("alpha").cancelled
            }
            let after = try await gateway.stats("alpha")
            #expect(
                cancelled == 2,
                "alpha: \(after.requests) requests, \(after.completed) completed, \(after.cancelled) cancelled; the whole answer's loser was not cancelled"
            )
        }
    }

    @Test("both frontier upstreams down: once their breakers open, the local pool answers, marked degraded")
    func localFallback() async throws {
        let gateway = try await live()
        try await gateway.use { gateway in
            try await gateway.defaultFault("alpha", "server_error")
            try await gateway.defaultFault("beta", "server_error")
            // Three failures in a row open a breaker: within two requests (three attempts each)
            // both frontier targets are open, and the route's pool takes the next one.
            var replies: [LiveGateway.Reply] = []
            for _ in 0..<2 { replies.append(try await gateway.chat(model: "degraded")) }
            let spentBefore = try await gateway.spend(team: "search")
            let started = ContinuousClock.now
            replies.append(try await gateway.chat(model: "degraded"))
            let elapsed = started.duration(to: .now)
            #expect(replies.prefix(2).allSatisfy { $0.status == 502 })
            // Chargeback: the pool's answer costs its share of the replica's GPUs (2 GPUs shared
            // by 4 requests, $4 a GPU-hour) for the time the gateway waited on it: more than
            // nothing, and no more than the whole request took.
            let gpuUSD = try await gateway.spend(team: "search") - spentBefore
            let bound = (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18) * 2 / 4 * 4 / 3600
            #expect(gpuUSD > 0 && gpuUSD <= bound, "GPU spend \(gpuUSD), at most \(bound)")
            let degraded = replies[2]
            #expect(degraded.status == 200 && degraded.header("x-brownout-upstream") == "local" && degraded.header("x-brownout-degraded") == "true")
            #expect(degraded.body.contains("llama"))
            #expect(try await gateway.metrics().contains("brownout_fallback_requests_total 1"))
            #expect(try await gateway.stats("local").requests == 1, "the pool is not used while the frontier is merely failing")
        }
    }

    @Test("a small budget under 40 parallel requests is never overspent, and survives a restart")
    func budgetUnderConcurrency() async throws {
        let gateway = try await live()
        try await gateway.use { gateway in
            // Each answer costs 16 output tokens at alpha's price; the budget is $0.01, and the
            // worst case (64 output tokens) is reserved before each attempt.
            let answers = try await withThrowingTaskGroup(of: (Int, String?).self) { group in
                for _ in 0..<40 {
                    group.addTask {
                        let reply = try await gateway.chat(key: LiveGateway.batchKey); return (reply.status, reply.header("x-brownout-failure"))
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            let replies = answers.map(\.0)
            let served = replies.filter { $0 == 200 }.count
            #expect(served > 0 && replies.contains(429), "\(replies)")
            #expect(answers.allSatisfy { $0.0 == 200 ? $0.1 == nil : $0.1 == "budget_exhausted" }, "\(answers)")
            let spent = try await Self.spend(of: "batch", in: gateway)
            #expect(spent > 0 && spent <= 0.01 + 1e-12, "spent \(spent) of $0.01")
            // A restart: the day's spend comes back from the spend database, so the budget is not
            // spent a second time.
            await gateway.stopGateway()
            #expect(FileManager.default.fileExists(atPath: gateway.directory.appendingPathComponent("spend.sqlite").path))
            try await gateway.startGateway()
            let again = try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<40 { group.addTask { try await gateway.chat(key: LiveGateway.batchKey).status } }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            let spentAgain = try await Self.spend(of: "batch", in: gateway)
            #expect(spent + spentAgain <= 0.01 + 1e-12, "spent \(spent) before the restart and \(spentAgain) after, of $0.01 for the day")
            #expect(again.contains(429))
        }
    }

    static func spend(of team: String, in gateway: LiveGateway) async throws -> Double {
        let metrics = try await gateway.metrics()
        return metrics.split(separator: "\n").first { $0.hasPrefix("brownout_team_spend_usd{team=\"\(team)\"}") }.flatMap {
            Double($0.split(separator: " ").last!)
        } ?? -1
    }

    /// The router's concurrency limits are the gateway's: the HTTP client must not cap the
    /// connections to one host (AsyncHTTPClient's default is 8), or attempts would queue inside
    /// it, unseen by the router.
    @Test("24 slow answers at once all reach the upstream at once")
    func manyAtOnce() async throws {
        let gateway = try await LiveGateway(mocks: ["alpha": ["--first-token-seconds", "1"], "beta": [], "local": []], spec: Self.spec)
        try await gateway.use { gateway in
            try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<24 { group.addTask { try await gateway.chat(model: "degraded").status } }
                for try await status in group { #expect(status == 200) }
            }
            let stats = try await gateway.stats("alpha")
            #expect(stats.requests == 24 && stats.maxConcurrent == 24, "\(stats)")
        }
    }

    @Test("every router call is one line of the decision log")
    func decisionLog() async throws {
        let gateway = try await live()
        try await gateway.use { gateway in
            try await gateway.fault("alpha", "server_error")
            _ = try await gateway.chat()
            // Lines are written every second and on shutdown: stopping the gateway writes them.
            await gateway.stopGateway()
            let lines = try String(contentsOf: gateway.directory.appendingPathComponent("decisions.jsonl"), encoding: .utf8).split(separator: "\n")
            try #require(lines.count == 3, "begin → send alpha, alpha failed → send alpha again, alpha answered → complete")
            #expect(lines[0].contains(#""action":"send""#) && lines[0].contains(#""target":"alpha""#))
            #expect(
                lines[1].contains(#""action":"send""#) && lines[1].contains(#""target":"alpha""#) && lines[1].contains("retry")
                    && lines[1].contains("same_target"))
            #expect(lines[2].contains(#""action":"complete""#))
        }
    }
}
