/// The API a client speaks to the gateway, or an upstream speaks to it: OpenAI's chat
/// completions (`openai`, which vLLM, most providers and OpenAI-compatible endpoints speak) or
/// Anthropic's Messages (`anthropic`). The router reads it only for a route that forbids
/// failover across APIs (`cross_protocol: false`); the gateway translates between them.
public enum APIProtocol: String, Sendable, Equatable, CaseIterable {
    case openai
    case anthropic
}
