import NIOCore

/// One event of a `text/event-stream`: its exact bytes (through the blank line that ends it),
/// its type (the `event:` field; nil when it has none, which the standard reads as "message")
/// and its data (the `data:` lines' values joined by newlines; nil when it has no data line —
/// a comment or a keep-alive).
public struct ServerSentEvent: Sendable {
    public let bytes: ByteBuffer
    public let type: String?
    public let data: [UInt8]?

    /// The data as text (nil when there is none).
    public var text: String? { data.map { String(decoding: $0, as: UTF8.self) } }

    /// Whether the data is exactly `literal` (`[DONE]`, the end of an OpenAI-compatible stream).
    public func dataIs(_ literal: StaticString) -> Bool {
        guard let data else { return false }
        return literal.withUTF8Buffer { data.elementsEqual($0) }
    }

    /// Whether the data starts with `prefix` (`{"error"`).
    public func dataStarts(with prefix: StaticString) -> Bool {
        guard let data else { return false }
        return prefix.withUTF8Buffer { data.starts(with: $0) }
    }
}
