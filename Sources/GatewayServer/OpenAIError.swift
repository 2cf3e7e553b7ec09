import NIOCore
import RoutingCore

/// An error as OpenAI's API writes it: `{"error": {"message", "type", "param", "code"}}`.
public struct OpenAIError: Error, Sendable {
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
    var refusesContextLength: Bool {
        guard status == 400 || status == 413 else { return false }
        if code == "context_length_exceeded" { return true }
        let text = message.lowercased()
        return ["maximum context length", "context window", "prompt is too long", "context_length_exceeded"].contains { text.contains($0) }
    }

    static let unauthorized = OpenAIError(
        status: 401, message: "Incorrect or missing API key: send Authorization: Bearer KEY", type: "invalid_request_error", code: "invalid_api_key")
}
