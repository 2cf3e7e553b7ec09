import Foundation
import NIOCore

/// An error as OpenAI's API writes it: `{"error": {"message", "type", "param", "code"}}`.
public struct OpenAIError: Error, Sendable {
    public var status: Int
    public var message: String
    public var type: String
    public var code: String?

    public init(status: Int, message: String, type: String, code: String? = nil) {
        self.status = status
        self.message = message
        self.type = type
        self.code = code
    }

    public var body: ByteBuffer {
        let object: [String: Any] = ["error": ["message": message, "type": type, "param": NSNull(), "code": code.map { $0 as Any } ?? NSNull()]]
        return ByteBuffer(bytes: (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data())
    }

    /// The same error as an SSE frame, for a failure after the stream has started.
    public var streamFrame: ByteBuffer {
        var frame = ByteBuffer(string: "data: ")
        var json = body
        frame.writeBuffer(&json)
        frame.writeString("\n\n")
        return frame
    }

    static let unauthorized = OpenAIError(status: 401, message: "Incorrect or missing API key: send Authorization: Bearer KEY", type: "invalid_request_error", code: "invalid_api_key")
}
