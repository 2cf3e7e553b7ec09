import NIOCore
import RoutingCore

/// A client's request body, read only as far as routing needs: the model (a route),
/// streaming, token counts. Every other byte is passed upstream as the client sent it when the
/// upstream speaks the client's API (the body differs only in the model's name and, for a
/// streamed chat completion, in asking for usage), or translated when it speaks the other.
struct ClientRequest: Sendable {
    /// The API the client speaks (`POST /v1/chat/completions`: `openai`; `POST /v1/messages`:
    /// `anthropic`); its answers, errors and stream events go back in it.
    let api: APIProtocol
    let body: ByteBuffer
    let model: String
    let stream: Bool
    /// Whether the client asked for the usage chunk (`stream_options.include_usage`); a Messages
    /// stream always carries its usage.
    let includeUsage: Bool
    let estimatedInputTokens: Int
    let maxOutputTokens: Int
    /// Where the body is edited for an upstream: the model's value, and how to ask for usage.
    private let modelRange: Range<Int>
    private let usageEdit: (range: Range<Int>, replacement: String)?

    static let defaultMaxOutputTokens = 4_096

    /// A chat completions body.
    init(body: ByteBuffer) throws(GatewayError) {
        self.api = .openai
        self.body = body
        let read = body.withUnsafeReadableBytes { bytes in Result { () throws(GatewayError) in try Fields(bytes) } }
        let fields = try read.get()
        model = fields.model
        modelRange = fields.modelRange
        stream = fields.stream
        includeUsage = fields.includeUsage
        maxOutputTokens = fields.maxOutputTokens ?? Self.defaultMaxOutputTokens
        // About four bytes a token; the body's size bounds the messages' (reserved against
        // hard budgets before the upstream reports the real count).
        estimatedInputTokens = max(1, body.readableBytes / 4)
        usageEdit = fields.stream && !fields.includeUsage ? fields.usageEdit : nil
    }

    /// A Messages body: `model`, `messages` (not empty) and `max_tokens` are required, as
    /// Anthropic requires them.
    init(messagesBody body: ByteBuffer) throws(GatewayError) {
        self.api = .anthropic
        self.body = body
        let read = body.withUnsafeReadableBytes { bytes in Result { () throws(GatewayError) in try MessagesFields(bytes) } }
        let fields = try read.get()
        model = fields.model
        modelRange = fields.modelRange
        stream = fields.stream
        includeUsage = true
        maxOutputTokens = fields.maxOutputTokens
        estimatedInputTokens = max(1, body.readableBytes / 4)
        usageEdit = nil
    }

    /// The body sent to an upstream: its model name (`quotedModel`, a JSON string literal:
    /// `JSONText.quoted(name)`); when streaming, usage is always asked for (the gateway
    /// settles spend from it).
    func upstreamBody(quotedModel: String) -> ByteBuffer {
        let model = (range: modelRange, replacement: quotedModel)
        // At most two edits, in the body's order.
        let edits = usageEdit.map { usage in usage.range.lowerBound < modelRange.lowerBound ? [usage, model] : [model, usage] } ?? [model]
        var out = ByteBuffer()
        out.reserveCapacity(body.readableBytes + quotedModel.utf8.count + (usageEdit?.replacement.utf8.count ?? 0))
        var copied = 0
        for edit in edits {
            out.writeBytes(body.readableBytesView[body.readerIndex + copied..<body.readerIndex + edit.range.lowerBound])
            out.writeString(edit.replacement)
            copied = edit.range.upperBound
        }
        out.writeBytes(body.readableBytesView[body.readerIndex + copied..<body.writerIndex])
        return out
    }
}

extension ClientRequest {
    /// A 400 for a body the gateway cannot route.
    static func invalid(_ message: String, param: String? = nil) -> GatewayError {
        GatewayError(status: 400, message: message, type: "invalid_request_error", param: param)
    }

    /// The body's JSON object, or the 400 that says where it stops being one.
    static func object(in bytes: UnsafeRawBufferPointer) throws(GatewayError) -> (JSONScanner, JSONScanner.Value) {
        do {
            return try JSONScanner.object(in: bytes)
        } catch {
            throw invalid("the body is not a JSON object: \(error.reason) at byte \(error.offset)")
        }
    }

    /// The routing fields of a body, and where they are.
    private struct Fields {
        var model = ""
        var modelRange = 0..<0
        var stream = false
        var includeUsage = false
        var maxOutputTokens: Int?
        var usageEdit: (range: Range<Int>, replacement: String)

        init(_ bytes: UnsafeRawBufferPointer) throws(GatewayError) {
            let (scanner, object) = try ClientRequest.object(in: bytes)
            var model: JSONScanner.Value?
            var messages: JSONScanner.Value?
            var streamOptions: JSONScanner.Value?
            var includeUsageValue: JSONScanner.Value?
            var problem: GatewayError?
            // Without stream_options, the request for usage goes before the closing brace.
            usageEdit = (object.range.upperBound - 1..<object.range.upperBound - 1, #","stream_options":{"include_usage":true}"#)
            try? scanner.forEachMember(of: object) { key, value throws(JSONScanner.Malformed) in
                if scanner.key(key, is: "model") {
                    model = value
                } else if scanner.key(key, is: "messages") {
                    messages = value
                } else if scanner.key(key, is: "stream") {
                    switch value.kind {
                    case .true: stream = true
                    case .false, .null: stream = false
                    default: problem = problem ?? ClientRequest.invalid("'stream' must be true or false", param: "stream")
                    }
                } else if scanner.key(key, is: "stream_options") {
                    streamOptions = value
                } else if scanner.key(key, is: "max_tokens") || scanner.key(key, is: "max_completion_tokens") {
                    guard value.kind != .null else { return }
                    guard let tokens = scanner.integer(value), tokens >= 1 else {
                        problem =
                            problem
                            ?? ClientRequest.invalid(
                                "'\(scanner.key(key, is: "max_tokens") ? "max_tokens" : "max_completion_tokens")' must be an integer of at least 1",
                                param: scanner.key(key, is: "max_tokens") ? "max_tokens" : "max_completion_tokens")
                        return
                    }
                    // max_completion_tokens is the newer name and wins over max_tokens.
                    if maxOutputTokens == nil || scanner.key(key, is: "max_completion_tokens") { maxOutputTokens = tokens }
                }
            }
            if let problem { throw problem }
            guard let model, model.kind == .string, let name = try? scanner.string(model), !name.isEmpty else {
                throw GatewayError(
                    status: 400, message: "'model' is required (one of the gateway's routes)", type: "invalid_request_error", param: "model",
                    code: "missing_model")
            }
            self.model = name
            modelRange = model.range
            guard let messages, messages.kind == .array, !scanner.isEmpty(messages) else {
                throw ClientRequest.invalid("'messages' must be a non-empty list", param: "messages")
            }
            if let streamOptions {
                switch streamOptions.kind {
                case .object:
                    try? scanner.forEachMember(of: streamOptions) { key, value in
                        if scanner.key(key, is: "include_usage") { includeUsageValue = value }
                    }
                    if let includeUsageValue {
                        includeUsage = includeUsageValue.kind == .true
                        usageEdit = (includeUsageValue.range, "true")
                    } else {
                        let inside = streamOptions.range.lowerBound + 1
                        usageEdit = (inside..<inside, scanner.isEmpty(streamOptions) ? #""include_usage":true"# : #""include_usage":true,"#)
                    }
                case .null:
                    usageEdit = (streamOptions.range, #"{"include_usage":true}"#)
                default:
                    throw ClientRequest.invalid("'stream_options' must be an object", param: "stream_options")
                }
            }
        }
    }
}

extension ClientRequest {
    /// The routing fields of a Messages body, and where the model is.
    private struct MessagesFields {
        var model = ""
        var modelRange = 0..<0
        var stream = false
        var maxOutputTokens = 0

        init(_ bytes: UnsafeRawBufferPointer) throws(GatewayError) {
            let (scanner, object) = try ClientRequest.object(in: bytes)
            // One pass over the members, as for a chat completion.
            var model: JSONScanner.Value?
            var messages: JSONScanner.Value?
            var maxTokens: JSONScanner.Value?
            var streamValue: JSONScanner.Value?
            try? scanner.forEachMember(of: object) { key, value in
                if scanner.key(key, is: "model") {
                    model = value
                } else if scanner.key(key, is: "messages") {
                    messages = value
                } else if scanner.key(key, is: "max_tokens") {
                    maxTokens = value
                } else if scanner.key(key, is: "stream") {
                    streamValue = value
                }
            }
            guard let model, model.kind == .string, let name = try? scanner.string(model), !name.isEmpty else {
                throw ClientRequest.invalid("model: Field required (one of the gateway's routes)")
            }
            self.model = name
            modelRange = model.range
            guard let messages, messages.kind == .array, !scanner.isEmpty(messages) else {
                throw ClientRequest.invalid("messages: must be a non-empty list")
            }
            guard let tokens = maxTokens.flatMap(scanner.integer), tokens >= 1 else {
                throw ClientRequest.invalid("max_tokens: Field required (an integer of at least 1)")
            }
            maxOutputTokens = tokens
            switch streamValue?.kind {
            case .true?: stream = true
            case .false?, .null?, nil: stream = false
            default: throw ClientRequest.invalid("stream: must be true or false")
            }
        }
    }
}
