import MockUpstream
import NIOCore
import RoutingCore

/// The frames of a twin upstream's answer in one API: chat completion chunks ending in
/// `data: [DONE]`, or Anthropic's Messages events (`message_start`, text deltas,
/// `message_delta` with the usage) ending in `message_stop`. The plan decides when each is
/// written; this decides only what it looks like.
struct TwinFrames: Sendable {
    let api: APIProtocol
    /// Chat completions: whether the request asked for the usage chunk (Messages streams
    /// always carry their usage).
    let includeUsage: Bool

    /// The whole answer.
    func whole(_ completion: MockCompletion) -> ByteBuffer {
        api == .anthropic ? completion.messagesResponse() : completion.wholeResponse()
    }

    /// What a stream opens with at its first token: the token itself, after the message's
    /// start for Messages.
    func start(_ first: MockCompletion) -> ByteBuffer {
        guard api == .anthropic else { return first.chunk(token: 0) }
        var frames = first.messagesStart()
        var token = first.messagesDelta(token: 0)
        frames.writeBuffer(&token)
        return frames
    }

    /// Tokens `tokens` in one frame.
    func tokens(_ tokens: Range<Int>, of completion: MockCompletion) -> ByteBuffer {
        api == .anthropic ? completion.messagesDelta(tokens: tokens) : completion.chunk(tokens: tokens)
    }

    /// The finish: the reason and the usage.
    func finish(_ completion: MockCompletion) -> ByteBuffer {
        guard api == .openai else { return completion.messagesFinish() }
        var frames = completion.finishChunk()
        if includeUsage {
            var usage = completion.usageChunk()
            frames.writeBuffer(&usage)
        }
        return frames
    }

    /// The stream's last frame (left out by an unterminated answer).
    var end: ByteBuffer { api == .anthropic ? MockCompletion.messagesStop : MockCompletion.done }

    /// An event that is not JSON, amid the answer.
    var malformed: ByteBuffer { api == .anthropic ? MockCompletion.messagesMalformed : MockCompletion.malformed }
}

extension APIProtocol {
    /// How the twin's answer ids begin in this API, before their stamp (``TwinTiming/stamp(arrival:due:)``).
    var twinAnswerIDPrefix: String { self == .anthropic ? "msg_" : "chatcmpl-" }
}
