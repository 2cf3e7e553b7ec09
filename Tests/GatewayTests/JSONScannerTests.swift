import Foundation
import NIOCore
import RoutingCore
import Testing
@testable import GatewayServer

/// The gateway reads request bodies, answers and stream chunks with its own JSON scanner;
/// Foundation's JSONSerialization is the reference it must agree with.
@Suite("JSON scanner, request body and SSE frames")
struct JSONScannerTests {
    /// Whether the scanner accepts `text` as one JSON object.
    static func scannerAccepts(_ text: String) -> Bool {
        Array(text.utf8).withUnsafeBytes { (try? JSONScanner.object(in: $0)) != nil }
    }

    /// Whether Foundation accepts `text` as one JSON object, as RFC 8259 reads it: Foundation
    /// also takes a trailing comma (`[1,]`), which the RFC, OpenAI's API and the scanner refuse.
    /// (No test document has a comma before a bracket inside a string.)
    static func foundationAccepts(_ text: String) -> Bool {
        guard text.range(of: #",\s*[}\]]"#, options: .regularExpression) == nil else { return false }
        return (try? JSONSerialization.jsonObject(with: Data(text.utf8))) is [String: Any]
    }

    @Test(
        "agrees with JSONSerialization on hand-picked documents",
        arguments: [
            #"{}"#, #" { } "#, #"{"a":1}"#, #"{"a":[1,2,{"b":null}],"c":"x\"y\\z\/\n\u00e9"}"#, #"{"a":-0.5e+10}"#, #"{"a":true,"b":false}"#,
            #"[]"#, #""a""#, #"1"#, #"{"a":1,}"#, #"{"a":01}"#, #"{"a":1.}"#, #"{"a":.5}"#, #"{"a":-}"#, #"{"a":1e}"#, #"{"a":tru}"#,
            #"{"a" 1}"#, #"{a:1}"#, #"{"a":1}x"#, #"{"a":"\x"}"#, #"{"a":"\u12"}"#, "{\"a\":\"\t\"}", #"{"a":[1,]}"#, #"{"a":[1 2]}"#, #"{"#,
            #"{"a":"#,
            #"{"a":1}{"#, #"{"a":1e5,"b":-0,"c":0.25E-3}"#,
        ])
    func handPicked(_ text: String) {
        #expect(Self.scannerAccepts(text) == Self.foundationAccepts(text), "\(text)")
    }

    /// 3,000 random documents, each also mutated at one byte: the scanner accepts exactly
    /// what Foundation accepts. Two differences are by design and kept out of the mutations:
    /// the scanner checks a `\u` escape's surrogates only when it decodes the string (strings
    /// avoid `u`), and it accepts numbers beyond a Double's range, which Foundation refuses
    /// (no `e` is inserted); both pass through to the upstream untouched.
    @Test("agrees with JSONSerialization on random documents and their one-byte mutations")
    func randomDocuments() {
        var generator = SplitMix64(seed: 0x5eed_0f_15)
        let alphabet = Array("abcdefghijklmnopqrstvwxyz ABC019-_.".utf8)
        func value(_ depth: Int) -> String {
            switch Int.random(in: 0..<(depth > 3 ? 5 : 7), using: &generator) {
            case 0: return "null"
            case 1: return Bool.random(using: &generator) ? "true" : "false"
            case 2: return String(Int.random(in: -1_000_000...1_000_000, using: &generator))
            case 3: return String(Double.random(in: -1e6...1e6, using: &generator))
            case 4:
                return "\""
                    + String(
                        decoding: (0..<Int.random(in: 0..<8, using: &generator)).map { _ in alphabet.randomElement(using: &generator)! },
                        as: UTF8.self) + "\""
            case 5: return "[" + (0..<Int.random(in: 0..<4, using: &generator)).map { _ in value(depth + 1) }.joined(separator: ",") + "]"
            default: return object(depth + 1)
            }
        }
        func object(_ depth: Int) -> String {
            "{" + (0..<Int.random(in: 0..<4, using: &generator)).map { i in "\"k\(i)\" : " + value(depth + 1) }.joined(separator: ", ") + "}"
        }
        let mutations = Array(#"{}[]":,01-.\ tnx"#.utf8)
        var disagreements: [String] = []
        for _ in 0..<3_000 {
            let document = object(0)
            if !Self.scannerAccepts(document) { disagreements.append(document) }
            var bytes = Array(document.utf8)
            let at = Int.random(in: 0..<bytes.count, using: &generator)
            switch Int.random(in: 0..<3, using: &generator) {
            case 0: bytes[at] = mutations.randomElement(using: &generator)!
            case 1: bytes.insert(mutations.randomElement(using: &generator)!, at: at)
            default: bytes.remove(at: at)
            }
            let mutated = String(decoding: bytes, as: UTF8.self)
            if Self.scannerAccepts(mutated) != Self.foundationAccepts(mutated) { disagreements.append(mutated) }
        }
        #expect(disagreements.isEmpty, "\(disagreements.prefix(5))")
    }

    @Test("decodes strings and integers as Foundation does")
    func decoding() throws {
        let text = #"{"s":"a\"b\\c\/d\b\f\n\r\t\u00e9\ud83d\ude00 plain","i":-9223372036854775808,"big":9223372036854775808,"f":1.5,"e":1e3}"#
        let reference = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        var strings: [String] = []
        var integers: [String: Int?] = [:]
        try Array(text.utf8).withUnsafeBytes { bytes in
            let (scanner, object) = try JSONScanner.object(in: bytes)
            try scanner.forEachMember(of: object) { key, value throws(JSONScanner.Malformed) in
                if scanner.key(key, is: "s") {
                    strings.append(try scanner.string(value))
                } else {
                    for name: StaticString in ["i", "big", "f", "e"] where scanner.key(key, is: name) {
                        integers[name.description] = scanner.integer(value)
                    }
                }
            }
        }
        #expect(strings == [reference["s"] as? String])
        #expect(integers == ["i": Int.min, "big": nil, "f": nil, "e": nil])
        // An escaped key is compared by its text.
        try Array(#"{"mod\u0065l":"x"}"#.utf8).withUnsafeBytes { bytes in
            let (scanner, object) = try JSONScanner.object(in: bytes)
            var matched = false
            try scanner.forEachMember(of: object) { key, _ in matched = scanner.key(key, is: "model") }
            #expect(matched)
        }
    }

    @Test(
        "a request's upstream body differs only in the model and in asking for usage",
        arguments: [
            (#"{"model":"chat","messages":[{"role":"user","content":"hi"}]}"#, false),
            (#"{"model":"chat","messages":[{"role":"user","content":"hi"}],"stream":true}"#, true),
            (#"{"model":"chat","stream":true,"stream_options":{},"messages":[{"role":"user","content":"hi"}]}"#, true),
            (#"{"model":"chat","stream":true,"stream_options":{"include_usage":false},"messages":[{"role":"user","content":"hi"}]}"#, true),
            (#"{"model":"chat","stream":true,"stream_options":{"other":1},"messages":[{"role":"user","content":"hi"}]}"#, true),
            (#"{"model":"chat","stream":true,"stream_options":null,"messages":[{"role":"user","content":"hi"}]}"#, true),
            (#"{"stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"hi"}],"model":"ch\u0061t"}"#, true),
            (#" { "model" : "chat" , "messages" : [ {"role":"user","content":"\"quoted\" é"} ] , "max_tokens" : 7 } "#, false),
        ])
    func upstreamBody(_ text: String, streams: Bool) throws {
        let request = try ClientRequest(body: ByteBuffer(string: text))
        #expect(request.model == "chat")
        #expect(request.stream == streams)
        let sent = request.upstreamBody(quotedModel: JSONText.quoted(#"gpt-"x"\"#))
        var expected = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        expected["model"] = #"gpt-"x"\"#
        if streams {
            var options = expected["stream_options"] as? [String: Any] ?? [:]
            options["include_usage"] = true
            expected["stream_options"] = options
        }
        let actual = try #require(try JSONSerialization.jsonObject(with: Data(sent.readableBytesView)) as? [String: Any])
        func canonical(_ object: [String: Any]) throws -> String {
            String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self)
        }
        #expect(try canonical(actual) == canonical(expected), "\(String(buffer: sent))")
    }

    @Test(
        "a bad body gets a 400 naming what is wrong",
        arguments: [
            (#"not json"#, "the body is not a JSON object", nil as String?),
            (#"["model"]"#, "the body is not a JSON object", nil),
            (#"{"messages":[{"role":"user","content":"hi"}]}"#, "'model' is required", "model"),
            (#"{"model":3,"messages":[{"role":"user","content":"hi"}]}"#, "'model' is required", "model"),
            (#"{"model":"chat","messages":[]}"#, "'messages' must be a non-empty list", "messages"),
            (#"{"model":"chat","messages":[{}],"stream":"yes"}"#, "'stream' must be true or false", "stream"),
            (#"{"model":"chat","messages":[{}],"max_tokens":0}"#, "'max_tokens' must be an integer of at least 1", "max_tokens"),
            (
                #"{"model":"chat","messages":[{}],"max_completion_tokens":2.5}"#, "'max_completion_tokens' must be an integer of at least 1",
                "max_completion_tokens"
            ),
            (#"{"model":"chat","messages":[{}],"stream_options":true}"#, "'stream_options' must be an object", "stream_options"),
        ])
    func badBodies(_ text: String, message: String, param: String?) {
        do {
            _ = try ClientRequest(body: ByteBuffer(string: text))
            Issue.record("accepted \(text)")
        } catch {
            #expect(error.status == 400)
            #expect(error.message.hasPrefix(message), "\(error.message)")
            #expect(error.param == param)
        }
    }

    @Test("max_completion_tokens wins over max_tokens; the default is 4,096")
    func outputTokens() throws {
        #expect(
            try ClientRequest(body: ByteBuffer(string: #"{"model":"m","messages":[1],"max_completion_tokens":9,"max_tokens":5}"#)).maxOutputTokens
                == 9)
        #expect(try ClientRequest(body: ByteBuffer(string: #"{"model":"m","messages":[1],"max_tokens":5}"#)).maxOutputTokens == 5)
        #expect(try ClientRequest(body: ByteBuffer(string: #"{"model":"m","messages":[1]}"#)).maxOutputTokens == 4_096)
    }

    /// A stream split at every byte boundary gives the same frames as in one piece.
    @Test("SSE frames split anywhere, CRLF and comments, content, usage, errors, [DONE]")
    func sseFrames() {
        let stream =
            ": keep-alive\n\n"
            + "data: {\"choices\":[{\"delta\":{\"role\":\"assistant\",\"content\":\"\"}}]}\n\n"
            + "data: {\"choices\":[{\"delta\":{\"content\":\"Hel\"}}]}\r\n\r\n"
            + "data: {\"choices\":[{\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n"
            + "event: x\ndata: {\"choices\":[],\n"
            + "data: \"usage\":{\"prompt_tokens\":12,\"completion_tokens\":3}}\n\n"
            + "data: [DONE]\n\n"
        func frames(splitAt split: Int) -> [String] {
            var reader = SSEFrames()
            let bytes = Array(stream.utf8)
            let parts = [bytes[..<split], bytes[split...]]
            return parts.flatMap { part in
                reader.append(ByteBuffer(bytes: part)).map { frame -> String in
                    switch frame {
                    case .chunk(let bytes, let hasContent, let finished, let usage):
                        "chunk \(bytes.readableBytes) \(hasContent) \(finished) \(usage.map { "\($0.input)/\($0.output)" } ?? "-")"
                    case .done: "done"
                    case .error: "error"
                    case .malformed: "malformed"
                    }
                }
            }
        }
        let whole = frames(splitAt: 0)
        #expect(
            whole == [
                "chunk 14 false false -", "chunk 65 false false -", "chunk 51 true false -", "chunk 57 false true -", "chunk 89 false false 12/3",
                "done",
            ])
        for split in 1..<stream.utf8.count { #expect(frames(splitAt: split) == whole, "split at \(split)") }

        var reader = SSEFrames()
        let bad = reader.append(ByteBuffer(string: "data: {\"choices\": [\n\ndata: {\"error\":{\"message\":\"overloaded\"}}\n\n"))
        guard bad.count == 2, case .malformed = bad[0], case .error(let reason) = bad[1] else {
            Issue.record("\(bad)")
            return
        }
        #expect(reason.contains("overloaded"))
    }
}
