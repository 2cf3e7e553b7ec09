import Foundation
import NIOCore
import RoutingCore

/// The requests a live team sends and how it reads the gateway's answers and refusals.
enum TwinRequestBody {
    /// The gateway's path for a client of `api`.
    static func path(for api: APIProtocol) -> String { api == .anthropic ? "/v1/messages" : "/v1/chat/completions" }

    /// A request for `route` in `api` (a chat completion or a Messages request), streamed or
    /// whole, whose body is 4 × `inputTokens` bytes, so the gateway's estimate of its input
    /// (a quarter of its bytes) is the simulated size; the user (`user`, or Anthropic's
    /// `metadata.user_id`) names the size for the twin's mock providers, `max_tokens` the
    /// output they generate.
    static func make(route: String, inputTokens: Int, outputTokens: Int, stream: Bool, api: APIProtocol = .openai) -> ByteBuffer {
        let head: String
        switch api {
        case .openai:
            let streaming = stream ? #""stream":true,"stream_options":{"include_usage":true}"# : #""stream":false"#
            head =
                #"{"model":"\#(route)",\#(streaming),"max_tokens":\#(outputTokens),"user":"twin-input-tokens:\#(inputTokens)","messages":[{"role":"user","content":""#
        case .anthropic:
            head =
                #"{"model":"\#(route)","stream":\#(stream),"max_tokens":\#(outputTokens),"metadata":{"user_id":"twin-input-tokens:\#(inputTokens)"},"messages":[{"role":"user","content":""#
        }
        let tail = #""}]}"#
        let padding = max(0, 4 * inputTokens - head.utf8.count - tail.utf8.count)
        var buffer = ByteBuffer()
        buffer.reserveCapacity(head.utf8.count + padding + tail.utf8.count)
        buffer.writeString(head)
        buffer.writeRepeatingByte(UInt8(ascii: "x"), count: padding)
        buffer.writeString(tail)
        return buffer
    }

    /// Whether a whole answer's body is an answer in `api`: a chat completion with a choice,
    /// or a Messages response with content.
    static func isAnswer(_ body: ByteBuffer, api: APIProtocol = .openai) -> Bool {
        let object = (try? JSONSerialization.jsonObject(with: Data(body.readableBytesView))) as? [String: Any]
        switch api {
        case .openai: return ((object?["choices"] as? [Any])?.isEmpty ?? true) == false
        case .anthropic: return object?["type"] as? String == "message" && ((object?["content"] as? [Any])?.isEmpty ?? true) == false
        }
    }

    /// The `error.code` of an OpenAI-shaped error body.
    static func errorCode(in body: ByteBuffer) -> String? {
        let object = (try? JSONSerialization.jsonObject(with: Data(body.readableBytesView))) as? [String: Any]
        return (object?["error"] as? [String: Any])?["code"] as? String
    }

    /// Whether the client SDK tries again after the gateway answered `status`: as the
    /// gateway's `x-should-retry` says (the simulated team's rule, which the gateway's conduct
    /// computes), else by the status and the error's `code`: after a failed exchange with the
    /// upstreams (5xx, a timeout, no upstream available), never after a refusal (the team's
    /// budget or rate limit, shedding) or a client error.
    static func sdkRetries(status: Int, code: String?, shouldRetry: String? = nil) -> Bool {
        switch shouldRetry {
        case "true": return true
        case "false": return false
        default: break
        }
        switch status {
        case 500...599: return code != "shed"
        default: return false
        }
    }
}
