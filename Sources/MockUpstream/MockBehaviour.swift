import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import RoutingCore
import Synchronization

/// How the mock answers one chat completion request: latency, token pacing and the fault.
public struct MockBehaviour: Sendable {
    let firstTokenSeconds: Double
    let firstTokenSigma: Double
    let tokensPerSecond: Double
    let outputTokens: Int
    let retryAfterSeconds: Double
    let slowFirstTokenSeconds: Double
    let hangSeconds: Double
    /// Prompts over this many tokens are refused for their context length (0: none are).
    let contextWindowTokens: Int

    /// How many tokens the stream faults send before they fail.
    public init(
        firstTokenSeconds: Double, firstTokenSigma: Double, tokensPerSecond: Double, outputTokens: Int, retryAfterSeconds: Double,
        slowFirstTokenSeconds: Double, hangSeconds: Double, contextWindowTokens: Int
    ) {
        self.firstTokenSeconds = firstTokenSeconds
        self.firstTokenSigma = firstTokenSigma
        self.tokensPerSecond = tokensPerSecond
        self.outputTokens = outputTokens
        self.retryAfterSeconds = retryAfterSeconds
        self.slowFirstTokenSeconds = slowFirstTokenSeconds
        self.hangSeconds = hangSeconds
        self.contextWindowTokens = contextWindowTokens
    }

    static let tokensBeforeStreamFault = 3

    /// Answers a request on `api`: OpenAI's chat completions, or Anthropic's Messages (which
    /// needs `anthropic-version` and `max_tokens`, as Anthropic's does, and answers in its shapes).
    public func respond(
        to request: Request, context: MockRequestContext, state: MockState, api: APIProtocol = .openai
    ) async throws
        -> Response
    {
        let requestBody = try await request.body.collect(upTo: 16 << 20)
        let object = (try? JSONSerialization.jsonObject(with: Data(requestBody.readableBytesView))) as? [String: Any] ?? [:]
        if api == .anthropic {
            if request.headers[HTTPField.Name("anthropic-version")!] == nil {
                return MockError.response(
                    400, "anthropic-version: header is required", type: "invalid_request_error", code: nil, retryAfter: nil, api: api)
            }
            if !(object["max_tokens"] is Int) {
                return MockError.response(400, "max_tokens: Field required", type: "invalid_request_error", code: nil, retryAfter: nil, api: api)
            }
        }
        // A fault asked for by the request itself: the x-mock-fault header, or a model name
        // that ends in "@FAULT" (which a gateway's deployment can name as an upstream's model).
        var model = object["model"] as? String ?? "mock"
        var requested = request.headers[values: HTTPField.Name("x-mock-fault")!].first.flatMap(MockFault.init(rawValue:))
        if let at = model.lastIndex(of: "@"), let fault = MockFault(rawValue: String(model[model.index(after: at)...])) {
            requested = requested ?? fault
            model = String(model[..<at])
        }
        let stream = object["stream"] as? Bool ?? false
        let includeUsage = ((object["stream_options"] as? [String: Any])?["include_usage"] as? Bool) ?? false
        let maxTokens = (object["max_tokens"] as? Int) ?? (object["max_completion_tokens"] as? Int) ?? outputTokens
        let messageCharacters = (object["messages"] as? [[String: Any]])?.reduce(0) { $0 + Self.characters(of: $1["content"]) } ?? 0
        let promptCharacters = messageCharacters + Self.characters(of: object["system"])
        let completion = MockCompletion(
            id: (api == .anthropic ? "msg_mock_" : "chatcmpl-mock-") + "\(UInt32.random(in: 0...UInt32.max))", model: model,
            promptTokens: max(1, promptCharacters / 4), outputTokens: max(1, min(outputTokens, maxTokens)))
        let drawn = await state.nextFault(requested: requested, connection: context.channel.remoteAddress)
        let fault = contextWindowTokens > 0 && completion.promptTokens > contextWindowTokens ? .contextLength : drawn

        func error(_ status: Int, _ message: String, type: String, code: String?, retryAfter: Bool) -> Response {
            MockError.response(
                status, message, type: type, code: code, retryAfter: retryAfter ? String(format: "%g", retryAfterSeconds) : nil, api: api)
        }
        switch fault {
        case .rateLimited:
            return error(429, "rate limit exceeded", type: "rate_limit_error", code: "rate_limit_exceeded", retryAfter: true)
        case .rateLimitedWithoutRetryAfter:
            return error(429, "rate limit exceeded", type: "rate_limit_error", code: "rate_limit_exceeded", retryAfter: false)
        case .spendLimit:
            return error(
                429, "your organization has reached its spend limit", type: "rate_limit_error", code: "enforced_spend_limit_reached",
                retryAfter: false)
        case .overloaded:
            return error(529, "Overloaded", type: "overloaded_error", code: nil, retryAfter: true)
        case .serverError:
            return error(500, "internal server error", type: "api_error", code: nil, retryAfter: false)
        case .unavailable:
            return error(503, "service unavailable", type: "api_error", code: nil, retryAfter: false)
        case .contextLength:
            let window = contextWindowTokens > 0 ? contextWindowTokens : 8_192
            let tokens = max(completion.promptTokens, window + 1)
            return error(
                400,
                api == .anthropic
                    ? "prompt is too long: \(tokens) tokens > \(window) maximum"
                    : "This model's maximum context length is \(window) tokens; your messages resulted in \(tokens) tokens.",
                type: "invalid_request_error", code: "context_length_exceeded", retryAfter: false)
        case .contentFilter:
            return error(
                400, "The response was filtered due to the prompt triggering the content management policy.",
                type: "invalid_request_error", code: "content_filter", retryAfter: false)
        case .redirect:
            return Response(
                status: .found, headers: [.location: "http://127.0.0.1:1/login", .contentType: "text/html"],
                body: .init(byteBuffer: ByteBuffer(string: "<html><body>Moved</body></html>")))
        case .noContent:
            return Response(status: .noContent)
        case .reset:
            try await context.channel.close()
            throw HTTPError(.internalServerError)
        case .hang:
            try await Task.sleep(for: .seconds(hangSeconds))
            throw HTTPError(.gatewayTimeout)
        case .none, .slowFirstToken, .streamCut, .streamStall, .streamMalformed, .streamExtraMalformed, .streamOverloaded, .streamWithoutDone,
            .noUsage:
            break
        }
        let firstToken =
            fault == .slowFirstToken
            ? slowFirstTokenSeconds
            : firstTokenSigma > 0 ? await state.lognormal(median: firstTokenSeconds, sigma: firstTokenSigma) : firstTokenSeconds
        let gap = tokensPerSecond > 0 ? 1 / tokensPerSecond : 0
        // The answer counts once, as completed or as cancelled: cancelled the moment the
        // client's connection closes before the answer's end.
        let ending = AnswerEnding(state: state)
        context.channel.closeFuture.whenComplete { _ in ending.end(completed: false) }
        if !stream {
            // A whole answer: after the first token and the rest of the tokens.
            let wait = firstToken + gap * Double(completion.outputTokens - 1)
            try await Self.wait(until: .now + .seconds(wait), on: context.channel, ending: ending)
            await ending.endNow(completed: true)
            let answer =
                api == .anthropic ? completion.messagesResponse(withUsage: fault != .noUsage) : completion.wholeResponse(withUsage: fault != .noUsage)
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: answer))
        }
        let hang = hangSeconds
        let body = ResponseBody { writer in
            // A Messages stream opens at once; its text comes after the first token's time.
            if api == .anthropic { try await writer.write(completion.messagesStart()) }
            if firstToken > 0 { try await Self.wait(until: .now + .seconds(firstToken), on: context.channel, ending: ending) }
            for i in 0..<completion.outputTokens {
                if i > 0 && gap > 0 { try await Self.wait(until: .now + .seconds(gap), on: context.channel, ending: ending) }
                if i == Self.tokensBeforeStreamFault {
                    switch fault {
                    case .streamCut:
                        try await context.channel.close()
                        return
                    case .streamStall:
                        try await Task.sleep(for: .seconds(hang))
                        return
                    case .streamMalformed:
                        try await writer.write(api == .anthropic ? MockCompletion.messagesMalformed : MockCompletion.malformed)
                        try await writer.finish(nil)
                        return
                    case .streamExtraMalformed:
                        try await writer.write(api == .anthropic ? MockCompletion.messagesMalformed : MockCompletion.malformed)
                    case .streamOverloaded:
                        try await writer.write(api == .anthropic ? MockCompletion.messagesOverloadedEvent : MockCompletion.overloadedEvent)
                        try await writer.finish(nil)
                        ending.end(completed: false)
                        return
                    default:
                        break
                    }
                }
                try await writer.write(api == .anthropic ? completion.messagesDelta(token: i) : completion.chunk(token: i))
            }
            if api == .anthropic {
                try await writer.write(completion.messagesFinish(withUsage: fault != .noUsage))
                if fault != .streamWithoutDone { try await writer.write(MockCompletion.messagesStop) }
            } else {
                try await writer.write(completion.finishChunk())
                if includeUsage && fault != .noUsage { try await writer.write(completion.usageChunk()) }
                if fault != .streamWithoutDone { try await writer.write(MockCompletion.done) }
            }
            try await writer.finish(nil)
            ending.end(completed: true)
        }
        return Response(status: .ok, headers: [.contentType: "text/event-stream", .cacheControl: "no-cache"], body: body)
    }

    /// Waits until `instant`. The server reads nothing while a handler runs, so a client's close
    /// is noticed by asking the kernel, every 50 ms of the wait: a request its client gave up on
    /// (a cancelled hedge loser, whole or streamed) ends as cancelled then, not when its answer
    /// comes due.
    private static func wait(until instant: ContinuousClock.Instant, on channel: any Channel, ending: AnswerEnding) async throws {
        while case let left = ContinuousClock.now.duration(to: instant), left > .zero {
            try await Task.sleep(for: min(left, .milliseconds(50)))
            if await !clientIsConnected(channel) {
                await ending.endNow(completed: false)
                throw CancellationError()
            }
        }
    }

    /// Whether the client's TCP connection is still established (not closed or half-closed by
    /// the client), from the kernel's `TCP_INFO`.
    private static func clientIsConnected(_ channel: any Channel) async -> Bool {
        guard channel.isActive else { return false }
        guard let socket = channel as? any SocketOptionProvider, let info = try? await socket.getTCPInfo().get() else { return true }
        return info.tcpi_state == 1  // TCP_ESTABLISHED
    }

    /// The characters of a message's content (or a `system`): a string, or its text parts and blocks.
    private static func characters(of content: Any?) -> Int {
        if let text = content as? String { return text.count }
        return (content as? [[String: Any]])?.reduce(0) { $0 + (($1["text"] as? String)?.count ?? 0) } ?? 0
    }
}
