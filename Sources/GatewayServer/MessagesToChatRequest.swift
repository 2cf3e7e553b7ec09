import Foundation
import NIOCore

/// A Messages request as a chat completions request, for a Messages client whose request the
/// router sent to an OpenAI-compatible upstream (another provider, a local vLLM pool).
///
/// What maps: `system` (a string or text blocks) to a system message; text and images (base64
/// as a `data:` URL, or a URL) in user turns; an assistant's `tool_use` blocks to `tool_calls`
/// and `tool_result` blocks to `tool` messages; `tools` (`input_schema` as the function's
/// `parameters`), `tool_choice` and `disable_parallel_tool_use`; `max_tokens`, `temperature`,
/// `top_p`, `stop_sequences`, `metadata.user_id`, `stream` (with the usage asked for). Thinking
/// and redacted thinking blocks are left out, as are `top_k` and `cache_control` marks;
/// documents and other blocks are refused (the README's table lists both).
enum MessagesToChatRequest {
    static func body(of request: ClientRequest, model: String) throws(UntranslatableRequest) -> ByteBuffer {
        guard let object = (try? JSONSerialization.jsonObject(with: Data(request.body.readableBytesView))) as? [String: Any] else {
            throw UntranslatableRequest(reason: "the body is not a JSON object")
        }
        var out: [String: Any] = ["model": model, "max_tokens": request.maxOutputTokens]
        if request.stream {
            out["stream"] = true
            out["stream_options"] = ["include_usage": true]
        }
        var messages: [[String: Any]] = []
        switch object["system"] {
        case let text as String: messages.append(["role": "system", "content": text])
        case let blocks as [[String: Any]]:
            messages.append(["role": "system", "content": blocks.compactMap { $0["text"] as? String }.joined(separator: "\n\n")])
        default: break
        }
        for (index, message) in ((object["messages"] as? [[String: Any]]) ?? []).enumerated() {
            let role = message["role"] as? String ?? ""
            let path = "messages[\(index)]"
            guard role == "user" || role == "assistant" else { throw UntranslatableRequest(reason: "\(path) has role '\(role)'") }
            if let text = message["content"] as? String {
                messages.append(["role": role, "content": text])
                continue
            }
            guard let blocks = message["content"] as? [[String: Any]] else {
                throw UntranslatableRequest(reason: "\(path).content is neither text nor blocks")
            }
            var parts: [[String: Any]] = []
            var calls: [[String: Any]] = []
            var results: [[String: Any]] = []
            for block in blocks {
                switch block["type"] as? String {
                case "text":
                    parts.append(["type": "text", "text": block["text"] as? String ?? ""])
                case "image" where role == "user":
                    let source = block["source"] as? [String: Any] ?? [:]
                    let url =
                        source["type"] as? String == "base64"
                        ? "data:\(source["media_type"] as? String ?? "image/png");base64,\(source["data"] as? String ?? "")"
                        : source["url"] as? String ?? ""
                    parts.append(["type": "image_url", "image_url": ["url": url]])
                case "tool_use" where role == "assistant":
                    calls.append(ToolCallTranslation.call(of: block))
                case "tool_result" where role == "user":
                    let content: String
                    switch block["content"] {
                    case let text as String: content = text
                    case let inner as [[String: Any]]: content = inner.compactMap { $0["text"] as? String }.joined()
                    default: content = ""
                    }
                    results.append(["role": "tool", "tool_call_id": block["tool_use_id"] as? String ?? "", "content": content])
                case "thinking", "redacted_thinking":
                    continue
                case let other:
                    throw UntranslatableRequest(reason: "\(path) has a '\(other ?? "?")' block, which has no chat completions counterpart")
                }
            }
            // Tool results answer the assistant's calls: they go first, as tool messages.
            messages += results
            if role == "assistant" {
                var reply: [String: Any] = ["role": "assistant"]
                let text = parts.compactMap { $0["text"] as? String }.joined()
                reply["content"] = text.isEmpty ? NSNull() : text
                if !calls.isEmpty { reply["tool_calls"] = calls }
                if !text.isEmpty || !calls.isEmpty { messages.append(reply) }
            } else if !parts.isEmpty {
                messages.append(["role": "user", "content": parts])
            }
        }
        out["messages"] = messages
        if let tools = object["tools"] as? [[String: Any]] {
            out["tools"] = try tools.map { (tool) throws(UntranslatableRequest) -> [String: Any] in
                guard let name = tool["name"] as? String, tool["input_schema"] != nil else {
                    throw UntranslatableRequest(reason: "a server tool ('\(tool["type"] as? String ?? "?")') has no chat completions counterpart")
                }
                var function: [String: Any] = ["name": name, "parameters": tool["input_schema"]!]
                if let description = tool["description"] { function["description"] = description }
                return ["type": "function", "function": function]
            }
        }
        if let choice = object["tool_choice"] as? [String: Any] {
            switch choice["type"] as? String {
            case "auto": out["tool_choice"] = "auto"
            case "any": out["tool_choice"] = "required"
            case "none": out["tool_choice"] = "none"
            case "tool": out["tool_choice"] = ["type": "function", "function": ["name": choice["name"] as? String ?? ""]]
            default: break
            }
            if choice["disable_parallel_tool_use"] as? Bool == true && out["tools"] != nil { out["parallel_tool_calls"] = false }
        }
        if let temperature = object["temperature"] as? Double { out["temperature"] = temperature }
        if let topP = object["top_p"] as? Double { out["top_p"] = topP }
        if let stops = object["stop_sequences"] as? [String], !stops.isEmpty { out["stop"] = stops }
        if let user = (object["metadata"] as? [String: Any])?["user_id"] as? String { out["user"] = user }
        let data = (try? JSONSerialization.data(withJSONObject: out, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data()
        return ByteBuffer(bytes: data)
    }
}
