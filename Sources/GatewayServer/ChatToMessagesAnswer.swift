import Foundation
import NIOCore

/// A chat completion as an Anthropic Messages answer, for a Messages client answered by an
/// OpenAI-compatible upstream: the content as a text block, `tool_calls` as `tool_use` blocks
/// (their arguments parsed to `input`), the finish reason as a stop reason, and the usage.
enum ChatToMessagesAnswer {
    /// A chat completion's finish reason as a Messages stop reason.
    static func stopReason(_ finishReason: String?) -> String {
        switch finishReason {
        case "length": "max_tokens"
        case "tool_calls", "function_call": "tool_use"
        case "content_filter": "refusal"
        default: "end_turn"
        }
    }

    /// The Messages answer of a chat completion (nil when the body is not one: the attempt then
    /// fails as a server error).
    static func message(of body: ByteBuffer) -> ByteBuffer? {
        guard let completion = (try? JSONSerialization.jsonObject(with: Data(body.readableBytesView))) as? [String: Any],
            let choice = (completion["choices"] as? [[String: Any]])?.first, let reply = choice["message"] as? [String: Any]
        else { return nil }
        var content: [[String: Any]] = []
        if let text = reply["content"] as? String, !text.isEmpty { content.append(["type": "text", "text": text]) }
        content += ((reply["tool_calls"] as? [[String: Any]]) ?? []).map(ToolCallTranslation.toolUse(of:))
        var message: [String: Any] = [
            "id": completion["id"] as? String ?? "", "type": "message", "role": "assistant", "model": completion["model"] as? String ?? "",
            "content": content, "stop_reason": stopReason(choice["finish_reason"] as? String), "stop_sequence": NSNull(),
        ]
        if let usage = completion["usage"] as? [String: Any] {
            message["usage"] = ["input_tokens": usage["prompt_tokens"] as? Int ?? 0, "output_tokens": usage["completion_tokens"] as? Int ?? 0]
        }
        guard let data = try? JSONSerialization.data(withJSONObject: message, options: [.sortedKeys, .withoutEscapingSlashes]) else { return nil }
        return ByteBuffer(bytes: data)
    }
}
