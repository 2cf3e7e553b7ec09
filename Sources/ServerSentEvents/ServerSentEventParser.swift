import NIOCore

/// Splits a `text/event-stream` into events as its bytes arrive (the WHATWG HTML standard's
/// event stream format: fields `name: value`, a space after the colon dropped, lines ending in
/// LF or CRLF, an event ending at a blank line, lines starting with a colon comments). The one
/// reader of server-sent events: the gateway reads its upstreams' streams with it, the twin
/// its gateway's, and the tests what they are sent.
public struct ServerSentEventParser {
    private var pending = ByteBuffer()

    public init() {}

    /// Calls `body` with each event `buffer` completes, in order; the bytes of an event not yet
    /// ended wait for the next call.
    public mutating func consume(_ buffer: ByteBuffer, _ body: (ServerSentEvent) throws -> Void) rethrows {
        var buffer = buffer
        pending.writeBuffer(&buffer)
        while let length = pending.withUnsafeReadableBytes(Self.eventLength), let bytes = pending.readSlice(length: length) {
            try body(Self.event(bytes))
        }
        pending.discardReadBytes()
    }

    /// The events `buffer` completes, in order (see ``consume(_:_:)``).
    public mutating func append(_ buffer: ByteBuffer) -> [ServerSentEvent] {
        var events: [ServerSentEvent] = []
        consume(buffer) { events.append($0) }
        return events
    }

    /// Every complete event of a whole stream (one not ended by a blank line is not one).
    public static func events(in text: String) -> [ServerSentEvent] {
        var parser = ServerSentEventParser()
        return parser.append(ByteBuffer(string: text))
    }

    /// The length of the first whole event, through its blank line (`\n\n` or `\r\n\r\n`).
    private static func eventLength(_ bytes: UnsafeRawBufferPointer) -> Int? {
        var i = 0
        while i + 1 < bytes.count {
            if bytes[i] == UInt8(ascii: "\n") {
                if bytes[i + 1] == UInt8(ascii: "\n") { return i + 2 }
                if bytes[i + 1] == UInt8(ascii: "\r"), i + 2 < bytes.count, bytes[i + 2] == UInt8(ascii: "\n") { return i + 3 }
            }
            i += 1
        }
        return nil
    }

    /// One event's fields, from its bytes.
    static func event(_ bytes: ByteBuffer) -> ServerSentEvent {
        var data: [UInt8]?
        var type: String?
        bytes.withUnsafeReadableBytes { bytes in
            var start = 0
            while start < bytes.count {
                var end = start
                while end < bytes.count, bytes[end] != UInt8(ascii: "\n") { end += 1 }
                var line = bytes[start..<end]
                if line.last == UInt8(ascii: "\r") { line = line.dropLast() }
                start = end + 1
                // A blank line ends the event; a line starting with a colon is a comment; a
                // line without a colon is a field with an empty value.
                guard let first = line.first, first != UInt8(ascii: ":") else { continue }
                let colon = line.firstIndex(of: UInt8(ascii: ":")) ?? line.endIndex
                let name = line[..<colon]
                var value = colon < line.endIndex ? line[(colon + 1)...] : line[line.endIndex...]
                if value.first == UInt8(ascii: " ") { value = value.dropFirst() }
                if name.elementsEqual("data".utf8) {
                    if data == nil {
                        data = Array(value)
                    } else {
                        data!.append(UInt8(ascii: "\n"))
                        data!.append(contentsOf: value)
                    }
                } else if name.elementsEqual("event".utf8) {
                    type = String(decoding: value, as: UTF8.self)
                }
            }
        }
        return ServerSentEvent(bytes: bytes, type: type, data: data)
    }
}
