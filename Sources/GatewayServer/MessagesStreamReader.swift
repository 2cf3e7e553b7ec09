import Foundation
import NIOCore
import ServerSentEvents

/// An Anthropic upstream's Messages stream, read event by event as ``SSEFrames`` frames: for a
/// Messages client each event is passed on as it came (`message_stop` is the end, which the
/// gateway sends), for a chat completions client it is translated to chunks — `message_start`
/// opens the answer (a chunk with the assistant's role), `content_block_delta` carries text
/// (`content`) or a tool call's arguments, a `tool_use` block's start names the call,
/// `message_delta` finishes it (a chunk with the finish reason, then one with the usage),
/// `message_stop` is the `[DONE]`. Either way the text deltas are the content, `message_delta`
/// the finish and the usage, and an `error` event is the upstream's error inside the stream —
/// before the first byte reaches the client a failure the route may fail over from, after it a
/// broken stream, as for every upstream. Translated, `ping` and block stops send nothing and
/// thinking is left out; strings are copied as their JSON literals, never decoded and encoded
/// again.
struct MessagesStreamReader {
    /// Whether the client speaks the Messages API too: events go to it unchanged.
    private let passThrough: Bool
    /// From `message_start`: the answer's id and model (JSON literals) and its usage so far.
    private var id = "\"\""
    private var model = "\"\""
    private var usage: [String: Any] = [:]
    private let created = Int(Date().timeIntervalSince1970)
    /// Content block index → tool call index, for the `tool_use` blocks seen.
    private var toolCalls: [Int: Int] = [:]

    init(passThrough: Bool) {
        self.passThrough = passThrough
    }

    mutating func frames(_ event: ServerSentEvent) -> [SSEFrames.Frame] {
        guard let data = event.data else { return [] }
        return data.withUnsafeBytes { bytes -> [SSEFrames.Frame] in
            do {
                let (scanner, object) = try JSONScanner.object(in: bytes)
                func readUsage(_ value: JSONScanner.Value?) {
                    guard let value, value.kind == .object else { return }
                    try? scanner.forEachMember(of: value) { key, count in
                        guard let number = scanner.integer(count) else { return }
                        if scanner.key(key, is: "input_tokens") {
                            usage["input_tokens"] = number
                        } else if scanner.key(key, is: "output_tokens") {
                            usage["output_tokens"] = number
                        } else if scanner.key(key, is: "cache_creation_input_tokens") {
                            usage["cache_creation_input_tokens"] = number
                        } else if scanner.key(key, is: "cache_read_input_tokens") {
                            usage["cache_read_input_tokens"] = number
                        }
                    }
                }
                let type = scanner.member("type", of: object).flatMap { try? scanner.string($0) }
                switch type {
                case "message_start":
                    let message = scanner.member("message", of: object)
                    id = scanner.literal(message.flatMap { scanner.member("id", of: $0) }) ?? id
                    model = scanner.literal(message.flatMap { scanner.member("model", of: $0) }) ?? model
                    readUsage(message.flatMap { scanner.member("usage", of: $0) })
                    if passThrough { return [.chunk(event.bytes, hasContent: false, finished: false, usage: nil)] }
                    return [chunk(delta: #"{"role":"assistant","content":""}"#)]
                case "content_block_start":
                    if passThrough { return [.chunk(event.bytes, hasContent: false, finished: false, usage: nil)] }
                    guard let block = scanner.member("content_block", of: object),
                        scanner.member("type", of: block).flatMap({ try? scanner.string($0) }) == "tool_use",
                        let index = scanner.member("index", of: object).flatMap(scanner.integer)
                    else { return [] }
                    let call = toolCalls.count
                    toolCalls[index] = call
                    let callID = scanner.literal(scanner.member("id", of: block)) ?? "\"\""
                    let name = scanner.literal(scanner.member("name", of: block)) ?? "\"\""
                    return [
                        chunk(
                            delta:
                                #"{"tool_calls":[{"index":\#(call),"id":\#(callID),"type":"function","function":{"name":\#(name),"arguments":""}}]}"#
                        )
                    ]
                case "content_block_delta":
                    guard let delta = scanner.member("delta", of: object) else { return [] }
                    let deltaType = scanner.member("type", of: delta).flatMap { try? scanner.string($0) }
                    if passThrough {
                        // Text is content; a tool call's arguments and thinking are not (as in a chat completion).
                        let text = deltaType == "text_delta" ? scanner.literal(scanner.member("text", of: delta)) : nil
                        return [.chunk(event.bytes, hasContent: (text?.utf8.count ?? 0) > 2, finished: false, usage: nil)]
                    }
                    switch deltaType {
                    case "text_delta":
                        guard let text = scanner.literal(scanner.member("text", of: delta)) else { return [] }
                        // A non-empty string: more than its two quotes.
                        return [chunk(delta: #"{"content":\#(text)}"#, hasContent: text.utf8.count > 2)]
                    case "input_json_delta":
                        guard let part = scanner.literal(scanner.member("partial_json", of: delta)),
                            let index = scanner.member("index", of: object).flatMap(scanner.integer), let call = toolCalls[index]
                        else { return [] }
                        return [chunk(delta: #"{"tool_calls":[{"index":\#(call),"function":{"arguments":\#(part)}}]}"#)]
                    default:
                        return []
                    }
                case "message_delta":
                    readUsage(scanner.member("usage", of: object))
                    let stopReason = scanner.member("delta", of: object).flatMap { scanner.member("stop_reason", of: $0) }.flatMap {
                        $0.kind == .string ? try? scanner.string($0) : nil
                    }
                    if passThrough {
                        return [.chunk(event.bytes, hasContent: false, finished: true, usage: MessagesToChatAnswer.usage(usage)?.billed)]
                    }
                    var frames = [
                        chunk(delta: "{}", finishReason: "\"\(MessagesToChatAnswer.finishReason(stopReason))\"", finished: true)
                    ]
                    if let counts = MessagesToChatAnswer.usage(usage) {
                        let output = counts.billed.output
                        let text =
                            #"{"id":\#(id),"object":"chat.completion.chunk","created":\#(created),"model":\#(model),"choices":[],"usage":{"prompt_tokens":\#(counts.promptTokens),"completion_tokens":\#(output),"total_tokens":\#(counts.promptTokens + output)}}"#
                        frames.append(.chunk(Self.event(text), hasContent: false, finished: false, usage: counts.billed))
                    }
                    return frames
                case "message_stop":
                    return [.done]
                case "error":
                    return [.error(String(decoding: data.prefix(200), as: UTF8.self))]
                default:
                    // ping, block stops, events Anthropic may add: passed on to a Messages client.
                    return passThrough ? [.chunk(event.bytes, hasContent: false, finished: false, usage: nil)] : []
                }
            } catch {
                return [.malformed(String(decoding: data.prefix(80), as: UTF8.self))]
            }
        }
    }

    private func chunk(delta: String, finishReason: String = "null", hasContent: Bool = false, finished: Bool = false) -> SSEFrames.Frame {
        let text =
            #"{"id":\#(id),"object":"chat.completion.chunk","created":\#(created),"model":\#(model),"choices":[{"index":0,"delta":\#(delta),"finish_reason":\#(finishReason)}]}"#
        return .chunk(Self.event(text), hasContent: hasContent, finished: finished, usage: nil)
    }

    private static func event(_ json: String) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.reserveCapacity(json.utf8.count + 8)
        buffer.writeString("data: ")
        buffer.writeString(json)
        buffer.writeString("\n\n")
        return buffer
    }
}
