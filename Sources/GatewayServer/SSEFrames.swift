import RoutingCore
import ConfigSchema
import NIOCore
import ServerSentEvents

/// An upstream's server-sent events as they arrive (split by
/// ``ServerSentEvents/ServerSentEventParser``), each read as far as the gateway must: a
/// `[DONE]`, a JSON chunk (with content, a finish, usage), the upstream's error event, or not
/// JSON. An Anthropic upstream's Messages events arrive as the same frames, translated
/// (``MessagesStreamReader``).
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

    private var parser = ServerSentEventParser()
    /// An Anthropic upstream's Messages events, read (and translated for a chat completions client).
    private var messages: MessagesStreamReader?
    /// An OpenAI-compatible upstream's chunks translated for a Messages client.
    private var chatToMessages: ChatToMessagesStream?

    init(client: APIProtocol = .openai, upstream: APIProtocol = .openai) {
        switch (client, upstream) {
        case (_, .anthropic): messages = MessagesStreamReader(passThrough: client == .anthropic)
        case (.anthropic, .openai): chatToMessages = ChatToMessagesStream()
        case (.openai, .openai): break
        }
    }

    mutating func append(_ buffer: ByteBuffer) -> [Frame] {
        var frames: [Frame] = []
        if messages != nil {
            parser.consume(buffer) { frames += messages!.frames($0) }
        } else if chatToMessages != nil {
            parser.consume(buffer) { frames += chatToMessages!.frames($0, Self.frame($0)) }
        } else {
            parser.consume(buffer) { frames.append(Self.frame($0)) }
        }
        return frames
    }

    static func frame(_ event: ServerSentEvent) -> Frame {
        let frame = event.bytes
        guard let data = event.data else { return .chunk(frame, hasContent: false, finished: false, usage: nil) }
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
