import Foundation
import NIOCore

/// The requests a live team sends and how it reads the gateway's refusals.
enum TwinRequestBody {
    /// A chat completion for `route`, streamed or whole, whose body is 4 × `inputTokens` bytes,
    /// so the gateway's estimate of its input (a quarter of its bytes) is the simulated size;
    /// `user` names the size for the twin's mock providers, `max_tokens` the output they generate.
    static func make(route: String, inputTokens: Int, outputTokens: Int, stream: Bool) -> ByteBuffer {
        let streaming = stream ? #""stream":true,"stream_options":{"include_usage":true}"# : #""stream":false"#
        let head =
            #"{"model":"\#(route)",\#(streaming),"max_tokens":\#(outputTokens),"user":"twin-input-tokens:\#(inputTokens)","messages":[{"role":"user","content":""#
        let tail = #""}]}"#
        let padding = max(0, 4 * inputTokens - head.utf8.count - tail.utf8.count)
        var buffer = ByteBuffer()
        buffer.reserveCapacity(head.utf8.count + padding + tail.utf8.count)
        buffer.writeString(head)
        buffer.writeRepeatingByte(UInt8(ascii: "x"), count: padding)
        buffer.writeString(tail)
        return buffer
    }

    /// Whether a whole answer's body is a chat completion with a choice.
    static func isAnswer(_ body: ByteBuffer) -> Bool {
        let object = (try? JSONSerialization.jsonObject(with: Data(body.readableBytesView))) as? [String: Any]
        return ((object?["choices"] as? [Any])?.isEmpty ?? true) == false
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
