import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// The answer the mock gives: a fixed text, token by token, so that a truncated answer can
/// be told from a whole one (the last token is always `end.`).
struct MockCompletion: Sendable {
    let id: String
    let model: String
    let promptTokens: Int
    let outputTokens: Int

    /// Token `i` (0-based) of the answer.
    func token(_ i: Int) -> String { i == outputTokens - 1 ? "end." : "w\(i) " }

    var text: String { (0..<outputTokens).map(token).joined() }

    var usage: [String: Any] {
        ["prompt_tokens": promptTokens, "completion_tokens": outputTokens, "total_tokens": promptTokens + outputTokens]
    }

    func wholeResponse(withUsage: Bool = true) -> ByteBuffer {
        var object: [String: Any] = [
            "id": id, "object": "chat.completion", "created": 1_795_737_600, "model": model,
            "choices": [["index": 0, "message": ["role": "assistant", "content": text], "finish_reason": "stop"]],
        ]
        if withUsage { object["usage"] = usage }
        return json(object)
    }

    /// The SSE frame of chunk `i`: the first carries the role, each one token; `finish` the
    /// finish reason; `usageOnly` the usage totals with no choices.
    func chunk(token i: Int) -> ByteBuffer {
        chunk(tokens: i..<(i + 1))
    }

    /// One SSE frame carrying tokens `tokens` in one delta.
    func chunk(tokens: Range<Int>) -> ByteBuffer {
        var delta: [String: Any] = ["content": tokens.map(token).joined()]
        if tokens.lowerBound == 0 { delta["role"] = "assistant" }
        return frame(["id": id, "object": "chat.completion.chunk", "created": 1_795_737_600, "model": model,
                      "choices": [["index": 0, "delta": delta, "finish_reason": NSNull()]]])
    }

    func finishChunk() -> ByteBuffer {
        frame(["id": id, "object": "chat.completion.chunk", "created": 1_795_737_600, "model": model,
               "choices": [["index": 0, "delta": [String: Any](), "finish_reason": "stop"]]])
    }

    func usageChunk() -> ByteBuffer {
        frame(["id": id, "object": "chat.completion.chunk", "created": 1_795_737_600, "model": model, "choices": [Any](), "usage": usage])
    }

    static let done = ByteBuffer(string: "data: [DONE]\n\n")
    static let malformed = ByteBuffer(string: "data: {\"id\": \"broken\", \"choices\": [\n\n")

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

/// OpenAI-shaped error bodies.
enum MockError {
    static func body(_ message: String, type: String, code: String?) -> ByteBuffer {
        let object: [String: Any] = ["error": ["message": message, "type": type, "param": NSNull(), "code": code.map { $0 as Any } ?? NSNull()]]
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data()
        return ByteBuffer(bytes: data)
    }

    /// An error answer: `status`, the OpenAI-shaped body, and `retry-after` when given.
    static func response(_ status: Int, _ message: String, type: String, code: String?, retryAfter: String?) -> Response {
        var headers: HTTPFields = [.contentType: "application/json"]
        if let retryAfter { headers[.retryAfter] = retryAfter }
        return Response(status: .init(code: status), headers: headers, body: .init(byteBuffer: Self.body(message, type: type, code: code)))
    }
}
