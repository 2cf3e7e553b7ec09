import Foundation
import NIOCore

/// A chat completions request as Anthropic's Messages API takes it, for an upstream whose
/// `protocol` is `anthropic`.
///
/// What maps: `system` and `developer` messages to the top-level `system` blocks; user and
/// assistant messages with text and images (URLs and `data:` URLs); an assistant's
/// `tool_calls` to `tool_use` blocks and `tool` messages to `tool_result` blocks; `tools`,
/// `tool_choice` and `parallel_tool_calls`; `max_tokens` (or `max_completion_tokens`, else the
/// gateway's default), `temperature` (cut to Anthropic's 0–1), `top_p`, `stop`, `stream`,
/// `user` (as `metadata.user_id`). What has no counterpart is left out (`n` above 1, audio and
/// file parts, and `function` messages are refused instead: they would change the answer's
/// meaning); the README's table lists both.
enum ChatToMessagesRequest {
    static let anthropicVersion = "2023-06-01"

    static func body(of chat: ClientRequest, model: String) throws(UntranslatableRequest) -> ByteBuffer {
        guard let object = (try? JSONSerialization.jsonObject(with: Data(chat.body.readableBytesView))) as? [String: Any] else {
            throw UntranslatableRequest(reason: "the body is not a JSON object")
        }
        var out: [String: Any] = ["model": model, "max_tokens": chat.maxOutputTokens]
        if chat.stream { out["stream"] = true }
        if let n = object["n"] as? Int, n > 1 { throw UntranslatableRequest(reason: "'n' above 1 (Anthropic gives one answer a request)") }
        var system: [[String: Any]] = []
        var messages: [[String: Any]] = []
        for (index, message) in ((object["messages"] as? [Any]) ?? []).enumerated() {
            guard let message = message as? [String: Any], let role = message["role"] as? String else {
                throw UntranslatableRequest(reason: "messages[\(index)] has no role")
            }
            switch role {
            case "system", "developer":
                system += try textBlocks(message["content"], at: "messages[\(index)]")
            case "user":
                messages.append(["role": "user", "content": try userContent(message["content"], at: "messages[\(index)]")])
            case "assistant":
                var blocks = try textBlocks(message["content"], at: "messages[\(index)]")
                blocks += ((message["tool_calls"] as? [[String: Any]]) ?? []).map(ToolCallTranslation.toolUse(of:))
                // An assistant turn with nothing in it is left out (Anthropic refuses empty content).
                if !blocks.isEmpty { messages.append(["role": "assistant", "content": blocks]) }
            case "tool":
                let text = try textBlocks(message["content"], at: "messages[\(index)]").compactMap { $0["text"] as? String }.joined()
                messages.append([
                    "role": "user",
                    "content": [["type": "tool_result", "tool_use_id": message["tool_call_id"] as? String ?? "", "content": text]],
                ])
            default:
                throw UntranslatableRequest(reason: "messages[\(index)] has role '\(role)', which has no Messages counterpart")
            }
        }
        if !system.isEmpty { out["system"] = system }
        out["messages"] = messages
        if let tools = object["tools"] as? [[String: Any]] {
            out["tools"] = tools.compactMap { tool -> [String: Any]? in
                guard let function = tool["function"] as? [String: Any], let name = function["name"] as? String else { return nil }
                var translated: [String: Any] = ["name": name, "input_schema": function["parameters"] ?? ["type": "object"]]
                if let description = function["description"] { translated["description"] = description }
                return translated
            }
        }
        var toolChoice: [String: Any]?
        switch object["tool_choice"] {
        case let choice as String where choice == "auto": toolChoice = ["type": "auto"]
        case let choice as String where choice == "required": toolChoice = ["type": "any"]
        case let choice as String where choice == "none": toolChoice = ["type": "none"]
        case let choice as [String: Any]:
            if let name = (choice["function"] as? [String: Any])?["name"] as? String { toolChoice = ["type": "tool", "name": name] }
        default: break
        }
        if object["parallel_tool_calls"] as? Bool == false && out["tools"] != nil {
            toolChoice = (toolChoice ?? ["type": "auto"]).merging(["disable_parallel_tool_use": true]) { $1 }
        }
        if let toolChoice { out["tool_choice"] = toolChoice }
        if let temperature = object["temperature"] as? Double { out["temperature"] = min(max(temperature, 0), 1) }
        if let topP = object["top_p"] as? Double { out["top_p"] = topP }
        switch object["stop"] {
        case let stop as String: out["stop_sequences"] = [stop]
        case let stops as [String]: out["stop_sequences"] = stops
        default: break
        }
        if let user = object["user"] as? String { out["metadata"] = ["user_id": user] }
        let data = (try? JSONSerialization.data(withJSONObject: out, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data()
        return ByteBuffer(bytes: data)
    }

    /// A message's text as Messages text blocks: a string, or the `text` parts of a list.
    private static func textBlocks(_ content: Any?, at path: String) throws(UntranslatableRequest) -> [[String: Any]] {
        switch content {
        case nil, is NSNull: return []
        case let text as String: return text.isEmpty ? [] : [["type": "text", "text": text]]
        case let parts as [[String: Any]]:
            return try parts.map { (part) throws(UntranslatableRequest) in
                guard part["type"] as? String == "text", let text = part["text"] as? String else {
                    throw UntranslatableRequest(reason: "\(path) has a '\(part["type"] as? String ?? "?")' part where only text is allowed")
                }
                return ["type": "text", "text": text]
            }
        default: throw UntranslatableRequest(reason: "\(path).content is neither text nor a list of parts")
        }
    }

    /// A user message's content: a string as it is, parts as text and image blocks.
    private static func userContent(_ content: Any?, at path: String) throws(UntranslatableRequest) -> Any {
        if let text = content as? String { return text }
        guard let parts = content as? [[String: Any]] else {
            throw UntranslatableRequest(reason: "\(path).content is neither text nor a list of parts")
        }
        return try parts.map { (part) throws(UntranslatableRequest) -> [String: Any] in
            switch part["type"] as? String {
            case "text":
                return ["type": "text", "text": part["text"] as? String ?? ""]
            case "image_url":
                let url = (part["image_url"] as? [String: Any])?["url"] as? String ?? ""
                return ["type": "image", "source": try imageSource(url, at: path)]
            case let other:
                throw UntranslatableRequest(reason: "\(path) has a '\(other ?? "?")' part, which has no Messages counterpart")
            }
        }
    }

    /// An image URL as a Messages image source: a `data:` URL's bytes as base64, else the URL.
    private static func imageSource(_ url: String, at path: String) throws(UntranslatableRequest) -> [String: Any] {
        guard url.hasPrefix("data:") else { return ["type": "url", "url": url] }
        guard let comma = url.firstIndex(of: ","), url[..<comma].hasSuffix(";base64") else {
            throw UntranslatableRequest(reason: "\(path) has an image data URL that is not base64")
        }
        let mediaType = url[url.index(url.startIndex, offsetBy: 5)..<comma].dropLast(";base64".count)
        return ["type": "base64", "media_type": String(mediaType), "data": String(url[url.index(after: comma)...])]
    }
}
