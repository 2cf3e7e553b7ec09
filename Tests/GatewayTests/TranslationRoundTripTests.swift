import ConfigSchema
import Foundation
import NIOCore
import RoutingCore
import Testing

@testable import GatewayServer

/// The translations over random conversations and random streams (fixed seeds): what both APIs
/// can say survives a trip there and back — roles, texts (quotes, backslashes, newlines and
/// non-ASCII included), tool calls with their arguments, tool results, images — and a stream
/// split at random places, with text and tool calls interleaved, reads back to the same text,
/// arguments, finish and usage through both stream translators.
@Suite("Messages translation: random round trips")
struct TranslationRoundTripTests {
    struct Draw {
        var generator: SplitMix64
        mutating func below(_ n: Int) -> Int { Int(generator.next() % UInt64(n)) }
        mutating func text() -> String {
            let pieces = ["hello", " ", "\"quoted\"", "back\\slash", "new\nline", "café", "😀", "{\"json\": 1}", "tab\t", "end."]
            return (0..<(1 + below(5))).map { _ in pieces[below(pieces.count)] }.joined()
        }
    }

    /// A random chat conversation in the subset both APIs express.
    static func conversation(_ draw: inout Draw) -> [String: Any] {
        var messages: [[String: Any]] = [["role": "system", "content": draw.text()]]
        var callNumber = 0
        for _ in 0..<(1 + draw.below(4)) {
            if draw.below(3) == 0 {
                messages.append([
                    "role": "user",
                    "content": [["type": "text", "text": draw.text()], ["type": "image_url", "image_url": ["url": "data:image/png;base64,QUJD"]]],
                ])
            } else {
                messages.append(["role": "user", "content": draw.text()])
            }
            if draw.below(2) == 0 {
                callNumber += 1
                let id = "call_\(callNumber)"
                messages.append([
                    "role": "assistant", "content": draw.text(),
                    "tool_calls": [["id": id, "type": "function", "function": ["name": "lookup", "arguments": #"{"q":"\#(callNumber)"}"#]]],
                ])
                messages.append(["role": "tool", "tool_call_id": id, "content": draw.text()])
            } else {
                messages.append(["role": "assistant", "content": draw.text()])
            }
        }
        messages.append(["role": "user", "content": draw.text()])
        return [
            "model": "chat", "max_tokens": 1 + draw.below(500), "messages": messages,
            "tools": [["type": "function", "function": ["name": "lookup", "parameters": ["type": "object"]]]],
        ]
    }

    /// What a conversation says, in a form both APIs keep: (role, text, calls, result ids).
    static func essence(_ messages: [[String: Any]]) -> [String] {
        messages.map { message in
            let role = message["role"] as? String ?? "?"
            var text = ""
            switch message["content"] {
            case let string as String: text = string
            case let parts as [[String: Any]]:
                text = parts.map { ($0["text"] as? String) ?? (($0["image_url"] as? [String: Any])?["url"] as? String) ?? "" }.joined(separator: "|")
            default: break
            }
            let calls = ((message["tool_calls"] as? [[String: Any]]) ?? []).map { call in
                let function = call["function"] as? [String: Any] ?? [:]
                return "\(call["id"] ?? "")(\(function["name"] ?? ""), \(function["arguments"] ?? ""))"
            }
            return "\(role): \(text) \(calls) \(message["tool_call_id"] as? String ?? "")"
        }
    }

    @Test("200 random conversations: chat → Messages → chat says the same")
    func requests() throws {
        var draw = Draw(generator: SplitMix64(seed: 27))
        for index in 0..<200 {
            let original = Self.conversation(&draw)
            let chat = try ClientRequest(body: ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: original)))
            let messagesBody = try ChatToMessagesRequest.body(of: chat, model: "claude-x")
            let messages = try ClientRequest(messagesBody: messagesBody)
            #expect(messages.maxOutputTokens == chat.maxOutputTokens)
            let back = try #require(
                try JSONSerialization.jsonObject(with: Data(try MessagesToChatRequest.body(of: messages, model: "gpt-x").readableBytesView))
                    as? [String: Any])
            // The assistant's calls go out as JSON objects and come back re-encoded: compare parsed.
            let normalise: ([[String: Any]]) -> [String] = { Self.essence($0).map { $0.replacingOccurrences(of: #"{"q":"#, with: "{\"q\":") } }
            #expect(
                normalise(back["messages"] as? [[String: Any]] ?? []) == normalise(original["messages"] as! [[String: Any]]),
                "conversation \(index)")
            #expect((back["tools"] as? [[String: Any]])?.count == 1)
        }
    }

    /// An OpenAI-compatible stream of `text` and `calls` (name, arguments), split into random
    /// deltas, then a finish and a usage chunk and `[DONE]`.
    static func chatStream(text: String, calls: [(String, String)], _ draw: inout Draw) -> String {
        func chunk(_ delta: String, finish: String = "null") -> String {
            #"data: {"id":"chatcmpl-r","model":"gpt-x","choices":[{"index":0,"delta":\#(delta),"finish_reason":\#(finish)}]}"# + "\n\n"
        }
        func pieces(_ string: String) -> [String] {
            var out: [String] = []
            var rest = Substring(string)
            while !rest.isEmpty {
                let n = 1 + draw.below(6)
                out.append(String(rest.prefix(n)))
                rest = rest.dropFirst(n)
            }
            return out
        }
        var stream = chunk(#"{"role":"assistant","content":""}"#)
        for piece in pieces(text) { stream += chunk(#"{"content":\#(JSONText.quoted(piece))}"#) }
        for (index, call) in calls.enumerated() {
            stream += chunk(
                #"{"tool_calls":[{"index":\#(index),"id":"call_\#(index)","type":"function","function":{"name":\#(JSONText.quoted(call.0)),"arguments":""}}]}"#
            )
            for piece in pieces(call.1) {
                stream += chunk(#"{"tool_calls":[{"index":\#(index),"function":{"arguments":\#(JSONText.quoted(piece))}}]}"#)
            }
        }
        stream += chunk("{}", finish: calls.isEmpty ? #""stop""# : #""tool_calls""#)
        stream +=
            #"data: {"id":"chatcmpl-r","model":"gpt-x","choices":[],"usage":{"prompt_tokens":17,"completion_tokens":23,"total_tokens":40}}"# + "\n\n"
        return stream + "data: [DONE]\n\n"
    }

    /// Feeds `bytes` to `frames` in random slices; returns the bytes of every frame and whether it ended.
    static func run(_ bytes: [UInt8], through frames: inout SSEFrames, _ draw: inout Draw) -> (String, finish: Bool, usage: (Int, Int)?, done: Bool) {
        var out = "", finished = false, done = false
        var usage: (Int, Int)?
        var offset = 0
        while offset < bytes.count {
            let end = min(bytes.count, offset + 1 + draw.below(40))
            for frame in frames.append(ByteBuffer(bytes: bytes[offset..<end])) {
                switch frame {
                case .chunk(let buffer, _, let isFinish, let frameUsage):
                    out += String(buffer: buffer)
                    if isFinish { finished = true }
                    if let frameUsage { usage = (frameUsage.input, frameUsage.output) }
                case .done: done = true
                case .error(let text), .malformed(let text): Issue.record("unexpected \(text)")
                }
            }
            offset = end
        }
        return (out, finished, usage, done)
    }

    @Test("200 random streams: chat chunks → Messages events → chat chunks read back to the same text, tool calls, finish and usage")
    func streams() throws {
        var draw = Draw(generator: SplitMix64(seed: 2_027))
        for index in 0..<200 {
            let text = draw.below(4) == 0 ? "" : draw.text()
            let calls = (0..<draw.below(3)).map { call in ("tool\(call)", #"{"q": \#(JSONText.quoted(draw.text()))}"#) }
            let original = Self.chatStream(text: text, calls: calls, &draw)
            var toMessages = SSEFrames(client: .anthropic, upstream: .openai)
            let events = Self.run(Array(original.utf8), through: &toMessages, &draw)
            #expect(events.done && events.finish && events.usage! == (17, 23), "stream \(index)")
            // The gateway ends a Messages client's stream with message_stop; then read as an Anthropic upstream's.
            let messages = events.0 + String(buffer: ClientStream.messageStop)
            var toChat = SSEFrames(client: .openai, upstream: .anthropic)
            let chunks = Self.run(Array(messages.utf8), through: &toChat, &draw)
            #expect(chunks.done && chunks.finish && chunks.usage.map { $0.1 } == 23, "stream \(index)")
            var readText = ""
            var arguments: [Int: String] = [:]
            var names: [Int: String] = [:]
            var finish: String?
            for line in chunks.0.components(separatedBy: "\n\n") where line.hasPrefix("data: ") {
                let chunk = try #require(try JSONSerialization.jsonObject(with: Data(line.dropFirst(6).utf8)) as? [String: Any])
                guard let choice = (chunk["choices"] as? [[String: Any]])?.first else { continue }
                let delta = choice["delta"] as? [String: Any] ?? [:]
                readText += delta["content"] as? String ?? ""
                for call in delta["tool_calls"] as? [[String: Any]] ?? [] {
                    let slot = call["index"] as? Int ?? -1
                    let function = call["function"] as? [String: Any] ?? [:]
                    if let name = function["name"] as? String { names[slot] = name }
                    arguments[slot, default: ""] += function["arguments"] as? String ?? ""
                }
                finish = (choice["finish_reason"] as? String) ?? finish
            }
            #expect(readText == text, "stream \(index)")
            #expect(calls.indices.map { names[$0] } == calls.map(\.0) && calls.indices.map { arguments[$0] } == calls.map(\.1), "stream \(index)")
            #expect(finish == (calls.isEmpty ? "stop" : "tool_calls"), "stream \(index)")
        }
    }
}
