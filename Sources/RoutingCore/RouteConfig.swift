/// How equivalent targets in one tier of a chain share traffic.
public enum LoadBalancing: Sendable, Equatable {
    /// The policies by name, as a config writes them.
    public enum Kind: String, CaseIterable, Sendable {
        case weightedRandom = "weighted_random", leastOutstanding = "least_outstanding", lowestLatency = "lowest_latency", costAware = "cost_aware"
    }

    /// Random in proportion to the weights (equal when nil).
    case weightedRandom(weights: [Double]?)
    /// The target with the fewest attempts in flight (ties: first listed).
    case leastOutstanding
    /// The target with the lowest latency EWMA (untried targets first).
    case lowestLatency
    /// The cheapest healthy target whose latency EWMA is within the bound; the fastest if none is.
    case costAware(latencyBoundSeconds: Double)
}

/// One tier of a chain: targets the route treats as equivalent.
public struct TierConfig: Sendable, Equatable {
    public var targets: [String]
    public var balancing: LoadBalancing

    public init(targets: [String], balancing: LoadBalancing = .weightedRandom(weights: nil)) {
        self.targets = targets
        self.balancing = balancing
    }
}

/// When a retry goes.
public enum RetryTarget: String, CaseIterable, Sendable {
    /// The same target while it is healthy, then down the chain.
    case same
    /// Another target: the rest of the tier, then the next tiers.
    case next
    /// The same target again after a transient failure (``RetryPolicy/sameTargetClasses``),
    /// at most ``RetryPolicy/sameTargetRetries`` times in a row, then another target as with
    /// `next`: LiteLLM's shape (retries on the deployment, then the fallbacks).
    case sameThenNext = "same_then_next"
}

/// Retry settings of a route. Defaults follow the Anthropic SDK and AWS standard mode:
/// 3 attempts, full jitter from 0.5 s capped at 8 s, Retry-After honoured up to 60 s.
public struct RetryPolicy: Sendable, Equatable {
    public var maxAttempts: Int
    /// Never holds a class of ``neverRetried``: removed at init and on every change, so the
    /// router can trust it.
    public var retryOn: Set<OutcomeClass> {
        didSet { retryOn.subtract(RetryPolicy.neverRetried) }
    }
    public var backoff: Backoff
    public var honourRetryAfter: Bool
    public var retryAfterCapSeconds: Double
    public var target: RetryTarget
    /// With ``RetryTarget/sameThenNext``: how many times in a row a retry goes back to the
    /// target that just failed transiently before the chain moves on.
    public var sameTargetRetries: Int

    /// What is retried unless a route says otherwise: every failure of the exchange with an
    /// upstream before the client has a byte of the answer.
    public static let defaultRetryable: Set<OutcomeClass> = [.rateLimited, .overloaded, .serverError, .timeout, .connectionError]

    /// Classes no retry policy may retry: a stream that broke after its first byte reached the
    /// client (failover stops at the first byte: a second answer cannot be spliced onto the
    /// first), and the gateway's own cancellations.
    public static let neverRetried: Set<OutcomeClass> = [.failedAfterFirstByte, .cancelled, .success]

    /// The failures ``RetryTarget/sameThenNext`` retries on the same target: the ones one
    /// retry usually outlasts — a 429 (after its Retry-After when it sent one), a single 5xx,
    /// a connection that failed. A 529 (the provider is overloaded for everyone: another try
    /// adds to its load) and a timeout (a silent target would take the whole limit again) go
    /// down the chain at once.
    public static let sameTargetClasses: Set<OutcomeClass> = [.rateLimited, .serverError, .connectionError]

    /// `retryOn` less ``neverRetried``. The default shape is one retry on the same target after
    /// a transient failure, then down the chain (``RetryTarget/sameThenNext``).
    public init(
        maxAttempts: Int = 3, retryOn: Set<OutcomeClass> = RetryPolicy.defaultRetryable,
        backoff: Backoff = .fullJitter(baseSeconds: 0.5, capSeconds: 8), honourRetryAfter: Bool = true,
        retryAfterCapSeconds: Double = 60, target: RetryTarget = .sameThenNext, sameTargetRetries: Int = 1
    ) {
        self.maxAttempts = maxAttempts
        self.retryOn = retryOn.subtracting(RetryPolicy.neverRetried)
        self.backoff = backoff
        self.honourRetryAfter = honourRetryAfter
        self.retryAfterCapSeconds = retryAfterCapSeconds
        self.target = target
        self.sameTargetRetries = sameTargetRetries
    }
}

/// When a hedge (a second, concurrent attempt to another target) is sent.
public enum HedgeDelay: Sendable, Equatable {
    /// Observations needed before a percentile delay applies, unless a config says otherwise.
    public static let defaultMinimumSamples = 50

    case fixed(seconds: Double)
    /// The primary target's observed latency percentile (0–100); no hedge until it has
    /// `minimumSamples` observations.
    case latencyPercentile(percentile: Double, minimumSamples: Int)
}

/// gRPC-style hedging: at most one hedge per request, to a different target; the first
/// answer wins and the other attempt is cancelled. Hedges draw on the retry budget.
public struct HedgingPolicy: Sendable, Equatable {
    public var delay: HedgeDelay

    public init(delay: HedgeDelay) {
        self.delay = delay
    }
}

/// A route's time limits as its config writes them (nil: not written). No request waits
/// forever: a limit not written is the default below, in the simulator and the gateway alike
/// (``effectiveFirstTokenSeconds``, ``effectiveOverallSeconds``); a per-try limit has no default,
/// the others bound every attempt.
public struct Timeouts: Sendable, Equatable {
    /// The first token's default limit, 300 s: the longest silence Envoy allows a stream
    /// (`stream_idle_timeout`, 5 minutes) before it is cut, so an upstream silent longer sits
    /// behind a proxy that would have cut it anyway; long enough for a reasoning model's
    /// minutes of thought. For a whole answer the first token is its end (conduct rule 7), so
    /// this also bounds a whole answer's attempt.
    public static let defaultFirstTokenSeconds = 300.0
    /// The whole request's default limit, 600 s: the default timeout of the official OpenAI
    /// and Anthropic SDKs (10 minutes), past which their clients have given up on the answer.
    public static let defaultOverallSeconds = 600.0

    /// The longest silence allowed between two frames of a stream after its first, 300 s
    /// unless written: Envoy's `stream_idle_timeout`, which is what it bounds.
    public static let defaultIdleSeconds = 300.0

    public var firstTokenSeconds: Double?
    public var perTrySeconds: Double?
    public var overallSeconds: Double?
    /// A stream's longest gap between two frames once its first token came (a stall is cut
    /// here rather than when the attempt's whole limit passes).
    public var idleSeconds: Double?

    /// The first-token limit in force: as written, else the default.
    public var effectiveFirstTokenSeconds: Double { firstTokenSeconds ?? Self.defaultFirstTokenSeconds }
    /// The idle limit in force: as written, else the default.
    public var effectiveIdleSeconds: Double { idleSeconds ?? Self.defaultIdleSeconds }
    /// The whole request's limit in force: as written, else the default.
    public var effectiveOverallSeconds: Double { overallSeconds ?? Self.defaultOverallSeconds }

    /// The limits in force, for `brownout validate`: "first token 15 s, per try none,
    /// overall 600 s (default)".
    public var summary: String {
        func seconds(_ value: Double) -> String { ConfigNumber.text(value) + " s" }
        return "first token " + seconds(effectiveFirstTokenSeconds) + (firstTokenSeconds == nil ? " (default)" : "")
            + ", per try " + (perTrySeconds.map(seconds) ?? "none")
            + ", idle " + seconds(effectiveIdleSeconds) + (idleSeconds == nil ? " (default)" : "")
            + ", overall " + seconds(effectiveOverallSeconds) + (overallSeconds == nil ? " (default)" : "")
    }

    public init(firstTokenSeconds: Double? = nil, perTrySeconds: Double? = nil, overallSeconds: Double? = nil, idleSeconds: Double? = nil) {
        self.firstTokenSeconds = firstTokenSeconds
        self.perTrySeconds = perTrySeconds
        self.overallSeconds = overallSeconds
        self.idleSeconds = idleSeconds
    }
}

/// When the route uses its local fallback pools.
public enum FallbackPolicy: Sendable, Equatable {
    /// The policies by name, as a config writes them.
    public enum Kind: String, CaseIterable, Sendable {
        case whenFrontierUnhealthy = "when_frontier_unhealthy", spillover, whenQueueFits = "when_queue_fits"
    }

    /// Only when every frontier target of the chain is unavailable (the pure failover).
    case whenFrontierUnhealthy
    /// Also when the route already has more than `aboveConcurrency` frontier attempts in flight.
    case spillover(aboveConcurrency: Int)
    /// First, whenever the pool's estimated queue wait plus service fits the request's
    /// remaining deadline; frontier targets take the rest.
    case whenQueueFits
}

/// The local pools a route may fall back to, and when.
public struct FallbackConfig: Sendable, Equatable {
    public var targets: [String]
    public var policy: FallbackPolicy

    public init(targets: [String], policy: FallbackPolicy = .whenFrontierUnhealthy) {
        self.targets = targets
        self.policy = policy
    }
}

/// Shed lower-priority requests as the route fills: requests of priority tier ≥ `tier`
/// (0 is the most important) are refused while in-flight/maxConcurrency ≥ `aboveUtilization`.
public struct SheddingRule: Sendable, Equatable {
    public var tier: Int
    public var aboveUtilization: Double

    public init(tier: Int, aboveUtilization: Double) {
        self.tier = tier
        self.aboveUtilization = aboveUtilization
    }
}

/// Whether requests go through the gateway's policies or straight to a provider.
public enum RouteMode: String, CaseIterable, Sendable {
    case gateway
    /// The client calls the first target directly (bypassing the gateway during an
    /// incident): no admission, health, budget or fallback; the client's own retries only.
    case bypass
}

/// A named route: its chain of targets and the policies that apply to it.
public struct RouteConfig: Sendable, Equatable {
    public var name: String
    public var chain: [TierConfig]
    public var retry: RetryPolicy
    public var retryBudget: RetryBudgetConfig
    public var hedging: HedgingPolicy?
    public var timeouts: Timeouts
    public var fallback: FallbackConfig?
    public var mode: RouteMode
    public var rateLimit: RateLimit?
    public var maxConcurrency: Int?
    public var shedding: [SheddingRule]
    /// Targets with a larger context window, tried in order when an attempt is refused for
    /// its context length (LiteLLM's `context_window_fallbacks`); empty: such a refusal is
    /// passed back.
    public var contextWindowFallbacks: [String]
    /// What a stream's event that is not JSON does to its attempt.
    public var onMalformedEvent: MalformedEventPolicy
    /// When a streamed answer's first bytes go to the client.
    public var streamCommit: StreamCommit
    /// Whether a request may go to a target that speaks another API than its client
    /// (`cross_protocol`, default true: the gateway translates). False: only targets of the
    /// client's API, for a team that prefers fidelity to availability.
    public var crossProtocol: Bool

    public init(
        name: String, chain: [TierConfig], retry: RetryPolicy = RetryPolicy(), retryBudget: RetryBudgetConfig = .finagleDefault,
        hedging: HedgingPolicy? = nil, timeouts: Timeouts = Timeouts(), fallback: FallbackConfig? = nil,
        mode: RouteMode = .gateway, rateLimit: RateLimit? = nil, maxConcurrency: Int? = nil, shedding: [SheddingRule] = [],
        contextWindowFallbacks: [String] = [], onMalformedEvent: MalformedEventPolicy = .drop, streamCommit: StreamCommit = .firstByte,
        crossProtocol: Bool = true
    ) {
        self.crossProtocol = crossProtocol
        self.name = name
        self.chain = chain
        self.retry = retry
        self.retryBudget = retryBudget
        self.hedging = hedging
        self.timeouts = timeouts
        self.fallback = fallback
        self.mode = mode
        self.rateLimit = rateLimit
        self.maxConcurrency = maxConcurrency
        self.shedding = shedding
        self.contextWindowFallbacks = contextWindowFallbacks
        self.onMalformedEvent = onMalformedEvent
        self.streamCommit = streamCommit
    }
}
