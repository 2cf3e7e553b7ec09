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
    /// Written after the last token's text: a mark that every translation of the answer keeps
    /// (the twin's stamp of when the answer was due to end).
    public let endMark: String

    public init(id: String, model: String, promptTokens: Int, outputTokens: Int, endMark: String = "") {
        self.id = id
        self.model = model
        self.promptTokens = promptTokens
        self.outputTokens = outputTokens
        self.endMark = endMark
    }

    /// Token `i` (0-based) of the answer.
    func token(_ i: Int) -> String { i == outputTokens - 1 ? "end." + endMark : "w\(i) " }

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

    /// Some tokens in, an overload reported inside the stream (after its 200): OpenAI's shape.
    public static let overloadedEvent = ByteBuffer(string: #"data: {"error":{"message":"Overloaded","type":"overloaded_error"}}"# + "\n\n")

    public static let done = ByteBuffer(string: "data: [DONE]\n\n")
    public static let malformed = ByteBuffer(string: "data: {\"id\": \"broken\", \"choices\": [\n\n")

    // MARK: Anthropic's Messages API

    /// The whole answer as a Messages response.
    public func messagesResponse(withUsage: Bool = true) -> ByteBuffer {
        var object: [String: Any] = [
            "id": id, "type": "message", "role": "assistant", "model": model, "content": [["type": "text", "text": text]],
            "stop_reason": "end_turn", "stop_sequence": NSNull(),
        ]
        if withUsage { object["usage"] = ["input_tokens": promptTokens, "output_tokens": outputTokens] }
        return json(object)
    }

    /// The events before the first token: `message_start`, the text block's start, a `ping`.
    public func messagesStart() -> ByteBuffer {
        var buffer = event(
            "message_start",
            [
                "type": "message_start",
                "message": [
                    "id": id, "type": "message", "role": "assistant", "model": model, "content": [Any](), "stop_reason": NSNull(),
                    "stop_sequence": NSNull(), "usage": ["input_tokens": promptTokens, "output_tokens": 1],
                ],
            ])
        var block = event("content_block_start", ["type": "content_block_start", "index": 0, "content_block": ["type": "text", "text": ""]])
        var ping = event("ping", ["type": "ping"])
        buffer.writeBuffer(&block)
        buffer.writeBuffer(&ping)
        return buffer
    }

    /// Token `i` as a `content_block_delta`.
    public func messagesDelta(token i: Int) -> ByteBuffer {
        messagesDelta(tokens: i..<(i + 1))
    }

    /// Tokens `tokens` in one `content_block_delta`.
    public func messagesDelta(tokens: Range<Int>) -> ByteBuffer {
        event(
            "content_block_delta",
            ["type": "content_block_delta", "index": 0, "delta": ["type": "text_delta", "text": tokens.map(token).joined()]])
    }

    /// The block's stop and the `message_delta` with the stop reason (and the output tokens).
    public func messagesFinish(withUsage: Bool = true) -> ByteBuffer {
        var buffer = event("content_block_stop", ["type": "content_block_stop", "index": 0])
        var delta: [String: Any] = ["type": "message_delta", "delta": ["stop_reason": "end_turn", "stop_sequence": NSNull()]]
        if withUsage { delta["usage"] = ["output_tokens": outputTokens] }
        var finish = event("message_delta", delta)
        buffer.writeBuffer(&finish)
        return buffer
    }

    public static let messagesStop = ByteBuffer(string: "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n")
    public static let messagesMalformed = ByteBuffer(string: "event: content_block_delta\ndata: {\"type\": \"content_block_delta\", \"delta\": {\n\n")
    /// An overload reported inside the stream, as Anthropic sends it.
    public static let messagesOverloadedEvent = ByteBuffer(
        string: "event: error\ndata: " + #"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"# + "\n\n")

    private func event(_ name: String, _ object: [String: Any]) -> ByteBuffer {
        var buffer = ByteBuffer(string: "event: \(name)\n")
        var body = frame(object)
        buffer.writeBuffer(&body)
        return buffer
    }

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
