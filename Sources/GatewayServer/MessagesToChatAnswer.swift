import Foundation
import NIOCore

/// An Anthropic Messages answer as a chat completion: the text blocks joined into the
/// message's content, `tool_use` blocks as `tool_calls` (their input as the JSON text of the
/// arguments), the stop reason as a finish reason, and the usage. Thinking blocks are left out.
enum MessagesToChatAnswer {
    /// A Messages stop reason as a chat completion's finish reason.
    static func finishReason(_ stopReason: String?) -> String {
        switch stopReason {
        case "max_tokens": "length"
        case "tool_use": "tool_calls"
        case "refusal": "content_filter"
        default: "stop"
        }
    }

    /// The tokens billed for a Messages usage, in input-token equivalents: prompt tokens read at
    /// the input price, cache writes at 1.25 times it and cache reads at 0.1 times it
    /// (Anthropic's prices for its five-minute cache), so that spend settles at the target's
    /// input price; and the output tokens. Also the prompt's total, which a chat completion
    /// reports as `prompt_tokens`. Nil without the two counts every answer carries.
    static func usage(_ usage: [String: Any]?) -> (billed: (input: Int, output: Int), promptTokens: Int)? {
        guard let usage, let input = usage["input_tokens"] as? Int, let output = usage["output_tokens"] as? Int else { return nil }
        return billed(
            input: input, output: output, cacheWrites: usage["cache_creation_input_tokens"] as? Int ?? 0,
            cacheReads: usage["cache_read_input_tokens"] as? Int ?? 0)
    }

    static func billed(input: Int, output: Int, cacheWrites: Int, cacheReads: Int) -> (billed: (input: Int, output: Int), promptTokens: Int) {
        let billed = input + Int((Double(cacheWrites) * 1.25 + Double(cacheReads) * 0.1).rounded())
        return ((billed, output), input + cacheWrites + cacheReads)
    }

    /// The chat completion of a Messages answer, and the usage it bills (nil when the body is
    /// not a Messages answer: the attempt then fails as a server error).
    static func chatCompletion(of body: ByteBuffer) -> (body: ByteBuffer, usage: (input: Int, output: Int)?)? {
        guard let message = (try? JSONSerialization.jsonObject(with: Data(body.readableBytesView))) as? [String: Any],
            message["type"] as? String == "message", let blocks = message["content"] as? [[String: Any]]
        else { return nil }
        var text: String?
        var calls: [[String: Any]] = []
        for block in blocks {
            switch block["type"] as? String {
            case "text": text = (text ?? "") + (block["text"] as? String ?? "")
            case "tool_use": calls.append(ToolCallTranslation.call(of: block))
            default: continue
            }
        }
        var reply: [String: Any] = ["role": "assistant", "content": text.map { $0 as Any } ?? NSNull()]
        if !calls.isEmpty { reply["tool_calls"] = calls }
        let usage = Self.usage(message["usage"] as? [String: Any])
        var completion: [String: Any] = [
            "id": message["id"] as? String ?? "", "object": "chat.completion", "created": Int(Date().timeIntervalSince1970),
            "model": message["model"] as? String ?? "",
            "choices": [["index": 0, "message": reply, "finish_reason": finishReason(message["stop_reason"] as? String)]],
        ]
        if let usage {
            let output = usage.billed.output
            completion["usage"] = ["prompt_tokens": usage.promptTokens, "completion_tokens": output, "total_tokens": usage.promptTokens + output]
        }
        guard let data = try? JSONSerialization.data(withJSONObject: completion, options: [.sortedKeys, .withoutEscapingSlashes]) else { return nil }
        return (ByteBuffer(bytes: data), usage?.billed)
    }
}
