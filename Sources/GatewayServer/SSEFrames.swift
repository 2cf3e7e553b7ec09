import NIOCore

/// Splits an upstream's Server-Sent Events into frames as bytes arrive, and reads each one
/// as far as the gateway must: a `[DONE]`, a JSON chunk (with content, a finish, usage), the
/// upstream's error event, or not JSON.
struct SSEFrames {
    enum Frame {
        /// A chunk, as its exact bytes (through the blank line that ends it), whether it
        /// carries output, whether a choice of it finished (a `finish_reason`), and its usage.
        case chunk(ByteBuffer, hasContent: Bool, finished: Bool, usage: (input: Int, output: Int)?)
        case done
        /// The upstream reported an error inside the stream (`{"error": …}`).
        case error(String)
        /// An event whose data is not JSON.
        case malformed(String)
    }

    private var pending = ByteBuffer()

    mutating func append(_ buffer: ByteBuffer) -> [Frame] {
        var buffer = buffer
        pending.writeBuffer(&buffer)
        var frames: [Frame] = []
        while let length = pending.withUnsafeReadableBytes(Self.frameLength), let frame = pending.readSlice(length: length) {
            frames.append(Self.frame(frame))
        }
        pending.discardReadBytes()
        return frames
    }

    /// The length of the first whole frame (through its blank line: `\n\n` or `\r\n\r\n`).
    private static func frameLength(_ bytes: UnsafeRawBufferPointer) -> Int? {
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

    static func frame(_ frame: ByteBuffer) -> Frame {
        // The event's data: its `data:` lines, joined by newlines (usually there is one).
        var data: [UInt8] = []
        var lines = 0
        frame.withUnsafeReadableBytes { bytes in
            var start = 0
            while start < bytes.count {
                var end = start
                while end < bytes.count, bytes[end] != UInt8(ascii: "\n") { end += 1 }
                var line = bytes[start..<end]
                if line.last == UInt8(ascii: "\r") { line = line.dropLast() }
                if line.starts(with: "data:".utf8) {
                    var value = line.dropFirst(5)
                    if value.first == UInt8(ascii: " ") { value = value.dropFirst() }
                    if lines > 0 { data.append(UInt8(ascii: "\n")) }
                    data.append(contentsOf: value)
                    lines += 1
                }
                start = end + 1
            }
        }
        if lines == 0 { return .chunk(frame, hasContent: false, finished: false, usage: nil) }
        if data.elementsEqual("[DONE]".utf8) { return .done }
        return data.withUnsafeBytes { bytes -> Frame in
            do {
                let (scanner, object) = try JSONScanner.object(in: bytes)
                var isError = false
                var hasContent = false
                var finished = false
                var usage: (input: Int, output: Int)?
                try scanner.forEachMember(of: object) { key, value throws(JSONScanner.Malformed) in
                    if scanner.key(key, is: "error") {
                        isError = value.kind != .null
                    } else if scanner.key(key, is: "choices"), value.kind == .array {
                        try scanner.forEachElement(of: value) { choice throws(JSONScanner.Malformed) in
                            guard choice.kind == .object else { return }
                            try scanner.forEachMember(of: choice) { key, delta throws(JSONScanner.Malformed) in
                                if scanner.key(key, is: "finish_reason") && delta.kind != .null { finished = true }
                                guard scanner.key(key, is: "delta"), delta.kind == .object else { return }
                                try scanner.forEachMember(of: delta) { key, content in
                                    // A non-empty string: more than its two quotes.
                                    if scanner.key(key, is: "content"), content.kind == .string, content.range.count > 2 { hasContent = true }
                                }
                            }
                        }
                    } else if scanner.key(key, is: "usage") {
                        usage = UsageReader.usage(value, scanner: scanner)
                    }
                }
                if isError { return .error(String(decoding: data.prefix(200), as: UTF8.self)) }
                return .chunk(frame, hasContent: hasContent, finished: finished, usage: usage)
            } catch {
                return .malformed(String(decoding: data.prefix(80), as: UTF8.self))
            }
        }
    }
}
