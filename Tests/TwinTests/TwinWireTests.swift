import Foundation
import NIOCore
import MockUpstream
import RoutingCore
import Testing
@testable import Twin

@Suite("The twin's requests, stamps and stream endings")
struct TwinWireTests {
    @Test("a request's body is exactly four bytes per input token, valid JSON, with the sizes named, in either API")
    func requestBody() throws {
        for api in APIProtocol.allCases {
            for tokens in [40, 1_500, 30_001] {
                for stream in [true, false] {
                    let body = TwinRequestBody.make(route: "chat", inputTokens: tokens, outputTokens: 350, stream: stream, api: api)
                    #expect(body.readableBytes == 4 * tokens, "the gateway estimates input tokens as a quarter of the body's bytes")
                    let parsed = try JSONSerialization.jsonObject(with: Data(body.readableBytesView))
                    let object = try #require(parsed as? [String: Any])
                    #expect(object["model"] as? String == "chat" && object["stream"] as? Bool == stream && object["max_tokens"] as? Int == 350)
                    switch api {
                    case .openai:
                        #expect((object["stream_options"] != nil) == stream)
                        #expect(object["user"] as? String == "twin-input-tokens:\(tokens)")
                    case .anthropic:
                        #expect(object["stream_options"] == nil && object["user"] == nil, "not fields of the Messages API")
                        #expect((object["metadata"] as? [String: Any])?["user_id"] as? String == "twin-input-tokens:\(tokens)")
                    }
                }
            }
        }
    }

    @Test("whole answers: a chat completion with a choice, a Messages response with content")
    func wholeAnswers() {
        let completion = MockCompletion(id: "x", model: "m", promptTokens: 3, outputTokens: 4)
        #expect(TwinRequestBody.isAnswer(completion.wholeResponse(), api: .openai))
        #expect(TwinRequestBody.isAnswer(completion.messagesResponse(), api: .anthropic))
        #expect(!TwinRequestBody.isAnswer(completion.messagesResponse(), api: .openai))
        #expect(!TwinRequestBody.isAnswer(completion.wholeResponse(), api: .anthropic))
        #expect(!TwinRequestBody.isAnswer(MockError.messagesBody("Overloaded", type: "overloaded_error"), api: .anthropic))
    }

    @Test("the SDK retries what the simulated team retries: as the gateway's x-should-retry says, else failed exchanges, not refusals")
    func sdkRetries() {
        #expect(TwinRequestBody.sdkRetries(status: 502, code: "overloaded"))
        #expect(TwinRequestBody.sdkRetries(status: 504, code: "upstream_timeout"))
        #expect(TwinRequestBody.sdkRetries(status: 503, code: "no_upstream_available"))
        #expect(!TwinRequestBody.sdkRetries(status: 503, code: "shed"))
        #expect(!TwinRequestBody.sdkRetries(status: 429, code: "budget_exhausted"))
        #expect(!TwinRequestBody.sdkRetries(status: 429, code: "rate_limit_exceeded"))
        #expect(!TwinRequestBody.sdkRetries(status: 400, code: "context_length_exceeded"))
        // A Messages client's error has no code: the header decides.
        #expect(!TwinRequestBody.sdkRetries(status: 503, code: nil, shouldRetry: "false"))
        #expect(TwinRequestBody.sdkRetries(status: 529, code: nil, shouldRetry: "true"))
        #expect(!TwinRequestBody.sdkRetries(status: 502, code: "overloaded", shouldRetry: "false"))
        #expect(TwinRequestBody.errorCode(in: ByteBuffer(string: #"{"error":{"code":"shed","message":"m"}}"#)) == "shed")
    }

    @Test("a stream ends done, with an error frame, or cut, in either API; a marker split across chunks is found")
    func streamEndings() {
        var done = StreamEndScanner()
        done.scan(ByteBuffer(string: "data: {\"id\":\"chatcmpl-twin-5-9\"}\n\ndata: [DO"))
        done.scan(ByteBuffer(string: "NE]\n\n"))
        #expect(done.ending == .done)
        #expect(done.lastStamps?.arrival == 5 && done.lastStamps?.due == 9)
        var broken = StreamEndScanner()
        broken.scan(ByteBuffer(string: "data: {\"id\":\"x\"}\n\ndata: {\"error\":{\"code\":\"stream_interrupted\"}}\n\n"))
        #expect(broken.ending == .error)
        var cut = StreamEndScanner()
        cut.scan(ByteBuffer(string: "data: {\"id\":\"x\"}\n\n"))
        #expect(cut.ending == .open)
        var long = StreamEndScanner()
        long.scan(ByteBuffer(string: "data: {\"id\":\"chatcmpl-twin-1-2\",\"c\":\"" + String(repeating: "w1 ", count: 10_000)))
        long.scan(ByteBuffer(string: "\"}\n\n"))
        long.scan(ByteBuffer(string: "data: [DONE]\n\n"))
        #expect(long.ending == .done)
        #expect(long.lastStamps?.arrival == 1 && long.lastStamps?.due == 2)

        // A Messages stream: its start carries the first frame's stamp, its last token the
        // end's; `message_stop` ends it, an `error` event breaks it.
        let first = MockCompletion(id: "msg_twin-7-100", model: "m", promptTokens: 3, outputTokens: 3, endMark: " twin-7-900")
        let completion = MockCompletion(id: "msg_twin-7-900", model: "m", promptTokens: 3, outputTokens: 3, endMark: " twin-7-900")
        let frames = TwinFrames(api: .anthropic, includeUsage: true)
        var messages = StreamEndScanner()
        messages.scan(frames.start(first))
        #expect(messages.lastStamps?.due == 100)
        messages.scan(frames.tokens(1..<3, of: completion))
        messages.scan(frames.finish(completion))
        #expect(messages.ending == .open)
        messages.scan(frames.end)
        #expect(messages.ending == .done)
        #expect(messages.lastStamps?.arrival == 7 && messages.lastStamps?.due == 900)
        var overloaded = StreamEndScanner()
        overloaded.scan(frames.start(first))
        overloaded.scan(MockCompletion.messagesOverloadedEvent)
        #expect(overloaded.ending == .error)
    }

    @Test("stamps: the first frame's and the one due last, in model nanoseconds; what only looks like one is passed over")
    func stamps() {
        let bytes = Array(#"data: {"id":"chatcmpl-twin-1200-3400","x":1}\n\ndata: {"id":"chatcmpl-twin-1200-9000"}"#.utf8)
        #expect(TwinTiming.stamps(in: bytes)! == (1200, 3400))
        #expect(TwinTiming.latestStamps(in: bytes)! == (1200, 9000))
        #expect(TwinTiming.stamps(in: Array(#"{"id":"chatcmpl-mock-77"}"#.utf8)) == nil)
        // A translated stream repeats its first id on later frames; the end's stamp is in the text.
        let translated = Array(
            #"data: {"id":"msg_twin-5-80","c":"w0 end. twin-5-300"}\n\ndata: {"id":"msg_twin-5-80","finish_reason":"stop"}"#.utf8)
        #expect(TwinTiming.stamps(in: translated)! == (5, 80))
        #expect(TwinTiming.latestStamps(in: translated)! == (5, 300))
        // A model named twin-something is no stamp.
        let named = Array(#"{"model":"twin-large","id":"chatcmpl-twin-4-40"}"#.utf8)
        #expect(TwinTiming.stamps(in: named)! == (4, 40))
        #expect(TwinTiming.latestStamps(in: Array(#"{"model":"twin-9x"}"#.utf8)) == nil)
        #expect(TwinTiming.stamp(arrival: 12, due: 34) == "twin-12-34")
    }

    @Test("stamps in 2,000 random byte strings of marker pieces: as a regular expression finds them")
    func stampsAgainstARegex() throws {
        let pieces = ["twin-", "twin-12-34", "twin-7-", "twin--5", "tw", "in-", "-", "0", "98", "x", "twin-1234567890123456789-1", " "]
        let pattern = try NSRegularExpression(pattern: "twin-([0-9]{1,18})-([0-9]{1,18})(?![0-9])")
        var generator = SplitMix64(seed: 29)
        for _ in 0..<2_000 {
            let text = (0..<Int(generator.next() % 12)).map { _ in pieces[Int(generator.next() % UInt64(pieces.count))] }.joined()
            // Each `twin-` starts a candidate, and a candidate is a stamp when its numbers are
            // whole (at most 18 digits each): what the scan reads.
            var expected: [(Int64, Int64)] = []
            var searchFrom = text.startIndex
            while let found = text.range(of: "twin-", range: searchFrom..<text.endIndex) {
                searchFrom = found.upperBound
                let rest = String(text[found.lowerBound...])
                guard let match = pattern.firstMatch(in: rest, range: NSRange(rest.startIndex..., in: rest)), match.range.location == 0,
                    let arrival = Range(match.range(at: 1), in: rest).flatMap({ Int64(rest[$0]) }),
                    let due = Range(match.range(at: 2), in: rest).flatMap({ Int64(rest[$0]) })
                else { continue }
                expected.append((arrival, due))
            }
            let bytes = Array(text.utf8)
            let first = TwinTiming.stamps(in: bytes), latest = TwinTiming.latestStamps(in: bytes)
            #expect(first.map { [$0.arrival, $0.due] } == expected.first.map { [$0.0, $0.1] }, "\(text)")
            #expect(latest.map { [$0.arrival, $0.due] } == expected.max { $0.1 < $1.1 }.map { [$0.0, $0.1] }, "\(text)")
        }
    }

    /// A try sent at 1,000 that reached the mock at 1,300, its first token due 2,000 and its
    /// end 5,000, the first token seen here at `firstTokenAt`.
    static func stamped(firstTokenAt: Int64) -> TwinTiming {
        var timing = TwinTiming(sentAt: 1_000)
        timing.firstTokenAt = firstTokenAt
        timing.upstreamArrival = 1_300
        timing.firstTokenDue = 2_000
        timing.endDue = 5_000
        return timing
    }

    /// Sent at 1,000; reached the mock at 1,300 (300 up); first token due 2,000, seen 2,250
    /// (250 down); end due 5,000, seen 5,100 (100 down). With one attempt the way up is
    /// measured; after several, it is taken as long as the way down to the first token.
    @Test("transport: up and down, by hand")
    func transport() {
        let timing = Self.stamped(firstTokenAt: 2_250)
        let one = timing.transport(attempts: 1, end: 5_100)!
        #expect(one.firstToken == 550 && one.total == 400)
        let retried = timing.transport(attempts: 2, end: 5_100)!
        #expect(retried.firstToken == 500 && retried.total == 350)
        #expect(TwinTiming(sentAt: 0).transport(attempts: 1, end: 10) == nil)
    }

    /// A held stream: its first frame was due 2,000 but the gateway released the answer at its
    /// commit, the last frame due 5,000; both reached the client together, 5,100. The hold
    /// (3,000) is the conduct's, not transport: the way down is the last frame's 100, and after
    /// several attempts the way up is taken as long.
    @Test("transport: a held stream's wait at the gateway is not transport")
    func heldTransport() {
        let timing = Self.stamped(firstTokenAt: 5_100)
        let one = timing.transport(attempts: 1, end: 5_100, held: true)!
        #expect(one.firstToken == 400 && one.total == 400)
        let retried = timing.transport(attempts: 2, end: 5_100, held: true)!
        #expect(retried.firstToken == 200 && retried.total == 200)
        #expect(timing.transport(attempts: 1, end: 5_100)!.firstToken == 3_400)
    }
}
