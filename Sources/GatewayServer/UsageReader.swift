import NIOCore

/// Reads the token counts an upstream reports (`usage.prompt_tokens`, `usage.completion_tokens`),
/// from which the gateway settles spend.
enum UsageReader {
    /// The usage of a whole (non-streaming) answer, or nil when it reports none.
    static func usage(ofAnswer body: ByteBuffer) -> (input: Int, output: Int)? {
        body.withUnsafeReadableBytes { bytes in
            guard let (scanner, object) = try? JSONScanner.object(in: bytes) else { return nil }
            var usage: (input: Int, output: Int)?
            try? scanner.forEachMember(of: object) { key, value in
                if scanner.key(key, is: "usage") { usage = Self.usage(value, scanner: scanner) }
            }
            return usage
        }
    }

    /// The usage a whole Messages answer bills (``MessagesToChatAnswer/billed(input:output:cacheWrites:cacheReads:)``),
    /// read in place: a Messages answer passed on unchanged is not parsed beyond it.
    static func messagesUsage(ofAnswer body: ByteBuffer) -> (input: Int, output: Int)? {
        body.withUnsafeReadableBytes { bytes in
            guard let (scanner, object) = try? JSONScanner.object(in: bytes), let usage = scanner.member("usage", of: object), usage.kind == .object
            else { return nil }
            var counts = (input: -1, output: -1, writes: 0, reads: 0)
            try? scanner.forEachMember(of: usage) { key, value in
                guard let number = scanner.integer(value) else { return }
                if scanner.key(key, is: "input_tokens") {
                    counts.input = number
                } else if scanner.key(key, is: "output_tokens") {
                    counts.output = number
                } else if scanner.key(key, is: "cache_creation_input_tokens") {
                    counts.writes = number
                } else if scanner.key(key, is: "cache_read_input_tokens") {
                    counts.reads = number
                }
            }
            guard counts.input >= 0, counts.output >= 0 else { return nil }
            return MessagesToChatAnswer.billed(input: counts.input, output: counts.output, cacheWrites: counts.writes, cacheReads: counts.reads)
                .billed
        }
    }

    /// The output tokens of a whole answer that reports no usage, counted from the text it
    /// returned: every choice's `message.content` and tool-call `arguments`, a token per four
    /// UTF-8 bytes rounded up (OpenAI's rule of thumb for English text, the same rule the
    /// gateway counts a request's input by). Zero for an answer with no text.
    static func estimatedOutputTokens(ofAnswer body: ByteBuffer) -> Int {
        body.withUnsafeReadableBytes { bytes in
            guard let (scanner, object) = try? JSONScanner.object(in: bytes) else { return 0 }
            var textBytes = 0
            func count(_ value: JSONScanner.Value?) {
                if let value, value.kind == .string, let text = try? scanner.string(value) { textBytes += text.utf8.count }
            }
            guard let choices = scanner.member("choices", of: object), choices.kind == .array else { return 0 }
            try? scanner.forEachElement(of: choices) { (choice) throws(JSONScanner.Malformed) in
                guard let message = scanner.member("message", of: choice) else { return }
                count(scanner.member("content", of: message))
                guard let calls = scanner.member("tool_calls", of: message), calls.kind == .array else { return }
                try scanner.forEachElement(of: calls) { call in
                    count(scanner.member("function", of: call).flatMap { scanner.member("arguments", of: $0) })
                }
            }
            return (textBytes + 3) / 4
        }
    }

    /// A `usage` object's counts, or nil when it is `null` or lacks them.
    static func usage(_ value: JSONScanner.Value, scanner: JSONScanner) -> (input: Int, output: Int)? {
        guard value.kind == .object else { return nil }
        var input: Int?
        var output: Int?
        try? scanner.forEachMember(of: value) { key, count in
            if scanner.key(key, is: "prompt_tokens") {
                input = scanner.integer(count)
            } else if scanner.key(key, is: "completion_tokens") {
                output = scanner.integer(count)
            }
        }
        guard let input, let output, input >= 0, output >= 0 else { return nil }
        return (input, output)
    }
}
