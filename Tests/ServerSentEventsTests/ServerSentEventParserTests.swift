import NIOCore
import RoutingCore
import ServerSentEvents
import Testing

/// The one reader of server-sent events, against the format's rules: fields, comments, line
/// endings, multi-line data, and events that arrive in pieces of any size.
@Suite("Server-sent events")
struct ServerSentEventParserTests {
    /// Every field and line ending the gateway meets: OpenAI's `data:` events, Anthropic's
    /// typed ones, keep-alive comments, CRLF, two data lines, a field without a colon.
    static let stream =
        ": keep-alive\n\n"
        + "data: {\"a\":1}\n\n"
        + "event: content_block_delta\r\ndata: {\"b\":2}\r\n\r\n"
        + "event: x\ndata: first\ndata:second\n\n"
        + "data\n\n"
        + "id: 7\nretry: 10\n\n"
        + "data: [DONE]\n\n"

    static func summary(_ event: ServerSentEvent) -> String {
        "\(event.type ?? "-")|\(event.text ?? "nil")|\(event.bytes.readableBytes)"
    }

    @Test("fields, comments, CRLF and multi-line data are read as the format says")
    func fields() {
        let events = ServerSentEventParser.events(in: Self.stream).map(Self.summary)
        #expect(
            events == [
                "-|nil|14", "-|{\"a\":1}|15", "content_block_delta|{\"b\":2}|45", "x|first\nsecond|34",
                "-||6", "-|nil|17", "-|[DONE]|14",
            ])
        let last = ServerSentEventParser.events(in: Self.stream).last!
        #expect(last.dataIs("[DONE]") && !last.dataIs("[DONE"))
        #expect(ServerSentEventParser.events(in: "data: {\"error\":{}}\n\n")[0].dataStarts(with: "{\"error\""))
    }

    @Test("an event without its blank line is not one yet, and waits for the rest")
    func unfinished() {
        var parser = ServerSentEventParser()
        #expect(parser.append(ByteBuffer(string: "data: [DO")).isEmpty)
        #expect(parser.append(ByteBuffer(string: "NE]\n")).isEmpty)
        let events = parser.append(ByteBuffer(string: "\ndata: x"))
        #expect(events.map(Self.summary) == ["-|[DONE]|14"])
        #expect(ServerSentEventParser.events(in: "data: cut").isEmpty)
    }

    /// 2,000 random cuttings of the stream (seeded): the same events, byte for byte, as in one
    /// piece, whatever the pieces.
    @Test("a stream cut into pieces of any size gives the same events")
    func anyCutting() {
        let whole = ServerSentEventParser.events(in: Self.stream).map(Self.summary)
        let bytes = Array(Self.stream.utf8)
        var generator = SplitMix64(seed: 11)
        for _ in 0..<2_000 {
            var parser = ServerSentEventParser()
            var events: [String] = []
            var at = 0
            while at < bytes.count {
                let length = Int.random(in: 1...8, using: &generator)
                let end = min(bytes.count, at + length)
                events += parser.append(ByteBuffer(bytes: bytes[at..<end])).map(Self.summary)
                at = end
            }
            #expect(events == whole)
        }
    }
}
