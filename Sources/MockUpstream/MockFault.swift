/// The ways a mock upstream can fail, each chosen by name (`POST /mock/faults`, or
/// `--fault` for every request). Every fault the gateway must survive is here, so its tests
/// and benchmarks use real HTTP, not stand-ins.
public enum MockFault: String, CaseIterable, Sendable, Codable {
    /// Answers normally.
    case none
    /// 429 `rate_limit_error` with `retry-after` (the mock's `--retry-after-s`).
    case rateLimited = "rate_limited"
    /// 429 `rate_limit_error` without `retry-after`.
    case rateLimitedWithoutRetryAfter = "rate_limited_no_retry_after"
    /// 429 whose reason is the organisation's spend limit (`enforced_spend_limit_reached`): never retried.
    case spendLimit = "spend_limit"
    /// 529 `overloaded_error` (Anthropic's), with `retry-after`.
    case overloaded
    /// 500.
    case serverError = "server_error"
    /// 503.
    case unavailable
    /// The connection is closed before any response header.
    case reset
    /// Never answers (the connection stays open, nothing is sent).
    case hang
    /// The first token comes after `--slow-first-token-s`.
    case slowFirstToken = "slow_first_token"
    /// Streaming: some tokens, then the connection is closed.
    case streamCut = "stream_cut"
    /// Streaming: some tokens, then nothing more, the connection open.
    case streamStall = "stream_stall"
    /// Streaming: some tokens, then a frame that is not JSON.
    case streamMalformed = "stream_malformed"
    /// Streaming: some tokens, a frame that is not JSON, then the rest of a complete answer.
    case streamExtraMalformed = "stream_extra_malformed"
    /// Streaming: some tokens, then an overload reported inside the stream after its 200 (an
    /// `{"error": …}` chunk; Anthropic's `event: error` with `overloaded_error`), then the end.
    case streamOverloaded = "stream_overloaded"
    /// Streaming: every token and the finish, but no `data: [DONE]` (Anthropic's: no `message_stop`).
    case streamWithoutDone = "stream_no_done"
    /// 400 `context_length_exceeded`.
    case contextLength = "context_length"
    /// 400 `content_filter`.
    case contentFilter = "content_filter"
    /// 302 to another address: a misconfigured upstream or a proxy's login page.
    case redirect
    /// 204 with no body: a 2xx that is no chat completion.
    case noContent = "no_content"
    /// A whole answer (or a stream) without `usage`: the gateway must count what it bills.
    case noUsage = "no_usage"
}
