import RoutingCore
import Stochastics

// How the simulator's parts of a spec decode. The routing keys of `providers.NAME` and
// `pools.NAME` (prices, limits, replicas, queue) are RoutingCore's `TargetConfig`'s; the
// simulator reads the same values through it, so each key is decoded in one place.

extension ProviderSpec: Decodable {
    enum CodingKeys: String, CodingKey, CaseIterable {
        case concurrency, queue, states
        case ttft = "ttft_s", outputTokensPerSecond = "output_tokens_per_s", outputTPM = "output_tpm", hang = "hang_s"
        case contextWindow = "context_window_tokens"
    }

    /// `providers.NAME`: servers, queue, latency and throughput, per-state behaviour.
    public init(from decoder: any Decoder) throws {
        let target = try TargetConfig(from: decoder, kind: .provider)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            name: target.name, concurrency: try c.number(.concurrency, atLeast: 1),
            timeToFirstTokenSeconds: try c.decode(Distribution.self, forKey: .ttft),
            outputTokensPerSecond: try c.decode(Distribution.self, forKey: .outputTokensPerSecond),
            inputPricePerMillion: target.inputPricePerMillion, outputPricePerMillion: target.outputPricePerMillion, limits: target.limits)
        queueLimit = try c.number(.queue, default: queueLimit, atLeast: 0)
        outputTokensPerMinute = try c.optionalNumber(.outputTPM, above: 0)
        hangSeconds = try c.number(.hang, default: hangSeconds, above: 0)
        contextWindowTokens = try c.optionalNumber(.contextWindow, atLeast: 1)
        states = try c.namedStates(.states, healthy: HealthStateSpec.healthy, named: HealthStateSpec.healthy.name)
    }
}

extension HealthStateSpec: Decodable {
    enum CodingKeys: String, CodingKey, CaseIterable {
        case errors, capacity
        case latencyMultiplier = "latency_x", retryAfter = "retry_after_s"
    }

    /// `states.NAME`: `errors {CLASS or STREAM_FAULT: probability}` (at most 1 together), `latency_x`,
    /// `capacity` (the fraction of servers left), `retry_after_s`.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(name: decoder.entryName)
        if c.contains(.errors) {
            let errors = try c.nestedContainer(keyedBy: ConfigKey.self, forKey: .errors)
            for outcome in OutcomeClass.failures {
                if let probability: Double = try errors.optionalNumber(ConfigKey(outcome.rawValue), atLeast: 0, atMost: 1) {
                    errorMix.append((outcome, probability))
                }
            }
            for fault in StreamFault.allCases {
                if let probability: Double = try errors.optionalNumber(ConfigKey(fault.rawValue), atLeast: 0, atMost: 1) {
                    streamFaultMix.append((fault, probability))
                }
            }
            if failureProbability > 1 + 1e-12 {
                throw DecodingError.dataCorruptedError(
                    forKey: .errors, in: c, debugDescription: "probabilities sum to \(failureProbability); they must sum to at most 1")
            }
        }
        latencyMultiplier = try c.number(.latencyMultiplier, default: latencyMultiplier, above: 0)
        capacityFraction = try c.number(.capacity, default: capacityFraction, atLeast: 0, atMost: 1)
        retryAfterSeconds = try c.optionalNumber(.retryAfter, atLeast: 0)
    }
}

extension FallbackPoolSpec: Decodable {
    enum CodingKeys: String, CodingKey, CaseIterable {
        case autoscaling
        case ttft = "ttft_s", replicaOutputTokensPerSecond = "replica_output_tokens_per_s"
        case contextWindow = "context_window_tokens"
    }

    enum AutoscalingKeys: String, CodingKey, CaseIterable {
        case spinUp = "spin_up_s", scaleUpQueue = "scale_up_queue", scaleDownIdle = "scale_down_idle_s"
    }

    /// `pools.NAME`: replicas, their throughput and first-token latency, GPUs and price,
    /// autoscaling.
    public init(from decoder: any Decoder) throws {
        let target = try TargetConfig(from: decoder, kind: .local)
        guard let capacity = target.localCapacity else { preconditionFailure("a decoded pool has its capacity") }
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            name: target.name, replicas: capacity.replicas, maxConcurrencyPerReplica: capacity.concurrencyPerReplica,
            queueLimit: target.queueLimit ?? 0,
            replicaOutputTokensPerSecond: try c.number(.replicaOutputTokensPerSecond, above: 0),
            timeToFirstTokenSeconds: try c.decode(Distribution.self, forKey: .ttft),
            gpuPricePerHour: target.gpuPricePerHour, qualityTier: target.qualityTier, maxReplicas: capacity.maxReplicas)
        gpusPerReplica = capacity.gpusPerReplica
        contextWindowTokens = try c.optionalNumber(.contextWindow, atLeast: 1)
        if c.contains(.autoscaling) {
            let scaling = try c.nestedContainer(keyedBy: AutoscalingKeys.self, forKey: .autoscaling)
            spinUpSeconds = try scaling.number(.spinUp, default: spinUpSeconds, atLeast: 0)
            scaleUpQueue = try scaling.number(.scaleUpQueue, default: scaleUpQueue, atLeast: 1)
            scaleDownIdleSeconds = try scaling.number(.scaleDownIdle, default: scaleDownIdleSeconds, above: 0)
        }
    }
}

extension GatewayHealthSpec: Decodable {
    enum CodingKeys: String, CodingKey, CaseIterable {
        case addedLatency = "added_latency_s", errorProbability = "error_probability"
    }

    /// `gateway.states.NAME`: latency the gateway adds and the chance it fails a request itself.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(name: decoder.entryName)
        addedLatencySeconds = try c.number(.addedLatency, default: addedLatencySeconds, atLeast: 0)
        errorProbability = try c.number(.errorProbability, default: errorProbability, atLeast: 0, atMost: 1)
    }
}

/// The simulator's part of the `gateway` section: its health states, how many replicas run
/// it, how long what one replica tells the others takes to reach them, and the replicas that
/// crash.
public struct SimulatedGatewaySettings: Decodable, Sendable {
    enum CodingKeys: String, CodingKey, CaseIterable {
        case states, replicas, crashes
        case propagationDelay = "propagation_delay_s"
    }

    /// `healthy` first, then the states in the order written.
    public var states: [GatewayHealthSpec] = [.healthy]
    /// Replicas of the gateway behind a load balancer that gives each request to the next in
    /// turn (`replicas`, default 1).
    public var replicas = 1
    /// From a replica's breaker change to the other replicas' routers hearing of it, when
    /// breakers are shared (`propagation_delay_s`, default 0.05 s: a PostgreSQL NOTIFY across
    /// a zone, with margin).
    public var propagationDelaySeconds = 0.05
    /// Replicas that die during the run, in time order (`crashes`, default none).
    public var crashes: [ReplicaCrash] = []

    public init() {}

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        states = try c.namedStates(.states, healthy: GatewayHealthSpec.healthy, named: GatewayHealthSpec.healthy.name)
        replicas = try c.number(.replicas, default: replicas, atLeast: 1, atMost: 64)
        propagationDelaySeconds = try c.number(.propagationDelay, default: propagationDelaySeconds, atLeast: 0, atMost: 3_600)
        crashes = try ReplicaCrash.decodeList(from: c, replicas: replicas)
    }
}

extension KeyedDecodingContainer {
    /// A map of named health states: the healthy state (as written, or `healthy`) first, then
    /// the others in the order written.
    func namedStates<T: Decodable>(_ key: Key, healthy: T, named healthyName: String) throws -> [T] {
        var states = [healthy]
        guard contains(key) else { return states }
        let entries = try nestedContainer(keyedBy: ConfigKey.self, forKey: key)
        for name in entries.allKeys {
            let state = try entries.decode(T.self, forKey: name)
            if name.stringValue == healthyName { states[0] = state } else { states.append(state) }
        }
        return states
    }
}

extension TeamSpec: Decodable {
    enum CodingKeys: String, CodingKey, CaseIterable {
        case route, arrivals, slo, api
        case inputTokens = "input_tokens", outputTokens = "output_tokens", sdkRetries = "sdk_retries", streamShare = "stream_share"
    }

    enum ObjectiveKeys: String, CodingKey, CaseIterable {
        case availability
        case latencyPercentile = "latency_percentile", latency = "latency_s"
    }

    /// `teams.NAME`: its route, arrivals, token counts, share of streamed requests, the API its
    /// clients speak (`api`), SDK retries and SLO (its tier, rate limit and budget are RoutingCore's).
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            name: decoder.entryName, arrivals: try c.decode(ArrivalProcessSpec.self, forKey: .arrivals).process,
            inputTokens: try c.decode(Distribution.self, forKey: .inputTokens), outputTokens: try c.decode(Distribution.self, forKey: .outputTokens),
            route: try c.decode(String.self, forKey: .route))
        sdkRetries = try c.number(.sdkRetries, default: sdkRetries, atLeast: 0)
        streamShare = try c.number(.streamShare, default: streamShare, atLeast: 0, atMost: 1)
        if let name = try c.decodeIfPresent(String.self, forKey: .api) {
            guard let api = APIProtocol(rawValue: name) else {
                throw DecodingError.dataCorruptedError(
                    forKey: .api, in: c,
                    debugDescription: "must be one of \(APIProtocol.allCases.map(\.rawValue).joined(separator: ", ")), got '\(name)'")
            }
            apiProtocol = api
        }
        if c.contains(.slo) {
            let slo = try c.nestedContainer(keyedBy: ObjectiveKeys.self, forKey: .slo)
            sloAvailability = try slo.number(.availability, default: sloAvailability, atLeast: 0, atMost: 1)
            sloLatencyPercentile = try slo.number(.latencyPercentile, default: sloLatencyPercentile, atLeast: 0, atMost: 100)
            sloLatencySeconds = try slo.number(.latency, default: sloLatencySeconds, above: 0)
        }
    }
}
