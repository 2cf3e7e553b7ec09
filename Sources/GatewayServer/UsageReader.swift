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

    /// The output tokens of a whole answer that reports no usage, counted from the text it
    /// returned: every choice's `message.content` and tool-call `arguments`, a token per four
    /// UTF-8 bytes rounded up (OpenAI's rule of thumb for English text, the same rule the
    /// gateway counts a request's input by). Zero for an answer with no text.
    static func estimatedOutputTokens(ofAnswer body: ByteBuffer) -> Int {
        body.withUnsafeReadableBytes { bytes in
            guard let (scanner, object) = try? JSONScanner.object(in: bytes) else { return 0 }
            var textBytes = 0
            func count(_ value: JSONScanner.Value) {
                if value.kind == .string, let text = try? scanner.string(value) { textBytes += text.utf8.count }
            }
            typealias Malformed = JSONScanner.Malformed
            try? scanner.forEachMember(of: object) { (key, choices) throws(Malformed) in
                guard scanner.key(key, is: "choices"), choices.kind == .array else { return }
                try scanner.forEachElement(of: choices) { (choice) throws(Malformed) in
                    guard choice.kind == .object else { return }
                    try scanner.forEachMember(of: choice) { (key, message) throws(Malformed) in
                        guard scanner.key(key, is: "message"), message.kind == .object else { return }
                        try scanner.forEachMember(of: message) { (key, value) throws(Malformed) in
                            if scanner.key(key, is: "content") { count(value) }
                            guard scanner.key(key, is: "tool_calls"), value.kind == .array else { return }
                            try scanner.forEachElement(of: value) { (call) throws(Malformed) in
                                guard call.kind == .object else { return }
                                try scanner.forEachMember(of: call) { (key, function) throws(Malformed) in
                                    guard scanner.key(key, is: "function"), function.kind == .object else { return }
                                    try scanner.forEachMember(of: function) { (key, arguments) throws(Malformed) in
                                        if scanner.key(key, is: "arguments") { count(arguments) }
                                    }
                                }
                            }
                        }
                    }
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
