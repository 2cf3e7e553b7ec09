import RoutingCore
import Stochastics

/// A team of clients: how much it sends, how big its requests are, where they go, and the
/// client SDK's own retries, which stack on top of the gateway's.
public struct TeamSpec: Sendable {
    public var name: String
    public var arrivals: any ArrivalProcess & Sendable
    public var inputTokens: Distribution
    public var outputTokens: Distribution
    /// The route's name in the router config.
    public var route: String
    /// The share of requests sent with `stream: true` (the rest ask for a whole answer, which
    /// reaches the client only at its end); 1, every request streamed, unless the spec says.
    public var streamShare: Double = 1
    /// The API the team's clients speak (`api`: `openai`, the default, or `anthropic`): a route
    /// with `cross_protocol: false` sends their requests only to targets that speak it.
    public var apiProtocol: APIProtocol = .openai
    /// Extra tries the client SDK makes after the gateway gives up (Anthropic SDK: 2).
    public var sdkRetries: Int
    public var sdkBackoff: Backoff
    /// The SLO: availability (0–1) and a latency bound at a percentile.
    public var sloAvailability: Double
    public var sloLatencyPercentile: Double
    public var sloLatencySeconds: Double

    public init(
        name: String, arrivals: any ArrivalProcess & Sendable, inputTokens: Distribution, outputTokens: Distribution, route: String,
        sdkRetries: Int = 0, sdkBackoff: Backoff = .fullJitter(baseSeconds: 0.5, capSeconds: 8),
        sloAvailability: Double = 0.999, sloLatencyPercentile: Double = 99, sloLatencySeconds: Double = 30
    ) {
        self.name = name
        self.arrivals = arrivals
        self.inputTokens = inputTokens
        self.outputTokens = outputTokens
        self.route = route
        self.sdkRetries = sdkRetries
        self.sdkBackoff = sdkBackoff
        self.sloAvailability = sloAvailability
        self.sloLatencyPercentile = sloLatencyPercentile
        self.sloLatencySeconds = sloLatencySeconds
    }
}

extension TeamSpec {
    /// Whether the next request is streamed: drawn from `stream` (the team's stream-choice
    /// stream, one draw per request) only when the share is strictly between 0 and 1. The
    /// simulated team and the twin's live team choose by this one rule.
    public func nextRequestStreams(_ stream: RandomStream) -> Bool {
        guard streamShare > 0 else { return false }
        guard streamShare < 1 else { return true }
        return stream.uniform() < streamShare
    }

    /// The client SDK's wait before another try, after try `sdkTry` (0: the first) failed in a
    /// way it `mayRetry`; nil when it gives up. The simulated team and the twin's live team
    /// retry by this one rule.
    public func sdkRetryDelay(afterTry sdkTry: Int, mayRetry: Bool, using generator: inout some RandomNumberGenerator) -> Int64? {
        guard mayRetry && sdkTry < sdkRetries else { return nil }
        return sdkBackoff.delay(retry: sdkTry + 1, previous: 0, using: &generator)
    }
}
