import ConfigSchema
import Foundation
import NIOCore
import RoutingCore
import ServerSentEvents
import Testing

@testable import GatewayServer

/// Chat completions to Anthropic's Messages API and back, in process: what each field becomes,
/// what is refused, and a recorded stream's events as chunks a chat completions client reads
/// back into the same text, tool call and usage.
@Suite("Messages API translation")
struct MessagesTranslationTests {
    static func chat(_ object: [String: Any]) throws -> ClientRequest {
        try ClientRequest(body: ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: object)))
    }

    static func json(_ buffer: ByteBuffer) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(buffer.readableBytesView)) as? [String: Any])
    }

    @Test("a request: system and developer messages, images, tool calls and results, tools and their choice, limits and stops")
    func request() throws {
        let chat = try Self.chat([
            "model": "chat", "max_tokens": 300, "temperature": 1.5, "top_p": 0.9, "stop": "END", "user": "u-7", "parallel_tool_calls": false,
            "tool_choice": "required",
            "tools": [["type": "function", "function": ["name": "lookup", "description": "Find", "parameters": ["type": "object"]]]],
            "messages": [
                ["role": "system", "content": "Be brief."],
                ["role": "developer", "content": [["type": "text", "text": "Cite sources."]]],
                [
                    "role": "user",
                    "content": [
                        ["type": "text", "text": "What is this?"], ["type": "image_url", "image_url": ["url": "data:image/png;base64,AAAA"]],
                        ["type": "image_url", "image_url": ["url": "https://example.com/a.png"]],
                    ],
                ],
                [
                    "role": "assistant", "content": NSNull(),
                    "tool_calls": [["id": "call_1", "type": "function", "function": ["name": "lookup", "arguments": #"{"q":"png"}"#]]],
                ],
                ["role": "tool", "tool_call_id": "call_1", "content": "a picture"],
            ],
        ])
        let body = try Self.json(try ChatToMessagesRequest.body(of: chat, model: "claude-x"))
        #expect(body["model"] as? String == "claude-x" && body["max_tokens"] as? Int == 300 && body["stream"] == nil)
        #expect(body["temperature"] as? Double == 1 && body["top_p"] as? Double == 0.9)
        #expect(body["stop_sequences"] as? [String] == ["END"] && (body["metadata"] as? [String: String]) == ["user_id": "u-7"])
        let system = try #require(body["system"] as? [[String: String]])
        #expect(system.map { $0["text"] } == ["Be brief.", "Cite sources."])
        #expect((body["tool_choice"] as? [String: Any])?["type"] as? String == "any")
        #expect((body["tool_choice"] as? [String: Any])?["disable_parallel_tool_use"] as? Bool == true)
        let tools = try #require(body["tools"] as? [[String: Any]])
        #expect(
            tools.count == 1 && tools[0]["name"] as? String == "lookup" && tools[0]["input_schema"] != nil
                && tools[0]["description"] as? String == "Find")
        let messages = try #require(body["messages"] as? [[String: Any]])
        #expect(messages.map { $0["role"] as? String } == ["user", "assistant", "user"])
        let parts = try #require(messages[0]["content"] as? [[String: Any]])
        #expect(parts.map { $0["type"] as? String } == ["text", "image", "image"])
        #expect((parts[1]["source"] as? [String: String]) == ["type": "base64", "media_type": "image/png", "data": "AAAA"])
        #expect((parts[2]["source"] as? [String: String]) == ["type": "url", "url": "https://example.com/a.png"])
        let use = try #require((messages[1]["content"] as? [[String: Any]])?.first)
        #expect(use["type"] as? String == "tool_use" && use["id"] as? String == "call_1" && (use["input"] as? [String: String]) == ["q": "png"])
        let result = try #require((messages[2]["content"] as? [[String: Any]])?.first)
        #expect(
            result["type"] as? String == "tool_result" && result["tool_use_id"] as? String == "call_1" && result["content"] as? String == "a picture")
    }

    @Test(
        "what has no Messages counterpart is refused with the reason, never sent altered",
        arguments: [
            (#"{"n": 2}"#, "'n' above 1"),
            (
                #"{"messages": [{"role": "user", "content": [{"type": "input_audio", "input_audio": {"data": "AA", "format": "wav"}}]}]}"#,
                "input_audio"
            ),
            (#"{"messages": [{"role": "function", "name": "f", "content": "x"}]}"#, "role 'function'"),
        ])
    func refused(fields: String, reason: String) throws {
        var object: [String: Any] = ["model": "chat", "messages": [["role": "user", "content": "hi"]]]
        object.merge(try Self.json(ByteBuffer(string: fields))) { $1 }
        let chat = try Self.chat(object)
        #expect {
            _ = try ChatToMessagesRequest.body(of: chat, model: "claude-x")
        } throws: { error in
            (error as? UntranslatableRequest)?.error.message.contains(reason) == true
        }
    }

    @Test("a whole answer: text joined, tool use as tool calls, the stop reason as the finish, usage with the cache billed at its prices")
    func answer() throws {
        let message: [String: Any] = [
            "id": "msg_1", "type": "message", "role": "assistant", "model": "claude-x", "stop_reason": "tool_use",
            "content": [
                ["type": "thinking", "thinking": "hmm", "signature": "s"], ["type": "text", "text": "Let me look. "],
                ["type": "text", "text": "One moment."], ["type": "tool_use", "id": "toolu_1", "name": "lookup", "input": ["q": "png"]],
            ],
            "usage": ["input_tokens": 100, "output_tokens": 20, "cache_creation_input_tokens": 40, "cache_read_input_tokens": 1000],
        ]
        let (body, usage) = try #require(
            MessagesToChatAnswer.chatCompletion(of: ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: message))))
        // 100 + 1.25 × 40 + 0.1 × 1000 input-token equivalents.
        #expect(usage?.input == 250 && usage?.output == 20)
        let completion = try Self.json(body)
        #expect(completion["object"] as? String == "chat.completion" && completion["id"] as? String == "msg_1")
        let choice = try #require((completion["choices"] as? [[String: Any]])?.first)
        #expect(choice["finish_reason"] as? String == "tool_calls")
        let reply = try #require(choice["message"] as? [String: Any])
        #expect(reply["content"] as? String == "Let me look. One moment.")
        let call = try #require((reply["tool_calls"] as? [[String: Any]])?.first)
        #expect(call["id"] as? String == "toolu_1" && (call["function"] as? [String: String])?["arguments"] == #"{"q":"png"}"#)
        #expect((completion["usage"] as? [String: Int]) == ["prompt_tokens": 1140, "completion_tokens": 20, "total_tokens": 1160])
        #expect(MessagesToChatAnswer.chatCompletion(of: ByteBuffer(string: #"{"type":"error"}"#)) == nil)
    }

    /// Anthropic's documented event sequence for a text block and a tool call, split at awkward places.
    static let recordedStream = [
        #"event: message_start"#,
        #"data: {"type":"message_start","message":{"id":"msg_9","type":"message","role":"assistant","model":"claude-x","content":[],"stop_reason":null,"usage":{"input_tokens":25,"output_tokens":1}}}"#,
        "",
        #"event: content_block_start"#, #"data: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"#, "",
        #"event: ping"#, #"data: {"type": "ping"}"#, "",
        #"event: content_block_delta"#, #"data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hello \"you\""}}"#, "",
        #"event: content_block_delta"#, #"data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"!"}}"#, "",
        #"event: content_block_stop"#, #"data: {"type":"content_block_stop","index":0}"#, "",
        #"event: content_block_start"#,
        #"data: {"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"toolu_9","name":"lookup","input":{}}}"#, "",
        #"event: content_block_delta"#,
        #"data: {"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\"q\": "}}"#, "",
        #"event: content_block_delta"#,
        #"data: {"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"\"png\"}"}}"#, "",
        #"event: content_block_stop"#, #"data: {"type":"content_block_stop","index":1}"#, "",
        #"event: message_delta"#,
        #"data: {"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},"usage":{"output_tokens":31}}"#, "",
        #"event: message_stop"#, #"data: {"type":"message_stop"}"#, "", "",
    ].joined(separator: "\n")

    @Test("a stream: chunks that read back into the same text, tool call, finish and usage, then the [DONE]; split anywhere, the same")
    func stream() throws {
        let bytes = Array(Self.recordedStream.utf8)
        for split in [1, 7, 64, bytes.count] {
            var frames = SSEFrames(upstream: .anthropic)
            var all: [SSEFrames.Frame] = []
            var offset = 0
            while offset < bytes.count {
                let end = min(bytes.count, offset + split)
                all += frames.append(ByteBuffer(bytes: bytes[offset..<end]))
                offset = end
            }
            var text = "", arguments = "", finish: String?, usage: (input: Int, output: Int)?, done = false, contentFrames = 0
            var callID: String?
            for frame in all {
                switch frame {
                case .chunk(let bytes, let hasContent, let finished, let frameUsage):
                    if hasContent { contentFrames += 1 }
                    if let frameUsage { usage = frameUsage }
                    let line = String(buffer: bytes)
                    #expect(line.hasPrefix("data: ") && line.hasSuffix("\n\n"))
                    let chunk = try #require(try JSONSerialization.jsonObject(with: Data(line.dropFirst(6).utf8)) as? [String: Any])
                    #expect(chunk["object"] as? String == "chat.completion.chunk" && chunk["id"] as? String == "msg_9")
                    guard let choice = (chunk["choices"] as? [[String: Any]])?.first else { continue }
                    let delta = choice["delta"] as? [String: Any] ?? [:]
                    text += delta["content"] as? String ?? ""
                    for call in delta["tool_calls"] as? [[String: Any]] ?? [] {
                        callID = callID ?? call["id"] as? String
                        arguments += (call["function"] as? [String: Any])?["arguments"] as? String ?? ""
                    }
                    if let reason = choice["finish_reason"] as? String {
                        finish = reason
                        #expect(finished)
                    }
                case .done: done = true
                case .error, .malformed: Issue.record("no error in a good stream")
                }
            }
            #expect(text == #"Hello "you"!"# && contentFrames == 2, "split \(split)")
            #expect(callID == "toolu_9" && arguments == #"{"q": "png"}"#)
            #expect(finish == "tool_calls" && usage?.input == 25 && usage?.output == 31 && done)
        }
    }

    @Test("an error event inside a stream is the upstream's error; data that is not JSON is a malformed event")
    func streamFaults() {
        var frames = SSEFrames(upstream: .anthropic)
        let error = frames.append(
            ByteBuffer(string: "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}\n\n"))
        guard case .error(let text) = error.first else {
            Issue.record("\(error)")
            return
        }
        #expect(text.contains("overloaded_error"))
        let broken = frames.append(ByteBuffer(string: "event: content_block_delta\ndata: {\"type\": \"content_block_delta\", \n\n"))
        guard case .malformed = broken.first else {
            Issue.record("\(broken)")
            return
        }
    }

    @Test(
        "a Messages request to an Anthropic upstream goes unchanged but for the model's name: tools, system blocks, cache_control, thinking, images")
    func passThroughBody() throws {
        let text =
            #"{"model": "chat", "max_tokens": 64, "system": [{"type": "text", "text": "Be brief.", "cache_control": {"type": "ephemeral"}}], "#
            + #""thinking": {"type": "enabled", "budget_tokens": 1024}, "tools": [{"name": "lookup", "input_schema": {"type": "object"}}], "#
            + #""messages": [{"role": "user", "content": [{"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "AAAA"}}]}]}"#
        let request = try ClientRequest(messagesBody: ByteBuffer(string: text))
        #expect(request.api == .anthropic && request.model == "chat" && request.maxOutputTokens == 64 && !request.stream)
        #expect(
            String(buffer: request.upstreamBody(quotedModel: #""claude-x""#))
                == text.replacingOccurrences(of: #""model": "chat""#, with: #""model": "claude-x""#))
    }

    @Test("a Messages request to an OpenAI-compatible upstream: system, images, tool use and results, tools, choice, limits")
    func messagesToChat() throws {
        let object: [String: Any] = [
            "model": "chat", "max_tokens": 64, "stream": true, "system": [["type": "text", "text": "Be brief."]], "stop_sequences": ["END"],
            "tools": [["name": "lookup", "description": "Find", "input_schema": ["type": "object"]]],
            "tool_choice": ["type": "any", "disable_parallel_tool_use": true],
            "messages": [
                [
                    "role": "user",
                    "content": [
                        ["type": "text", "text": "What is this?"],
                        ["type": "image", "source": ["type": "base64", "media_type": "image/png", "data": "AAAA"]],
                    ],
                ],
                [
                    "role": "assistant",
                    "content": [
                        ["type": "thinking", "thinking": "hm", "signature": "s"],
                        ["type": "tool_use", "id": "toolu_1", "name": "lookup", "input": ["q": "png"]],
                    ],
                ],
                ["role": "user", "content": [["type": "tool_result", "tool_use_id": "toolu_1", "content": "a picture"]]],
            ],
        ]
        let request = try ClientRequest(messagesBody: ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: object)))
        let body = try Self.json(try MessagesToChatRequest.body(of: request, model: "gpt-x"))
        #expect(body["model"] as? String == "gpt-x" && body["max_tokens"] as? Int == 64 && body["stream"] as? Bool == true)
        #expect((body["stream_options"] as? [String: Bool]) == ["include_usage": true] && body["stop"] as? [String] == ["END"])
        #expect(body["tool_choice"] as? String == "required" && body["parallel_tool_calls"] as? Bool == false)
        let messages = try #require(body["messages"] as? [[String: Any]])
        #expect(messages.map { $0["role"] as? String } == ["system", "user", "assistant", "tool"])
        let parts = try #require(messages[1]["content"] as? [[String: Any]])
        #expect((parts[1]["image_url"] as? [String: String])?["url"] == "data:image/png;base64,AAAA")
        let call = try #require((messages[2]["tool_calls"] as? [[String: Any]])?.first)
        #expect(call["id"] as? String == "toolu_1" && (call["function"] as? [String: String])?["arguments"] == #"{"q":"png"}"#)
        #expect(messages[3]["tool_call_id"] as? String == "toolu_1" && messages[3]["content"] as? String == "a picture")
    }

    @Test("a chat completion as a Messages answer, and a chat stream as Messages events that read back into the same text, tool call and usage")
    func chatToMessages() throws {
        let completion: [String: Any] = [
            "id": "chatcmpl-1", "object": "chat.completion", "model": "gpt-x",
            "choices": [
                [
                    "index": 0, "finish_reason": "tool_calls",
                    "message": [
                        "role": "assistant", "content": "Looking.",
                        "tool_calls": [["id": "call_1", "type": "function", "function": ["name": "lookup", "arguments": #"{"q":"png"}"#]]],
                    ],
                ]
            ],
            "usage": ["prompt_tokens": 12, "completion_tokens": 7, "total_tokens": 19],
        ]
        let message = try Self.json(
            try #require(ChatToMessagesAnswer.message(of: ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: completion)))))
        #expect(message["type"] as? String == "message" && message["stop_reason"] as? String == "tool_use")
        let content = try #require(message["content"] as? [[String: Any]])
        #expect(
            content[0]["text"] as? String == "Looking." && content[1]["type"] as? String == "tool_use"
                && (content[1]["input"] as? [String: String]) == ["q": "png"])
        #expect((message["usage"] as? [String: Int]) == ["input_tokens": 12, "output_tokens": 7])

        let chunks = [
            #"{"id":"chatcmpl-2","model":"gpt-x","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}"#,
            #"{"id":"chatcmpl-2","model":"gpt-x","choices":[{"index":0,"delta":{"content":"Hello \"you\""},"finish_reason":null}]}"#,
            #"{"id":"chatcmpl-2","model":"gpt-x","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_2","type":"function","function":{"name":"lookup","arguments":""}}]},"finish_reason":null}]}"#,
            #"{"id":"chatcmpl-2","model":"gpt-x","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"q\": "}}]},"finish_reason":null}]}"#,
            #"{"id":"chatcmpl-2","model":"gpt-x","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"\"png\"}"}}]},"finish_reason":null}]}"#,
            #"{"id":"chatcmpl-2","model":"gpt-x","choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}"#,
            #"{"id":"chatcmpl-2","model":"gpt-x","choices":[],"usage":{"prompt_tokens":9,"completion_tokens":11,"total_tokens":20}}"#,
            "[DONE]",
        ].map { "data: \($0)\n\n" }.joined()
        var frames = SSEFrames(client: .anthropic, upstream: .openai)
        var text = ""
        var done = false, usage: (input: Int, output: Int)?
        for frame in frames.append(ByteBuffer(string: chunks)) {
            switch frame {
            case .chunk(let bytes, _, _, let frameUsage):
                if let frameUsage { usage = frameUsage }
                text += String(buffer: bytes)
            case .done: done = true
            default: Issue.record("\(frame)")
            }
        }
        let events = MessagesClientTests.events(text)
        #expect(
            events.map(\.0) == [
                "message_start", "content_block_start", "content_block_delta", "content_block_stop", "content_block_start", "content_block_delta",
                "content_block_delta", "content_block_stop", "message_delta",
            ], "\(events.map(\.0))")
        #expect(MessagesClientTests.text(events) == #"Hello "you""#)
        let arguments = events.compactMap { ($0.1["delta"] as? [String: Any])?["partial_json"] as? String }.joined()
        #expect(arguments == #"{"q": "png"}"# && ((events[4].1["content_block"] as? [String: Any])?["id"] as? String) == "call_2")
        let delta = events[8].1
        #expect(
            (delta["delta"] as? [String: Any])?["stop_reason"] as? String == "tool_use" && (delta["usage"] as? [String: Int])?["output_tokens"] == 11)
        #expect(done && usage?.input == 9 && usage?.output == 11)
    }
}
