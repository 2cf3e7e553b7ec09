import Foundation

/// A tool call in both APIs: a chat completion's `tool_calls` entry (its arguments as JSON text)
/// and a Messages `tool_use` block (its input as a JSON object), each made from the other.
enum ToolCallTranslation {
    /// A `tool_calls` entry as a `tool_use` block (arguments that are not a JSON object: `{}`).
    static func toolUse(of call: [String: Any]) -> [String: Any] {
        let function = call["function"] as? [String: Any] ?? [:]
        let arguments = (function["arguments"] as? String).flatMap { $0.data(using: .utf8) }
        let input = arguments.flatMap { try? JSONSerialization.jsonObject(with: $0) } as? [String: Any] ?? [:]
        return ["type": "tool_use", "id": call["id"] as? String ?? "", "name": function["name"] as? String ?? "", "input": input]
    }

    /// A `tool_use` block as a `tool_calls` entry, its input written as the arguments' JSON text.
    static func call(of toolUse: [String: Any]) -> [String: Any] {
        let input = (try? JSONSerialization.data(withJSONObject: toolUse["input"] ?? [String: Any](), options: [.sortedKeys])) ?? Data("{}".utf8)
        return [
            "id": toolUse["id"] as? String ?? "", "type": "function",
            "function": ["name": toolUse["name"] as? String ?? "", "arguments": String(decoding: input, as: UTF8.self)],
        ]
    }
}
