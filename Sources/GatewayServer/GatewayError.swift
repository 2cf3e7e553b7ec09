import NIOCore
import RoutingCore

/// An error the gateway answers a client with (its own refusal, or an upstream's passed back):
/// written as OpenAI's API writes it (`{"error": {"message", "type", "param", "code"}}`), or as
/// Anthropic's for a Messages client (``body(for:)``).
public struct GatewayError: Error, Sendable {
    public var status: Int
    public var message: String
    public var type: String
    /// The request field at fault, if one is.
    public var param: String?
    public var code: String?

    public init(status: Int, message: String, type: String, param: String? = nil, code: String? = nil) {
        self.status = status
        self.message = message
        self.type = type
        self.param = param
        self.code = code
    }

    public var body: ByteBuffer {
        ByteBuffer(
            string: #"{"error":{"code":"# + JSONText.quotedOrNull(code) + #","message":"# + JSONText.quoted(message)
                + #","param":"# + JSONText.quotedOrNull(param) + #","type":"# + JSONText.quoted(type) + "}}")
    }

    /// The same error as an SSE frame, for a failure after the stream has started.
    public var streamFrame: ByteBuffer {
        var frame = ByteBuffer(string: "data: ")
        var json = body
        frame.writeBuffer(&json)
        frame.writeString("\n\n")
        return frame
    }

    /// Whether an upstream refused the request for its length: OpenAI's and vLLM's
    /// `context_length_exceeded` code, or the wording OpenAI-compatible servers and
    /// Anthropic's API use for it when they send no code.
    /// The error as a client of `api` reads it: OpenAI's shape, or Anthropic's
    /// (`{"type": "error", "error": {"type", "message"}}`, its types by status).
    func body(for api: APIProtocol) -> ByteBuffer {
        guard api == .anthropic else { return body }
        return ByteBuffer(
            string: #"{"type":"error","error":{"type":"# + JSONText.quoted(anthropicType) + #","message":"# + JSONText.quoted(message) + "}}")
    }

    /// The error as the last event of a stream `api`'s client reads.
    func streamFrame(for api: APIProtocol) -> ByteBuffer {
        guard api == .anthropic else { return streamFrame }
        var frame = ByteBuffer(string: "event: error\ndata: ")
        var json = body(for: api)
        frame.writeBuffer(&json)
        frame.writeString("\n\n")
        return frame
    }

    /// Anthropic's error type for the status (an overload keeps its own at any 5xx).
    var anthropicType: String {
        switch status {
        case 401: "authentication_error"
        case 403: "permission_error"
        case 404: "not_found_error"
        case 413: "request_too_large"
        case 429: "rate_limit_error"
        case 529: "overloaded_error"
        case 400..<500: "invalid_request_error"
        default: type == "overloaded_error" ? "overloaded_error" : "api_error"
        }
    }

    var refusesContextLength: Bool {
        guard status == 400 || status == 413 else { return false }
        if code == "context_length_exceeded" { return true }
        let text = message.lowercased()
        return ["maximum context length", "context window", "prompt is too long", "context_length_exceeded"].contains { text.contains($0) }
    }

    static let unauthorized = GatewayError(
        status: 401, message: "Incorrect or missing API key: send Authorization: Bearer KEY", type: "invalid_request_error", code: "invalid_api_key")
    static let unauthorizedMessages = GatewayError(
        status: 401, message: "invalid x-api-key: send the team's key as x-api-key (or Authorization: Bearer KEY)", type: "authentication_error",
        code: "invalid_api_key")
}
