import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// OpenAI-shaped error bodies.
public enum MockError {
    public static func body(_ message: String, type: String, code: String?) -> ByteBuffer {
        let object: [String: Any] = ["error": ["message": message, "type": type, "param": NSNull(), "code": code.map { $0 as Any } ?? NSNull()]]
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data()
        return ByteBuffer(bytes: data)
    }

    /// An error answer: `status`, the OpenAI-shaped body, and `retry-after` when given.
    public static func response(_ status: Int, _ message: String, type: String, code: String?, retryAfter: String?) -> Response {
        var headers: HTTPFields = [.contentType: "application/json"]
        if let retryAfter { headers[.retryAfter] = retryAfter }
        return Response(status: .init(code: status), headers: headers, body: .init(byteBuffer: Self.body(message, type: type, code: code)))
    }
}
