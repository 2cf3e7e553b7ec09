/// An upstream the router can send to: a frontier provider's model endpoint, or a
/// self-hosted local pool.
public struct TargetConfig: Sendable, Equatable {
    public enum Kind: String, CaseIterable, Sendable {
        case provider
        case local
    }

    public var name: String
    public var kind: Kind
    /// USD per million input / output tokens (providers).
    public var inputPricePerMillion: Double
    public var outputPricePerMillion: Double
    /// USD per GPU-hour (local pools).
    public var gpuPricePerHour: Double
    /// What the router knows of the provider's limits for this organisation (RPM / TPM), so
    /// it does not send into a bucket it knows is empty.
    public var limits: RateLimit?
    /// Local pools: requests served at once, and how many may wait beyond that.
    public var maxConcurrency: Int?
    public var queueLimit: Int?
    /// The GPU-seconds one attempt can cost at most (reserved against hard budgets).
    public var maxGPUSecondsPerAttempt: Double
    /// 0 is frontier quality; larger is lower quality (a smaller local model). Unless given:
    /// 0 for a provider, 1 for a local pool.
    public var qualityTier: Int
    /// The Retry-After this provider usually sends with a 429/529, for the lint that
    /// warns when a route's Retry-After cap is below it.
    public var typicalRetryAfterSeconds: Double?
    /// Overrides the router's breaker settings for this target.
    public var breaker: BreakerConfig?
    /// A local pool's replicas as configured (set when decoded); ``maxConcurrency`` is the
    /// fully scaled pool's.
    public var localCapacity: LocalCapacity?
    /// The API the target speaks: a deployment fact (`deployment.upstreams.NAME.protocol`),
    /// set from the spec's deployment section when it has one; `openai` otherwise.
    public var apiProtocol: APIProtocol = .openai

    public init(
        name: String, kind: Kind = .provider, inputPricePerMillion: Double = 0, outputPricePerMillion: Double = 0,
        gpuPricePerHour: Double = 0, limits: RateLimit? = nil, maxConcurrency: Int? = nil, queueLimit: Int? = nil,
        maxGPUSecondsPerAttempt: Double = 600, qualityTier: Int? = nil, typicalRetryAfterSeconds: Double? = nil,
        breaker: BreakerConfig? = nil
    ) {
        self.name = name
        self.kind = kind
        self.inputPricePerMillion = inputPricePerMillion
        self.outputPricePerMillion = outputPricePerMillion
        self.gpuPricePerHour = gpuPricePerHour
        self.limits = limits
        self.maxConcurrency = maxConcurrency
        self.queueLimit = queueLimit
        self.maxGPUSecondsPerAttempt = maxGPUSecondsPerAttempt
        self.qualityTier = qualityTier ?? (kind == .local ? 1 : 0)
        self.typicalRetryAfterSeconds = typicalRetryAfterSeconds
        self.breaker = breaker
    }
}

/// A local pool's serving capacity: replicas, the requests each serves at once, and how far
/// autoscaling may grow it.
public struct LocalCapacity: Sendable, Equatable {
    public var replicas: Int
    public var concurrencyPerReplica: Int
    public var maxReplicas: Int
    /// GPUs one replica runs on.
    public var gpusPerReplica: Int

    public init(replicas: Int, concurrencyPerReplica: Int, maxReplicas: Int, gpusPerReplica: Int = 1) {
        self.replicas = replicas
        self.concurrencyPerReplica = concurrencyPerReplica
        self.maxReplicas = max(replicas, maxReplicas)
        self.gpusPerReplica = gpusPerReplica
    }

    /// The GPU-seconds an attempt is charged for `seconds` of service: its share of its
    /// replica's GPUs (the chargeback rule of the simulated pool and the production gateway).
    public func gpuSeconds(forSeconds seconds: Double) -> Double {
        seconds * Double(gpusPerReplica) / Double(concurrencyPerReplica)
    }

    /// Requests served at once when fully scaled.
    public var maxConcurrency: Int { maxReplicas * concurrencyPerReplica }
}
