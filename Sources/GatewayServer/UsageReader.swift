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
