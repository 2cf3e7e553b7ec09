import Foundation
import NIOCore

/// The requests a live team sends and how it reads the gateway's refusals.
enum TwinRequestBody {
    /// A streaming chat completion for `route` whose body is 4 × `inputTokens` bytes, so the
    /// gateway's estimate of its input (a quarter of its bytes) is the simulated size; `user`
    /// names the size for the twin's mock providers, `max_tokens` the output they generate.
    static func make(route: String, inputTokens: Int, outputTokens: Int) -> ByteBuffer {
        let head = #"{"model":"\#(route)","stream":true,"stream_options":{"include_usage":true},"max_tokens":\#(outputTokens),"user":"twin-input-tokens:\#(inputTokens)","messages":[{"role":"user","content":""#
        let tail = #""}]}"#
        let padding = max(0, 4 * inputTokens - head.utf8.count - tail.utf8.count)
        var buffer = ByteBuffer()
        buffer.reserveCapacity(head.utf8.count + padding + tail.utf8.count)
        buffer.writeString(head)
        buffer.writeRepeatingByte(UInt8(ascii: "x"), count: padding)
        buffer.writeString(tail)
        return buffer
    }

    /// The `error.code` of an OpenAI-shaped error body.
    static func errorCode(in body: ByteBuffer) -> String? {
        let object = (try? JSONSerialization.jsonObject(with: Data(body.readableBytesView))) as? [String: Any]
        return (object?["error"] as? [String: Any])?["code"] as? String
    }

    /// Whether the client SDK tries again after the gateway answered `status` with `code`,
    /// by the simulated team's rule: after a failed exchange with the upstreams (5xx, a
    /// timeout, no upstream available), never after a refusal (the team's budget or rate
    /// limit, shedding) or a client error.
    static func sdkRetries(status: Int, code: String?) -> Bool {
        switch status {
        case 500...599: return code != "shed"
        default: return false
        }
    }
}

/// How a stream ended, from its last bytes: `data: [DONE]`, an error frame (the gateway's
/// word that the answer broke), or neither (the stream was cut).
struct StreamEndScanner {
    enum Ending { case open, done, error }
    /// The last bytes seen: more than an error frame's length.
    private var tail: [UInt8] = []
    private static let kept = 1_024

    private static let done = Array("data: [DONE]".utf8)
    private static let error = Array("data: {\"error\"".utf8)

    mutating func scan(_ chunk: ByteBuffer) {
        tail.append(contentsOf: chunk.readableBytesView.suffix(Self.kept))
        if tail.count > 2 * Self.kept { tail.removeFirst(tail.count - Self.kept) }
    }

    /// The stamps of the last frame the mock stamped (``TwinTiming``).
    var lastStamps: (arrival: Int64, due: Int64)? { TwinTiming.stamps(in: tail, last: true) }

    var ending: Ending {
        if Self.contains(tail, Self.done) { return .done }
        if Self.contains(tail, Self.error) { return .error }
        return .open
    }

    private static func contains(_ bytes: [UInt8], _ marker: [UInt8]) -> Bool {
        guard bytes.count >= marker.count else { return false }
        return (0...(bytes.count - marker.count)).contains { start in bytes[start..<(start + marker.count)].elementsEqual(marker) }
    }
}
