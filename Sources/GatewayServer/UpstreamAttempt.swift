import AsyncHTTPClient
import ConfigSchema
import Foundation
import GatewayConduct
import NIOCore
import NIOHTTP1
import RoutingCore

/// One attempt at one upstream: sends the request, enforces the attempt's first-token and
/// total limits, classifies how it ended, and (streaming) forwards the answer once this
/// attempt is the one the client gets.
final class UpstreamAttempt: Sendable {
    let client: HTTPClient
    /// The target this upstream is, and where its streams' repairs are counted.
    let target: TargetID
    let metrics: GatewayMetrics
    /// The router's time scale: the limits are in its time, and so is what is measured.
    let routerTime: RouterTime
    /// The request to the upstream's chat completions endpoint, its API key included, built
    /// once; each attempt adds its body.
    private let request: HTTPClient.Request
    /// The upstream's model name as a JSON string, for the body.
    private let quotedModel: String
    /// The API the upstream speaks: an Anthropic upstream's requests and answers are translated.
    let upstreamProtocol: APIProtocol
    private let model: String

    init(
        client: HTTPClient, upstream: DeploymentConfig.Upstream, target: TargetID, apiKey: String?, routerTime: RouterTime, metrics: GatewayMetrics
    ) throws {
        self.client = client
        self.target = target
        self.metrics = metrics
        self.routerTime = routerTime
        upstreamProtocol = upstream.apiProtocol
        model = upstream.model
        quotedModel = JSONText.quoted(upstream.model)
        var headers: HTTPHeaders = ["content-type": "application/json"]
        let url: String
        switch upstream.apiProtocol {
        case .openai:
            url = upstream.baseURL + "/chat/completions"
            if let apiKey { headers.add(name: "authorization", value: "Bearer \(apiKey)") }
        case .anthropic:
            url = upstream.baseURL + "/messages"
            headers.add(name: "anthropic-version", value: ChatToMessagesRequest.anthropicVersion)
            if let apiKey { headers.add(name: "x-api-key", value: apiKey) }
        }
        do {
            request = try HTTPClient.Request(url: url, method: .POST, headers: headers)
        } catch {
            throw GatewayStartError(
                "deployment.upstreams.\(upstream.target).base_url: '\(upstream.baseURL)' is not a URL a request can be sent to (\(error))")
        }
    }

    /// What an attempt brings back besides its outcome.
    enum Reply: Sendable {
        case none
        /// A whole answer (non-streaming success).
        case whole(ByteBuffer)
        /// The upstream's own error, to pass back unchanged when the request fails on it.
        case upstreamError(GatewayError)
    }

    struct Ending: Sendable {
        var outcome: AttemptOutcome
        var reply: Reply
        /// From the send to the first token, when a stream produced one.
        var firstTokenNanoseconds: Int64?
        /// The upstream reported no usage for output it produced: the tokens billed are the
        /// gateway's count (a stream's relayed frames, a whole answer's text).
        var usageEstimated = false
    }

    /// Makes an attempt's ending from how it ended: outcome, Retry-After, the upstream's usage,
    /// reply, and what it had done.
    typealias Ended = @Sendable (OutcomeClass, Double?, (input: Int, output: Int)?, Reply, AttemptProgress) -> Ending

    /// The body this upstream is sent for `chat`: the client's, with the upstream's model name
    /// (and usage asked for), when the upstream speaks the client's API; else its translation.
    private func upstreamBody(_ chat: ClientRequest) throws(UntranslatableRequest) -> ByteBuffer {
        switch (chat.api, upstreamProtocol) {
        case (.openai, .openai), (.anthropic, .anthropic): chat.upstreamBody(quotedModel: quotedModel)
        case (.openai, .anthropic): try ChatToMessagesRequest.body(of: chat, model: model)
        case (.anthropic, .openai): try MessagesToChatRequest.body(of: chat, model: model)
        }
    }

    /// Runs a whole answer's attempt. `firstToken` is called when the answer has arrived, and
    /// says whether this attempt may answer the client. Its one limit (the conduct's, rule 7)
    /// is AsyncHTTPClient's deadline.
    /// `cancel`, when given, can cancel the exchange while it runs (a departed client).
    func run(
        _ chat: ClientRequest, attemptLimit: Int64?, cancel: InlineAttemptCancel? = nil, firstToken: @escaping @Sendable () -> Bool
    ) async -> Ending {
        let ended = endings(chat)
        let limit = attemptLimit.map { NIODeadline.now() + TimeAmount(routerTime.clock.realDuration(of: $0)) }
        do {
            return try await wholeExchange(chat, deadline: limit, cancel: cancel, firstToken: firstToken, ended: ended)
        } catch {
            return ended(Task.isCancelled ? .cancelled : Self.outcome(of: error, afterFirstByte: false), nil, nil, .none, AttemptProgress())
        }
    }

    /// How an attempt that AsyncHTTPClient failed ended: cancelled; timed out when its limit
    /// passed before its first byte, on the way or still waiting for a pooled connection;
    /// else broken — after the first byte reached the client, or a connection error before.
    static func outcome(of error: any Error, afterFirstByte: Bool) -> OutcomeClass {
        guard let error = error as? HTTPClientError else { return afterFirstByte ? .failedAfterFirstByte : .connectionError }
        if error == .cancelled { return .cancelled }
        if afterFirstByte { return .failedAfterFirstByte }
        return error == .deadlineExceeded || error == .getConnectionFromPoolTimeout ? .timeout : .connectionError
    }

    /// Starts a stream's attempt, relayed on the event loop (``StreamRelay``): `firstToken` is
    /// called at the first content frame and says whether this attempt answers the client; its
    /// frames go to `stream` from then on. `onEnd` gets the ending once. The first-token limit
    /// runs from the start to the first content frame (a timer on the event loop), the idle
    /// limit between frames after it, the attempt limit to the end (the request's deadline).
    /// Returns what cancels the attempt.
    func startStream(
        _ chat: ClientRequest, order: AttemptOrder, onMalformedEvent: MalformedEventPolicy, commit: StreamCommit,
        firstToken: @escaping @Sendable () -> Bool,
        stream: ClientStream?, onEnd: @escaping @Sendable (Ending) -> Void
    ) -> @Sendable () -> Void {
        let now = NIODeadline.now()
        var request = self.request
        do throws(UntranslatableRequest) {
            request.body = .byteBuffer(try upstreamBody(chat))
        } catch {
            // Refused as the upstream would refuse it, on the event loop as any ending comes.
            let ending = endings(chat)(.clientError, nil, nil, .upstreamError(error.error), AttemptProgress())
            client.eventLoopGroup.next().execute { onEnd(ending) }
            return {}
        }
        let (metrics, target) = (self.metrics, self.target)
        let conduct = StreamRelay.Conduct(
            onMalformedEvent: onMalformedEvent,
            idleLimit: order.idleLimitNanoseconds.map { TimeAmount(routerTime.clock.realDuration(of: $0)) },
            commit: commit,
            holdFor: commit.complete ? nil : commit.afterSeconds.map { TimeAmount(routerTime.clock.realDuration(of: Seconds.nanoseconds($0))) },
            repaired: { metrics.streamRepaired(upstream: target, $0) })
        let relay = StreamRelay(
            chat: chat, upstreamProtocol: upstreamProtocol, firstToken: firstToken, stream: stream, conduct: conduct, ended: endings(chat),
            onEnd: onEnd)
        let (firstTokenLimit, attemptLimit) = (order.firstTokenLimitNanoseconds, order.attemptLimitNanoseconds)
        let task = client.execute(
            request: request, delegate: relay, deadline: attemptLimit.map { now + TimeAmount(routerTime.clock.realDuration(of: $0)) })
        if let limit = firstTokenLimit, limit < attemptLimit ?? .max {
            relay.limitFirstToken(at: now + TimeAmount(routerTime.clock.realDuration(of: limit)), task: task)
        }
        return { task.cancel() }
    }

    /// How an attempt started now makes its ending: the time since the start in the router's
    /// time, the tokens (the upstream's usage, else what was forwarded), and for a stream the
    /// time to its first token.
    private func endings(_ chat: ClientRequest) -> Ended {
        let started = ContinuousClock.now
        let scale = routerTime.clock
        return { outcome, retryAfter, usage, reply, spent in
            let estimated = usage == nil && spent.firstTokenAt != nil
            let tokens = usage ?? (estimated ? (chat.estimatedInputTokens, spent.tokens) : (0, 0))
            // A first token is a stream's: a whole answer's "first output" is its end.
            let firstToken = chat.stream ? spent.firstTokenAt.map { scale.scaled(started.duration(to: $0)) } : nil
            var contextRefusal = false
            if outcome == .clientError, case .upstreamError(let error) = reply { contextRefusal = error.refusesContextLength }
            return Ending(
                outcome: AttemptOutcome(
                    outcome: outcome, latencyNanoseconds: scale.scaled(started.duration(to: .now)),
                    inputTokens: tokens.input, outputTokens: tokens.output, retryAfterSeconds: retryAfter,
                    contextWindowExceeded: contextRefusal), reply: reply,
                firstTokenNanoseconds: firstToken, usageEstimated: estimated)
        }
    }

    /// A whole answer's exchange, gathered on the event loop (``WholeAnswerCollector``);
    /// cancelling the attempt cancels the upstream request.
    private func wholeExchange(
        _ chat: ClientRequest, deadline: NIODeadline?, cancel: InlineAttemptCancel?, firstToken: @Sendable () -> Bool,
        ended: Ended
    ) async throws -> Ending {
        var request = self.request
        do throws(UntranslatableRequest) {
            request.body = .byteBuffer(try upstreamBody(chat))
        } catch {
            return ended(.clientError, nil, nil, .upstreamError(error.error), AttemptProgress())
        }
        let task = client.execute(request: request, delegate: WholeAnswerCollector(), deadline: deadline)
        cancel?.running { task.cancel() }
        defer { cancel?.running(nil) }
        let answer = try await withTaskCancellationHandler {
            try await task.futureResult.get()
        } onCancel: {
            task.cancel()
        }
        guard answer.status == 200, var body = answer.body else {
            return ended(
                UpstreamAttempt.classify(status: answer.status, body: answer.body), answer.retryAfterSeconds, nil,
                .upstreamError(UpstreamAttempt.upstreamError(status: answer.status, body: answer.body)), AttemptProgress())
        }
        // The answer in the client's API, the usage it bills, and (without usage) its output
        // counted from its text; a 200 that is not an answer of the upstream's API is the
        // upstream misbehaving, as any non-answer.
        var usage: (input: Int, output: Int)?
        var estimated: Int?
        var notAnAnswer: Ending {
            ended(
                .serverError, nil, nil,
                .upstreamError(
                    GatewayError(
                        status: 502, message: "the upstream answered 200 with a body that is not an answer of its API", type: "upstream_error",
                        code: "malformed_answer")), AttemptProgress())
        }
        switch (chat.api, upstreamProtocol) {
        case (.openai, .openai):
            usage = UsageReader.usage(ofAnswer: body)
            if usage == nil { estimated = UsageReader.estimatedOutputTokens(ofAnswer: body) }
        case (.openai, .anthropic):
            guard let translated = MessagesToChatAnswer.chatCompletion(of: body) else { return notAnAnswer }
            (body, usage) = translated
            if usage == nil { estimated = UsageReader.estimatedOutputTokens(ofAnswer: body) }
        case (.anthropic, .anthropic):
            // Passed on as it came: only its usage is read.
            usage = UsageReader.messagesUsage(ofAnswer: body)
            if usage == nil {
                guard let translated = MessagesToChatAnswer.chatCompletion(of: body) else { return notAnAnswer }
                estimated = UsageReader.estimatedOutputTokens(ofAnswer: translated.body)
            }
        case (.anthropic, .openai):
            usage = UsageReader.usage(ofAnswer: body)
            if usage == nil { estimated = UsageReader.estimatedOutputTokens(ofAnswer: body) }
            guard let translated = ChatToMessagesAnswer.message(of: body) else { return notAnAnswer }
            body = translated
        }
        var progress = AttemptProgress()
        progress.sawFirstToken()
        guard firstToken() else { return ended(.cancelled, nil, nil, .none, AttemptProgress()) }
        // Without the upstream's usage, the answer is billed by its text (and counted as estimated).
        if let estimated { progress.produced(tokens: estimated) }
        return ended(.success, nil, usage, .whole(body), progress)
    }

    /// How an upstream's answer other than 200 classifies: spend-limit 429s and other 4xx are
    /// the request's own fault (never retried); 429 is a rate limit, 529 an overload, other
    /// 5xx a server error. Any other status (a redirect, a 2xx other than 200, an unassigned
    /// code) is not an answer a chat completion gives: the upstream misbehaved, a server
    /// error (retried as the route says), never dressed as a refusal of the request.
    static func classify(status: Int, body: ByteBuffer?) -> OutcomeClass {
        switch status {
        case 429:
            let text = body.map { String(buffer: $0) } ?? ""
            return text.contains("enforced_spend_limit_reached") || text.contains("insufficient_quota") ? .spendLimit : .rateLimited
        case 529: return .overloaded
        case 500...599: return .serverError
        case 400...499: return .clientError
        default: return .serverError
        }
    }

    /// The upstream's error as its body gives it (OpenAI's and Anthropic's shapes both have
    /// `error.message` and `error.type`), else its body's text.
    static func upstreamError(status: Int, body: ByteBuffer?) -> GatewayError {
        guard (400...599).contains(status) else {
            return GatewayError(
                status: status, message: "the upstream answered HTTP \(status), which is not an answer to a chat completion", type: "upstream_error",
                code: "unexpected_status")
        }
        var error = GatewayError(status: status, message: body.map { String(buffer: $0) } ?? "upstream error \(status)", type: "upstream_error")
        body?.withUnsafeReadableBytes { bytes in
            guard let (scanner, object) = try? JSONScanner.object(in: bytes) else { return }
            try? scanner.forEachMember(of: object) { key, inner in
                guard scanner.key(key, is: "error"), inner.kind == .object else { return }
                try? scanner.forEachMember(of: inner) { key, value in
                    guard value.kind == .string, let text = try? scanner.string(value) else { return }
                    if scanner.key(key, is: "message") { error.message = text }
                    if scanner.key(key, is: "type") { error.type = text }
                    if scanner.key(key, is: "code") { error.code = text }
                    if scanner.key(key, is: "param") { error.param = text }
                }
            }
        }
        return error
    }
}

/// What an attempt has done so far: when its first output came, and the content frames it
/// forwarded (its output tokens when the upstream reports no usage).
struct AttemptProgress: Sendable {
    private(set) var firstTokenAt: ContinuousClock.Instant?
    private(set) var tokens = 0

    mutating func sawFirstToken() {
        if firstTokenAt == nil { firstTokenAt = .now }
    }

    mutating func forwardedToken() { tokens += 1 }

    /// A whole answer's output, counted from its text.
    mutating func produced(tokens count: Int) { tokens = count }
}
