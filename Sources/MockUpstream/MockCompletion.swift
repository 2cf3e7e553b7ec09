import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// The answer the mock gives: a fixed text, token by token, so that a truncated answer can
/// be told from a whole one (the last token is always `end.`).
public struct MockCompletion: Sendable {
    public let id: String
    public let model: String
    public let promptTokens: Int
    public let outputTokens: Int

    public init(id: String, model: String, promptTokens: Int, outputTokens: Int) {
        self.id = id
        self.model = model
        self.promptTokens = promptTokens
        self.outputTokens = outputTokens
    }

    /// Token `i` (0-based) of the answer.
    func token(_ i: Int) -> String { i == outputTokens - 1 ? "end." : "w\(i) " }

    var text: String { (0..<outputTokens).map(token).joined() }

    var usage: [String: Any] {
        ["prompt_tokens": promptTokens, "completion_tokens": outputTokens, "total_tokens": promptTokens + outputTokens]
    }

    public func wholeResponse(withUsage: Bool = true) -> ByteBuffer {
        var object: [String: Any] = [
            "id": id, "object": "chat.completion", "created": 1_795_737_600, "model": model,
            "choices": [["index": 0, "message": ["role": "assistant", "content": text], "finish_reason": "stop"]],
        ]
        if withUsage { object["usage"] = usage }
        return json(object)
    }

    /// The SSE frame of chunk `i`: the first carries the role, each one token; `finish` the
    /// finish reason; `usageOnly` the usage totals with no choices.
    public func chunk(token i: Int) -> ByteBuffer {
        chunk(tokens: i..<(i + 1))
    }

    /// One SSE frame carrying tokens `tokens` in one delta.
    public func chunk(tokens: Range<Int>) -> ByteBuffer {
        var delta: [String: Any] = ["content": tokens.map(token).joined()]
        if tokens.lowerBound == 0 { delta["role"] = "assistant" }
        return frame([
            "id": id, "object": "chat.completion.chunk", "created": 1_795_737_600, "model": model,
            "choices": [["index": 0, "delta": delta, "finish_reason": NSNull()]],
        ])
    }

    public func finishChunk() -> ByteBuffer {
        frame([
            "id": id, "object": "chat.completion.chunk", "created": 1_795_737_600, "model": model,
            "choices": [["index": 0, "delta": [String: Any](), "finish_reason": "stop"]],
        ])
    }

    public func usageChunk() -> ByteBuffer {
        frame(["id": id, "object": "chat.completion.chunk", "created": 1_795_737_600, "model": model, "choices": [Any](), "usage": usage])
    }

    public static let done = ByteBuffer(string: "data: [DONE]\n\n")
    public static let malformed = ByteBuffer(string: "data: {\"id\": \"broken\", \"choices\": [\n\n")

    private func frame(_ object: [String: Any]) -> ByteBuffer {
        var buffer = ByteBuffer(string: "data: ")
        var body = json(object)
        buffer.writeBuffer(&body)
        buffer.writeString("\n\n")
        return buffer
    }

    private func json(_ object: [String: Any]) -> ByteBuffer {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
        return ByteBuffer(bytes: data)
    }
}
