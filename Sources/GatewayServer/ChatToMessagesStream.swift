import NIOCore
import ServerSentEvents

/// An OpenAI-compatible upstream's chunks as Anthropic Messages events, for a Messages client:
/// the first chunk opens the message (`message_start`), text opens a text block and goes out as
/// `text_delta`s, a tool call opens a `tool_use` block (its id and name) and its arguments go
/// out as `input_json_delta`s, the finish closes the open block, and the `[DONE]` sends the
/// `message_delta` with the stop reason and the usage (which the upstream reports just before
/// it) ahead of the end, which the gateway sends as `message_stop`. Strings are copied as their
/// JSON literals.
struct ChatToMessagesStream {
    private var started = false
    private var id = "\"\""
    private var model = "\"\""
    /// The open content block: its index, and whether it is text.
    private var open: (index: Int, text: Bool)?
    private var nextIndex = 0
    /// A tool call's index in the chunks → its block's index.
    private var toolBlocks: [Int: Int] = [:]
    private var stopReason = "end_turn"
    private var usage: (input: Int, output: Int)?

    mutating func frames(_ event: ServerSentEvent, _ frame: SSEFrames.Frame) -> [SSEFrames.Frame] {
        switch frame {
        case .error, .malformed:
            return [frame]
        case .done:
            var out = ByteBuffer()
            if !started { start(&out) }
            closeBlock(&out)
            let counts = usage.map { #","usage":{"input_tokens":\#($0.input),"output_tokens":\#($0.output)}"# } ?? ""
            write(&out, "message_delta", #"{"type":"message_delta","delta":{"stop_reason":"\#(stopReason)","stop_sequence":null}\#(counts)}"#)
            return [.chunk(out, hasContent: false, finished: true, usage: usage), .done]
        case .chunk(_, _, let finished, let chunkUsage):
            if let chunkUsage { usage = chunkUsage }
            guard let data = event.data else { return [] }
            var out = ByteBuffer()
            var hasContent = false
            data.withUnsafeBytes { bytes in
                guard let (scanner, object) = try? JSONScanner.object(in: bytes) else { return }
                if !started {
                    id = scanner.literal(scanner.member("id", of: object)) ?? id
                    model = scanner.literal(scanner.member("model", of: object)) ?? model
                }
                guard let choices = scanner.member("choices", of: object), choices.kind == .array else { return }
                try? scanner.forEachElement(of: choices) { choice in
                    guard choice.kind == .object else { return }
                    if !started { start(&out) }
                    if let delta = scanner.member("delta", of: choice) {
                        if let text = scanner.literal(scanner.member("content", of: delta)), text.utf8.count > 2 {
                            if open?.text != true {
                                closeBlock(&out)
                                openBlock(&out, text: true, #"{"type":"text","text":""}"#)
                            }
                            write(
                                &out, "content_block_delta",
                                #"{"type":"content_block_delta","index":\#(open!.index),"delta":{"type":"text_delta","text":\#(text)}}"#)
                            hasContent = true
                        }
                        if let calls = scanner.member("tool_calls", of: delta), calls.kind == .array {
                            try? scanner.forEachElement(of: calls) { call in
                                let index = scanner.member("index", of: call).flatMap(scanner.integer) ?? 0
                                let function = scanner.member("function", of: call)
                                if let callID = scanner.literal(scanner.member("id", of: call)) {
                                    closeBlock(&out)
                                    let name = scanner.literal(function.flatMap { scanner.member("name", of: $0) }) ?? "\"\""
                                    openBlock(&out, text: false, #"{"type":"tool_use","id":\#(callID),"name":\#(name),"input":{}}"#)
                                    toolBlocks[index] = open!.index
                                }
                                if let part = scanner.literal(function.flatMap { scanner.member("arguments", of: $0) }), part.utf8.count > 2,
                                    let block = toolBlocks[index]
                                {
                                    write(
                                        &out, "content_block_delta",
                                        #"{"type":"content_block_delta","index":\#(block),"delta":{"type":"input_json_delta","partial_json":\#(part)}}"#
                                    )
                                }
                            }
                        }
                    }
                    if let reason = scanner.member("finish_reason", of: choice), reason.kind == .string, let text = try? scanner.string(reason) {
                        stopReason = ChatToMessagesAnswer.stopReason(text)
                        closeBlock(&out)
                    }
                }
            }
            guard out.readableBytes > 0 || finished else { return [] }
            return [.chunk(out, hasContent: hasContent, finished: finished, usage: nil)]
        }
    }

    private mutating func start(_ out: inout ByteBuffer) {
        started = true
        write(
            &out, "message_start",
            #"{"type":"message_start","message":{"id":\#(id),"type":"message","role":"assistant","model":\#(model),"content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":0,"output_tokens":0}}}"#
        )
    }

    private mutating func openBlock(_ out: inout ByteBuffer, text: Bool, _ block: String) {
        open = (nextIndex, text)
        write(&out, "content_block_start", #"{"type":"content_block_start","index":\#(nextIndex),"content_block":\#(block)}"#)
        nextIndex += 1
    }

    private mutating func closeBlock(_ out: inout ByteBuffer) {
        guard let block = open else { return }
        write(&out, "content_block_stop", #"{"type":"content_block_stop","index":\#(block.index)}"#)
        open = nil
    }

    private func write(_ out: inout ByteBuffer, _ name: String, _ json: String) {
        out.writeString("event: ")
        out.writeString(name)
        out.writeString("\ndata: ")
        out.writeString(json)
        out.writeString("\n\n")
    }
}
