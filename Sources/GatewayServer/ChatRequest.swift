import Foundation
import NIOCore

/// A client's `POST /v1/chat/completions` body, read only as far as routing needs: the model
/// (a route), streaming, token counts. Everything else is passed upstream untouched.
struct ChatRequest: @unchecked Sendable {
    let object: [String: Any]
    let model: String
    let stream: Bool
    let includeUsage: Bool
    let estimatedInputTokens: Int
    let maxOutputTokens: Int

    static let defaultMaxOutputTokens = 4_096

    init(body: ByteBuffer) throws(OpenAIError) {
        guard let object = (try? JSONSerialization.jsonObject(with: Data(body.readableBytesView))) as? [String: Any] else {
            throw OpenAIError(status: 400, message: "the body is not a JSON object", type: "invalid_request_error")
        }
        guard let model = object["model"] as? String, !model.isEmpty else {
            throw OpenAIError(status: 400, message: "'model' is required (one of the gateway's routes)", type: "invalid_request_error", code: "missing_model")
        }
        guard let messages = object["messages"] as? [Any], !messages.isEmpty else {
            throw OpenAIError(status: 400, message: "'messages' must be a non-empty list", type: "invalid_request_error")
        }
        self.object = object
        self.model = model
        stream = object["stream"] as? Bool ?? false
        includeUsage = ((object["stream_options"] as? [String: Any])?["include_usage"] as? Bool) ?? false
        // About four bytes a token; the body's size bounds the messages' (reserved against
        // hard budgets before the upstream reports the real count).
        estimatedInputTokens = max(1, body.readableBytes / 4)
        maxOutputTokens = (object["max_completion_tokens"] as? Int) ?? (object["max_tokens"] as? Int) ?? Self.defaultMaxOutputTokens
    }

    /// The body sent to an upstream: its model name; when streaming, usage is always asked
    /// for (the gateway settles spend from it).
    func upstreamBody(model upstreamModel: String) -> ByteBuffer {
        var object = self.object
        object["model"] = upstreamModel
        if stream {
            var options = object["stream_options"] as? [String: Any] ?? [:]
            options["include_usage"] = true
            object["stream_options"] = options
        }
        return ByteBuffer(bytes: (try? JSONSerialization.data(withJSONObject: object)) ?? Data())
    }
}
