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

    /// Anthropic's error body: `{"type": "error", "error": {"type", "message"}}`, and the
    /// error's code in `error.details.error_code` when it has one (as Anthropic names a spend
    /// limit's 429: `enforced_spend_limit_reached`).
    public static func messagesBody(_ message: String, type: String, code: String? = nil) -> ByteBuffer {
        var error: [String: Any] = ["type": type, "message": message]
        if let code { error["details"] = ["error_code": code] }
        let object: [String: Any] = ["type": "error", "error": error]
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data()
        return ByteBuffer(bytes: data)
    }

    /// An error answer: `status`, the body in the API's shape, and `retry-after` when given.
    public static func response(
        _ status: Int, _ message: String, type: String, code: String?, retryAfter: String?, api: APIProtocol = .openai
    ) -> Response {
        var headers: HTTPFields = [.contentType: "application/json"]
        if let retryAfter { headers[.retryAfter] = retryAfter }
        let body = api == .anthropic ? Self.messagesBody(message, type: type, code: code) : Self.body(message, type: type, code: code)
        return Response(status: .init(code: status), headers: headers, body: .init(byteBuffer: body))
    }
}
