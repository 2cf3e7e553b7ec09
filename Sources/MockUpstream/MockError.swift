import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import RoutingCore

/// Error bodies, in OpenAI's shape or Anthropic's.
public enum MockError {
    public static func body(_ message: String, type: String, code: String?) -> ByteBuffer {
        let object: [String: Any] = ["error": ["message": message, "type": type, "param": NSNull(), "code": code.map { $0 as Any } ?? NSNull()]]
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data()
        return ByteBuffer(bytes: data)
    }

    /// Anthropic's error body: `{"type": "error", "error": {"type", "message"}}`.
    public static func messagesBody(_ message: String, type: String) -> ByteBuffer {
        let object: [String: Any] = ["type": "error", "error": ["type": type, "message": message]]
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data()
        return ByteBuffer(bytes: data)
    }

    /// An error answer: `status`, the body in the API's shape, and `retry-after` when given.
    public static func response(
        _ status: Int, _ message: String, type: String, code: String?, retryAfter: String?, api: APIProtocol = .openai
    ) -> Response {
        var headers: HTTPFields = [.contentType: "application/json"]
        if let retryAfter { headers[.retryAfter] = retryAfter }
        let body = api == .anthropic ? Self.messagesBody(message, type: type) : Self.body(message, type: type, code: code)
        return Response(status: .init(code: status), headers: headers, body: .init(byteBuffer: body))
    }
}
