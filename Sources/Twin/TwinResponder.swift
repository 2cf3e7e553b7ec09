import Foundation
import GatewaySim
import HTTPTypes
import Hummingbird
import NIOCore
import Experiments
import MockUpstream
import RoutingCore

/// How the twin's upstreams answer (`brownout-twin upstreams SPEC`): the request's model
/// names one of the spec's upstreams, whose live model (``LiveUpstream``) decides, in the twin's scaled time,
/// whether the attempt is refused, when its first token comes, when it ends and how. Errors
/// are sent as the providers send them (429 and 529 with Retry-After in model seconds, 500,
/// a closed connection, a hang); a success streams its first token at the first-token time
/// and the rest at the end, with the usage the simulation would bill; a stream that breaks
/// streams what its plan produced a token a frame (a gateway bills a cut stream for the
/// frames it relayed), in four batches up to the break, then closes. Output comes in batches
/// never further apart than half the spec's shortest stream idle limit (unless its tokens
/// come further apart than that): the simulation streams tokens evenly, and a gateway judges
/// the gaps. The stream faults are acted out as the plan says: a stall goes silent at its
/// time, a malformed event is sent at its time amid the answer, an unterminated answer ends
/// without `[DONE]`. Both APIs are served, each in its own frames and error shapes
/// (``TwinFrames``): `POST /v1/chat/completions` and Anthropic's `POST /v1/messages` (what
/// the gateway sends an upstream whose `protocol` is `anthropic`). A broken stream is cut in
/// both, as the simulation models it (a closed connection, whichever the API).
public struct TwinResponder: Sendable {
    public let upstreams: TwinUpstreams
    let clock: ScaledClock
    /// Half the shortest idle limit of the spec's routes, in model nanoseconds: the longest
    /// the mock leaves between two batches of output that come faster than that.
    let batchGapNanoseconds: Int64

    /// The responder for `path`'s upstreams, or a TwinError with the spec's own message.
    public static func load(path: String, overrides: [String], scale: Int64, replication: Int, startUnixNanoseconds: Int64?) throws -> TwinResponder {
        let clock = ScaledClock(factor: scale, startUnixNanoseconds: startUnixNanoseconds)
        do {
            let (_, spec, _) = try Experiment.load(path: path, overrides: overrides)
            let idle = spec.world.router.routes.map(\.timeouts.effectiveIdleSeconds).min() ?? Timeouts.defaultIdleSeconds
            return TwinResponder(
                upstreams: try TwinUpstreams(spec, clock: clock, healthReplication: replication), clock: clock,
                batchGapNanoseconds: max(1, Seconds.nanoseconds(idle / 2)))
        } catch let failure as ExperimentFailure {
            throw TwinError(failure.description)
        } catch {
            throw TwinError("\(path): \(error)")
        }
    }

    /// Answers one attempt, in the API `api` its path names (chat completions or Anthropic's
    /// Messages): the same model, the same plan, each API's own frames and errors.
    public func respond(to request: Request, context: MockRequestContext, state: MockState, api: APIProtocol) async throws -> Response {
        let requestBody = try await request.body.collect(upTo: 16 << 20)
        let arrivedAt = clock.nanoseconds()
        let object = (try? JSONSerialization.jsonObject(with: Data(requestBody.readableBytesView))) as? [String: Any] ?? [:]
        let model = object["model"] as? String ?? ""
        guard let upstream = upstreams.byName[model] else {
            return error(
                404, "the twin has no upstream '\(model)'; it serves \(upstreams.all.map(\.name).joined(separator: ", "))",
                type: api == .anthropic ? "not_found_error" : "invalid_request_error", code: "model_not_found", retryAfter: nil, api: api)
        }
        let stream = object["stream"] as? Bool ?? false
        let includeUsage = ((object["stream_options"] as? [String: Any])?["include_usage"] as? Bool) ?? false
        let outputTokens = max(1, (object["max_tokens"] as? Int) ?? 1)
        // The load generator names the input tokens it drew in `user` ("twin-input-tokens:N"),
        // which reaches an Anthropic upstream as `metadata.user_id`.
        let user = object["user"] as? String ?? (object["metadata"] as? [String: Any])?["user_id"] as? String
        let inputTokens = user.flatMap { $0.split(separator: ":").last.flatMap { Int($0) } } ?? max(1, requestBody.readableBytes / 4)

        switch await upstream.answer(inputTokens: inputTokens, outputTokens: outputTokens) {
        case .refused(let outcome, let after, let retryAfter):
            try await clock.sleep(until: clock.nanoseconds() + Seconds.nanoseconds(after))
            await state.completed()
            return failure(outcome, retryAfter: retryAfter, api: api)
        case .refusedForContextLength(let window, let after):
            try await clock.sleep(until: clock.nanoseconds() + Seconds.nanoseconds(after))
            await state.completed()
            // Each API's own wording (the gateway reads either as a context-length refusal).
            let message =
                api == .anthropic
                ? "prompt is too long: \(inputTokens) tokens > \(window) maximum"
                : "This model's maximum context length is \(window) tokens; your messages resulted in \(inputTokens) tokens."
            return error(400, message, type: "invalid_request_error", code: "context_length_exceeded", retryAfter: nil, api: api)
        case .served(let plan, let startedAt):
            let firstTokenAt = startedAt + Seconds.nanoseconds(plan.firstTokenSeconds)
            let endAt = startedAt + Seconds.nanoseconds(plan.seconds)
            // Each frame's id says when the request reached the mock and when, by the plan,
            // the frame was due (model nanoseconds): the load generator measures from them
            // the time spent between it and the mock, which the simulation does not model.
            // The end's stamp is also written after the answer's last token, where every
            // translation of the answer keeps it (a translated stream's frames all carry the
            // id of its first).
            let endStamp = TwinTiming.stamp(arrival: arrivedAt, due: endAt)
            let completion = MockCompletion(
                id: api.twinAnswerIDPrefix + endStamp, model: model,
                promptTokens: plan.inputTokens, outputTokens: max(1, plan.outputTokens), endMark: " " + endStamp)
            let first = MockCompletion(
                id: api.twinAnswerIDPrefix + TwinTiming.stamp(arrival: arrivedAt, due: firstTokenAt), model: model,
                promptTokens: plan.inputTokens, outputTokens: max(1, plan.outputTokens), endMark: " " + endStamp)
            let frames = TwinFrames(api: api, includeUsage: includeUsage)
            switch plan.outcome {
            case .success:
                break
            case .timeout, .connectionError, .failedAfterFirstByte:
                // A hang until the plan's end, then the connection closes: before any header
                // (a timeout, a reset) or, for a broken stream, after them.
                if plan.outcome == .failedAfterFirstByte && stream {
                    let channel = context.channel
                    // A stall streams until its time, then stays silent until the plan's end.
                    let lastFrameAt = plan.stallsAtSeconds.map { startedAt + Seconds.nanoseconds($0) } ?? endAt
                    return Response(
                        status: .ok, headers: [.contentType: "text/event-stream"],
                        body: ResponseBody { writer in
                            try await clock.sleep(until: firstTokenAt)
                            try await writer.write(frames.start(first))
                            try await streamTokens(
                                1..<max(1, plan.outputTokens), of: completion, frames: frames, from: firstTokenAt, to: lastFrameAt,
                                writer: &writer)
                            try await clock.sleep(until: endAt)
                            try await channel.close()
                        })
                }
                try await clock.sleep(until: endAt)
                await state.cancelled()
                try await context.channel.close()
                throw HTTPError(.internalServerError)
            default:
                try await clock.sleep(until: endAt)
                await state.completed()
                return failure(plan.outcome, retryAfter: plan.retryAfterSeconds, api: api)
            }
            if !stream {
                try await clock.sleep(until: endAt)
                await state.completed()
                return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: frames.whole(completion)))
            }
            let ending = AnswerEnding(state: state)
            context.channel.closeFuture.whenComplete { _ in ending.end(completed: false) }
            let malformedAt = plan.malformedEventAtSeconds.map { startedAt + Seconds.nanoseconds($0) }
            let body = ResponseBody { writer in
                try await clock.sleep(until: firstTokenAt)
                try await writer.write(frames.start(first))
                let rest = 1..<max(1, completion.outputTokens)
                if let malformedAt {
                    // The tokens due before the malformed event, the event, then the rest.
                    let span = Double(max(1, endAt - firstTokenAt))
                    let split = rest.lowerBound + Int(Double(rest.count) * Double(malformedAt - firstTokenAt) / span)
                    try await streamBatches(
                        rest.lowerBound..<split, of: completion, frames: frames, from: firstTokenAt, to: malformedAt, writer: &writer)
                    try await writer.write(frames.malformed)
                    try await streamBatches(split..<rest.upperBound, of: completion, frames: frames, from: malformedAt, to: endAt, writer: &writer)
                } else {
                    try await streamBatches(rest, of: completion, frames: frames, from: firstTokenAt, to: endAt, writer: &writer)
                }
                try await clock.sleep(until: endAt)
                try await writer.write(frames.finish(completion))
                if !plan.unterminated { try await writer.write(frames.end) }
                try await writer.finish(nil)
                ending.end(completed: true)
            }
            return Response(status: .ok, headers: [.contentType: "text/event-stream", .cacheControl: "no-cache"], body: body)
        }
    }

    /// How many batches output from `from` to `to` (model nanoseconds) of `tokens` tokens is
    /// written in: at least `minimum`, and enough that none is more than ``batchGapNanoseconds``
    /// after the last, unless that asks for more batches than tokens (the tokens themselves
    /// then come further apart, a token a batch).
    private func batchCount(tokens: Int, from: Int64, to: Int64, minimum: Int) -> Int {
        let needed = Int((max(0, to - from) + batchGapNanoseconds - 1) / batchGapNanoseconds)
        return max(1, min(tokens, max(minimum, needed)))
    }

    /// Tokens `tokens` of `completion` in batches (``batchCount(tokens:from:to:minimum:)``),
    /// a frame a batch, evenly spaced after `from`, the last at `to` (model nanoseconds).
    private func streamBatches(
        _ tokens: Range<Int>, of completion: MockCompletion, frames: TwinFrames, from: Int64, to: Int64,
        writer: inout any ResponseBodyWriter
    ) async throws {
        guard !tokens.isEmpty else { return }
        let batches = batchCount(tokens: tokens.count, from: from, to: to, minimum: 1)
        for batch in 1...batches {
            try await clock.sleep(until: from + (to - from) * Int64(batch) / Int64(batches))
            let lower = tokens.lowerBound + tokens.count * (batch - 1) / batches, upper = tokens.lowerBound + tokens.count * batch / batches
            if upper > lower { try await writer.write(frames.tokens(lower..<upper, of: completion)) }
        }
    }

    /// Tokens `tokens` of `completion`, one frame each (as a provider streams them, and as a
    /// gateway counts what it relayed), written in batches (at least four) evenly spaced after
    /// `from`, the last at `to` (model nanoseconds).
    private func streamTokens(
        _ tokens: Range<Int>, of completion: MockCompletion, frames: TwinFrames, from: Int64, to: Int64,
        writer: inout any ResponseBodyWriter
    ) async throws {
        let batches = batchCount(tokens: max(4, tokens.count), from: from, to: to, minimum: 4)
        for batch in 1...batches {
            try await clock.sleep(until: from + (to - from) * Int64(batch) / Int64(batches))
            let lower = tokens.lowerBound + tokens.count * (batch - 1) / batches, upper = tokens.lowerBound + tokens.count * batch / batches
            guard upper > lower else { continue }
            var batch = ByteBuffer()
            for token in lower..<upper {
                var frame = frames.tokens(token..<(token + 1), of: completion)
                batch.writeBuffer(&frame)
            }
            try await writer.write(batch)
        }
    }

    /// The answer a provider sends for a failure of class `outcome`, in `api`'s shape.
    private func failure(_ outcome: OutcomeClass, retryAfter: Double?, api: APIProtocol) -> Response {
        switch outcome {
        case .rateLimited:
            return error(429, "rate limit exceeded", type: "rate_limit_error", code: "rate_limit_exceeded", retryAfter: retryAfter, api: api)
        case .spendLimit:
            return error(
                429, "your organization has reached its spend limit", type: "rate_limit_error", code: "enforced_spend_limit_reached",
                retryAfter: nil, api: api)
        case .overloaded:
            return error(529, "Overloaded", type: "overloaded_error", code: nil, retryAfter: retryAfter, api: api)
        case .clientError:
            return error(400, "the request is invalid", type: "invalid_request_error", code: nil, retryAfter: nil, api: api)
        case .serverError, .timeout, .connectionError, .failedAfterFirstByte, .success, .cancelled:
            return error(500, "internal server error", type: "api_error", code: nil, retryAfter: retryAfter, api: api)
        }
    }

    private func error(_ status: Int, _ message: String, type: String, code: String?, retryAfter: Double?, api: APIProtocol) -> Response {
        MockError.response(status, message, type: type, code: code, retryAfter: retryAfter.map { String($0) }, api: api)
    }
}
