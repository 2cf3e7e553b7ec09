import RoutingCore
import Stochastics

/// A frontier provider's model endpoint as the simulation sees it.
public struct ProviderSpec: Sendable {
    public var name: String
    /// Requests it serves at once for this organisation; more wait in its queue.
    public var concurrency: Int
    /// Requests that may wait; beyond that the provider answers 529 at once.
    public var queueLimit: Int
    public var timeToFirstTokenSeconds: Distribution
    public var outputTokensPerSecond: Distribution
    public var inputPricePerMillion: Double
    public var outputPricePerMillion: Double
    /// The organisation's RPM and input-TPM limits at the provider (429 with Retry-After).
    public var limits: RateLimit?
    /// The output-TPM limit, charged with the request's max output tokens when it is admitted
    /// (as Anthropic estimates OTPM from `max_tokens`).
    public var outputTokensPerMinute: Double?
    /// Health states; index 0 is the normal state.
    public var states: [HealthStateSpec]
    /// The longest a provider keeps an attempt that would never answer (a hung connection)
    /// when the gateway sets no timeout.
    public var hangSeconds: Double
    /// The model's context window: a prompt of more input tokens is refused at once with a
    /// 400 `context_length_exceeded` (nil: none is).
    public var contextWindowTokens: Int?

    public init(
        name: String, concurrency: Int, queueLimit: Int = 0, timeToFirstTokenSeconds: Distribution,
        outputTokensPerSecond: Distribution, inputPricePerMillion: Double, outputPricePerMillion: Double,
        limits: RateLimit? = nil, outputTokensPerMinute: Double? = nil, states: [HealthStateSpec] = [.healthy], hangSeconds: Double = 600
    ) {
        self.name = name
        self.concurrency = concurrency
        self.queueLimit = queueLimit
        self.timeToFirstTokenSeconds = timeToFirstTokenSeconds
        self.outputTokensPerSecond = outputTokensPerSecond
        self.inputPricePerMillion = inputPricePerMillion
        self.outputPricePerMillion = outputPricePerMillion
        self.limits = limits
        self.outputTokensPerMinute = outputTokensPerMinute
        self.states = states
        self.hangSeconds = hangSeconds
    }
}

/// A self-hosted pool of replicas serving one model on GPUs.
public struct FallbackPoolSpec: Sendable {
    public var name: String
    public var replicas: Int
    /// Requests one replica serves at once (its concurrency knee).
    public var maxConcurrencyPerReplica: Int
    /// Requests that may wait beyond the serving slots.
    public var queueLimit: Int
    /// Output tokens per second of one replica at its knee, shared by the requests it serves.
    public var replicaOutputTokensPerSecond: Double
    public var timeToFirstTokenSeconds: Distribution
    public var gpusPerReplica: Int
    public var gpuPricePerHour: Double
    /// 0 is frontier quality; larger is a smaller model.
    public var qualityTier: Int
    /// The model's context window (see ``ProviderSpec/contextWindowTokens``).
    public var contextWindowTokens: Int?
    /// Autoscaling: at most this many replicas (equal to `replicas`: no scaling).
    public var maxReplicas: Int
    /// Time from the decision to add a replica until it serves (node, weights, warm-up).
    public var spinUpSeconds: Double
    /// A replica is added while the queue holds at least this many requests.
    public var scaleUpQueue: Int
    /// A replica is removed after this long in which one fewer would have sufficed.
    public var scaleDownIdleSeconds: Double

    public init(
        name: String, replicas: Int, maxConcurrencyPerReplica: Int, queueLimit: Int, replicaOutputTokensPerSecond: Double,
        timeToFirstTokenSeconds: Distribution, gpusPerReplica: Int = 1, gpuPricePerHour: Double, qualityTier: Int = 1,
        maxReplicas: Int? = nil, spinUpSeconds: Double = 300, scaleUpQueue: Int? = nil, scaleDownIdleSeconds: Double = 600
    ) {
        self.name = name
        self.replicas = replicas
        self.maxConcurrencyPerReplica = maxConcurrencyPerReplica
        self.queueLimit = queueLimit
        self.replicaOutputTokensPerSecond = replicaOutputTokensPerSecond
        self.timeToFirstTokenSeconds = timeToFirstTokenSeconds
        self.gpusPerReplica = gpusPerReplica
        self.gpuPricePerHour = gpuPricePerHour
        self.qualityTier = qualityTier
        self.maxReplicas = max(replicas, maxReplicas ?? replicas)
        self.spinUpSeconds = spinUpSeconds
        self.scaleUpQueue = max(1, scaleUpQueue ?? maxConcurrencyPerReplica)
        self.scaleDownIdleSeconds = scaleDownIdleSeconds
    }

    /// Requests served at once across the pool at its initial (minimum) size.
    public var servers: Int { replicas * maxConcurrencyPerReplica }

    /// Requests served at once when scaled out fully.
    public var maxServers: Int { maxReplicas * maxConcurrencyPerReplica }
}
