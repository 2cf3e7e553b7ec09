import RoutingCore
import Stochastics

/// How an upstream will serve one attempt it has started on: when its first token comes,
/// when it ends and how. Drawn by the provider and pool models the simulation's actors and
/// the live twin's mock providers share, so that both serve by one model.
public struct ServicePlan: Sendable, Equatable {
    public var outcome: OutcomeClass
    /// From the start of service to the end (the last token, the error, the hang's end).
    public var seconds: Double
    /// From the start of service to the first token; 0 when no token comes.
    public var firstTokenSeconds: Double
    /// Input and output tokens billed.
    public var inputTokens: Int
    public var outputTokens: Int
    /// The Retry-After an error answer carries.
    public var retryAfterSeconds: Double?
    /// Local pools: the GPU-seconds the attempt is charged.
    public var gpuSeconds: Double?
    /// A stream that stalls: from the start of service to its last frame (then silence until
    /// ``seconds``).
    public var stallsAtSeconds: Double?
    /// A stream with one event that is not JSON: from the start of service to that event.
    public var malformedEventAtSeconds: Double?
    /// A complete stream that ends without `[DONE]`.
    public var unterminated = false

    /// Why a gateway cuts a stream.
    public enum StreamCutKind: Sendable {
        /// Silence longer than the idle limit.
        case idle
        /// An event that is not JSON, on a route that fails on them.
        case malformedEvent
    }

    /// When a gateway relaying this attempt as a stream cuts it (from the start of service),
    /// and why, or nil when it does not: its frames come at an even pace from the first token
    /// to the end (to the stall, for a stall), so a gateway whose idle limit is `idleSeconds`
    /// cuts at the first token plus the limit when frames come further apart than that, and at
    /// the stall plus the limit after a stall; `failsOnMalformedEvent` cuts at the malformed
    /// event. A whole answer has no frames to judge: never cut here.
    public func streamCut(idleSeconds: Double?, failsOnMalformedEvent: Bool) -> (seconds: Double, kind: StreamCutKind)? {
        guard firstTokenSeconds > 0 else { return nil }
        var cut: (seconds: Double, kind: StreamCutKind) = (.infinity, .idle)
        if let idle = idleSeconds {
            let lastFrame = stallsAtSeconds ?? seconds
            let frames = max(1, outputTokens)
            let gap = frames > 1 ? (lastFrame - firstTokenSeconds) / Double(frames - 1) : 0
            if gap > idle { cut.seconds = firstTokenSeconds + idle }
            if let stall = stallsAtSeconds { cut.seconds = min(cut.seconds, stall + idle) }
        }
        if failsOnMalformedEvent, let malformed = malformedEventAtSeconds, malformed < cut.seconds { cut = (malformed, .malformedEvent) }
        return cut.seconds < seconds ? cut : nil
    }

    /// When a stream held by `commit` reaches the client (from the start of service), given
    /// that a gateway cuts it at `cutSeconds` (nil: never): when the hold releases on its
    /// tokens or time before the attempt's end, else at its end if it completes (its `[DONE]`
    /// releases what is held), else nil (the attempt ends before any byte reached the client).
    public func heldUntilSeconds(_ commit: StreamCommit, cutSeconds: Double?) -> Double? {
        guard firstTokenSeconds > 0 else { return nil }
        let end = cutSeconds ?? seconds
        if let at = commit.commitSeconds(firstToken: firstTokenSeconds, lastToken: stallsAtSeconds ?? seconds, tokens: max(1, outputTokens)), at < end
        {
            return at
        }
        return outcome == .success && cutSeconds == nil ? seconds : nil
    }
}

extension ProviderSpec {
    /// How long a provider takes to refuse an attempt over the organisation's limits (429).
    public static let refusalSeconds = 0.05
    /// How long it takes to answer 529 when its queue is full, at normal speed (times the
    /// state's latency multiplier).
    public static let overloadSeconds = 0.1

    /// The plan for an attempt of `inputTokens` in, `outputTokens` out, started in health
    /// state `state` (`effect` its reduction): draws the first-token time and the output rate
    /// from `latency`, the failure (if any) from `errors`, in that order.
    public func plan(
        state: Int, effect: HealthEffect, inputTokens: Int, outputTokens: Int,
        latency: RandomStream, errors: RandomStream
    ) -> ServicePlan {
        let ttft = timeToFirstTokenSeconds.sample(latency) * effect.latencyMultiplier
        let rate = max(1e-3, outputTokensPerSecond.sample(latency))
        let generation = Double(outputTokens) / rate * effect.latencyMultiplier
        let draw = errors.uniform()
        let failure = draw < effect.failureProbability ? states[state].failure(for: draw) : nil
        switch failure {
        case nil:
            var plan = ServicePlan(
                outcome: .success, seconds: ttft + generation, firstTokenSeconds: ttft, inputTokens: inputTokens, outputTokens: outputTokens)
            guard draw < effect.failureProbability, let fault = states[state].streamFault(for: draw) else { return plan }
            // Where in the output the fault strikes.
            let at = ttft + generation * errors.uniform()
            switch fault {
            case .stall:
                // What streamed is billed; the connection then stays open, silent, for the hang.
                let streamed = max(1, Int(Double(outputTokens) * (at - ttft) / max(generation, .leastNonzeroMagnitude)))
                plan = ServicePlan(
                    outcome: .failedAfterFirstByte, seconds: max(hangSeconds, at), firstTokenSeconds: ttft, inputTokens: inputTokens,
                    outputTokens: min(outputTokens, streamed))
                plan.stallsAtSeconds = at
            case .malformedEvent:
                plan.malformedEventAtSeconds = at
            case .unterminated:
                plan.unterminated = true
            }
            return plan
        case .timeout?:
            return ServicePlan(outcome: .timeout, seconds: hangSeconds, firstTokenSeconds: 0, inputTokens: 0, outputTokens: 0)
        case .failedAfterFirstByte?:
            let fraction = errors.uniform()
            // The first token streams, then the answer breaks partway: billed for what streamed.
            return ServicePlan(
                outcome: .failedAfterFirstByte, seconds: ttft + generation * fraction, firstTokenSeconds: ttft,
                inputTokens: inputTokens, outputTokens: max(1, Int(Double(outputTokens) * fraction)))
        case let other?:
            return ServicePlan(
                outcome: other, seconds: ttft, firstTokenSeconds: 0, inputTokens: 0, outputTokens: 0,
                retryAfterSeconds: effect.retryAfterSeconds)
        }
    }
}

extension FallbackPoolSpec {
    /// The plan for an attempt a pool serves: the first-token time from `latency`, then the
    /// output at the replica's knee throughput shared by its concurrency.
    public func plan(inputTokens: Int, outputTokens: Int, latency: RandomStream) -> ServicePlan {
        let ttft = timeToFirstTokenSeconds.sample(latency)
        let perRequestRate = replicaOutputTokensPerSecond / Double(maxConcurrencyPerReplica)
        let seconds = ttft + Double(outputTokens) / perRequestRate
        return ServicePlan(
            outcome: .success, seconds: seconds, firstTokenSeconds: ttft, inputTokens: inputTokens, outputTokens: outputTokens,
            gpuSeconds: gpuSeconds(forSeconds: seconds))
    }

    /// An attempt's share of its replica's GPUs over `seconds` of service (RoutingCore's rule,
    /// which the production gateway charges by).
    public func gpuSeconds(forSeconds seconds: Double) -> Double {
        LocalCapacity(replicas: replicas, concurrencyPerReplica: maxConcurrencyPerReplica, maxReplicas: maxReplicas, gpusPerReplica: gpusPerReplica)
            .gpuSeconds(forSeconds: seconds)
    }
}
