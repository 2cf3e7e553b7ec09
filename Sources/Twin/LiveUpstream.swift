import DequeModule
import GatewaySim
import RoutingCore
import Stochastics
import Synchronization

/// One of a spec's upstreams, served live in model time: the same model as the simulation's
/// `Provider` and `FallbackPool` actors (limits, servers and a FIFO queue, health states,
/// the pool's autoscaling, and the plans of ``ServicePlan``), with real waiting in place of
/// the event calendar. Like the simulated provider, it cannot see a client give up: an
/// attempt holds its server until its plan ends, and a queued one stays queued.
public final class LiveUpstream: Sendable {
    public enum Model: Sendable {
        case provider(ProviderSpec)
        case pool(FallbackPoolSpec)
    }

    public let name: String
    let model: Model
    let clock: ScaledClock
    private let effects: [HealthEffect]
    private let state: Mutex<State>

    private struct Waiter {
        let inputTokens: Int
        let outputTokens: Int
        let continuation: CheckedContinuation<LiveAnswer, Never>
    }

    private struct State {
        var busy = 0
        var waiting = Deque<Waiter>()
        var health = 0
        var limits: ProviderLimits?
        /// Pools: replicas serving, replicas starting, the most busy since the last check.
        var ready = 0
        var starting = 0
        var peakBusy = 0
        let latency: RandomStream
        /// A provider's error draws (a pool draws none).
        let errors: RandomStream?
        var counts = LiveUpstreamCounts()
    }

    /// The upstream's random streams are the simulation's own names, for replication
    /// `replication` under `seed`.
    public init(_ model: Model, clock: ScaledClock, seed: UInt64, replication: Int) {
        self.model = model
        self.clock = clock
        switch model {
        case .provider(let spec):
            name = spec.name
            effects = spec.states.map { HealthEffect($0, concurrency: spec.concurrency) }
            state = Mutex(
                State(
                    limits: ProviderLimits(spec), latency: spec.latencyStream(seed: seed, replication: replication),
                    errors: spec.errorStream(seed: seed, replication: replication)))
        case .pool(let spec):
            name = spec.name
            effects = []
            state = Mutex(State(ready: spec.replicas, latency: spec.latencyStream(seed: seed, replication: replication), errors: nil))
        }
    }

    /// What became of the attempts so far.
    public var counts: LiveUpstreamCounts { state.withLock { $0.counts } }

    /// An attempt of `inputTokens` in and `outputTokens` out arrives now; returns once it is
    /// refused or started (after its wait in the queue).
    public func answer(inputTokens: Int, outputTokens: Int) async -> LiveAnswer {
        await withCheckedContinuation { continuation in
            let immediate: LiveAnswer? = state.withLock { state in
                state.counts.attempts += 1
                let now = clock.nanoseconds()
                // A prompt longer than the model's context window is refused at once, as the
                // simulated upstreams refuse it.
                switch model {
                case .provider(let spec):
                    if let window = spec.contextWindowTokens, inputTokens > window {
                        state.counts.refused += 1
                        return .refusedForContextLength(windowTokens: window, afterSeconds: ProviderSpec.refusalSeconds)
                    }
                case .pool(let spec):
                    if let window = spec.contextWindowTokens, inputTokens > window {
                        state.counts.refused += 1
                        return .refusedForContextLength(windowTokens: window, afterSeconds: 0)
                    }
                }
                if case .provider = model,
                    let retryAfter = state.limits?.admit(inputTokens: inputTokens, outputTokens: outputTokens, at: RoutingInstant(nanoseconds: now))
                {
                    state.counts.refused += 1
                    return .refused(.rateLimited, afterSeconds: ProviderSpec.refusalSeconds, retryAfterSeconds: retryAfter)
                }
                if state.busy < capacity(state) {
                    return serve(&state, inputTokens: inputTokens, outputTokens: outputTokens, now: now)
                }
                if state.waiting.count < queueLimit {
                    state.waiting.append(Waiter(inputTokens: inputTokens, outputTokens: outputTokens, continuation: continuation))
                    state.counts.maxQueued = max(state.counts.maxQueued, state.waiting.count)
                    scaleUpIfQueued(&state)
                    return nil
                }
                state.counts.refused += 1
                switch model {
                case .provider:
                    let effect = effects[state.health]
                    return .refused(
                        .overloaded, afterSeconds: ProviderSpec.overloadSeconds * effect.latencyMultiplier,
                        retryAfterSeconds: effect.retryAfterSeconds)
                case .pool:
                    return .refused(.overloaded, afterSeconds: 0, retryAfterSeconds: nil)
                }
            }
            if let immediate { continuation.resume(returning: immediate) }
        }
    }

    /// The degradation moved this provider to health state `health`.
    public func setHealth(_ health: Int) {
        let started = state.withLock { state in
            state.health = health
            return admitFromQueue(&state)
        }
        for (waiter, answer) in started { waiter.resume(returning: answer) }
    }

    // MARK: The model

    private var queueLimit: Int {
        switch model {
        case .provider(let spec): return spec.queueLimit
        case .pool(let spec): return spec.queueLimit
        }
    }

    private func capacity(_ state: State) -> Int {
        switch model {
        case .provider: return effects[state.health].capacity
        case .pool(let spec): return state.ready * spec.maxConcurrencyPerReplica
        }
    }

    /// Starts service: draws the plan and arranges for the server to be freed when it ends.
    private func serve(_ state: inout State, inputTokens: Int, outputTokens: Int, now: Int64) -> LiveAnswer {
        state.busy += 1
        state.peakBusy = max(state.peakBusy, state.busy)
        state.counts.served += 1
        state.counts.maxBusy = max(state.counts.maxBusy, state.busy)
        let plan: ServicePlan
        switch model {
        case .provider(let spec):
            plan = spec.plan(
                state: state.health, effect: effects[state.health], inputTokens: inputTokens, outputTokens: outputTokens,
                latency: state.latency, errors: state.errors!)
        case .pool(let spec):
            plan = spec.plan(inputTokens: inputTokens, outputTokens: outputTokens, latency: state.latency)
        }
        let end = now + Seconds.nanoseconds(plan.seconds)
        Task { [self] in
            try? await clock.sleep(until: end)
            release()
        }
        return .served(plan, startedAt: now)
    }

    private func release() {
        let started = state.withLock { state in
            state.busy -= 1
            return admitFromQueue(&state)
        }
        for (waiter, answer) in started { waiter.resume(returning: answer) }
    }

    /// Serves waiting attempts while servers are free; returns whom to wake (outside the lock).
    private func admitFromQueue(_ state: inout State) -> [(CheckedContinuation<LiveAnswer, Never>, LiveAnswer)] {
        var started: [(CheckedContinuation<LiveAnswer, Never>, LiveAnswer)] = []
        let now = clock.nanoseconds()
        while state.busy < capacity(state), let next = state.waiting.popFirst() {
            started.append((next.continuation, serve(&state, inputTokens: next.inputTokens, outputTokens: next.outputTokens, now: now)))
        }
        return started
    }

    // MARK: A pool's autoscaling (the simulated pool's rule)

    private func scaleUpIfQueued(_ state: inout State) {
        guard case .pool(let spec) = model else { return }
        guard state.waiting.count >= spec.scaleUpQueue * (state.starting + 1), state.ready + state.starting < spec.maxReplicas else { return }
        state.starting += 1
        let readyAt = clock.nanoseconds() + Seconds.nanoseconds(spec.spinUpSeconds)
        Task { [self] in
            try? await clock.sleep(until: readyAt)
            replicaReady(spec)
        }
    }

    private func replicaReady(_ spec: FallbackPoolSpec) {
        let (started, checkFrom) = state.withLock { state in
            state.starting -= 1
            state.ready += 1
            state.counts.maxReplicas = max(state.counts.maxReplicas, state.ready)
            return (admitFromQueue(&state), state.ready == spec.replicas + 1 ? clock.nanoseconds() : nil)
        }
        for (waiter, answer) in started { waiter.resume(returning: answer) }
        if let checkFrom { scheduleScaleDownCheck(spec, after: checkFrom) }
    }

    private func scheduleScaleDownCheck(_ spec: FallbackPoolSpec, after time: Int64) {
        let at = time + Seconds.nanoseconds(spec.scaleDownIdleSeconds)
        Task { [self] in
            try? await clock.sleep(until: at)
            let again = state.withLock { state in
                if state.ready > spec.replicas && state.peakBusy <= (state.ready - 1) * spec.maxConcurrencyPerReplica && state.waiting.isEmpty {
                    state.ready -= 1
                }
                state.peakBusy = state.busy
                return state.ready > spec.replicas
            }
            if again { scheduleScaleDownCheck(spec, after: at) }
        }
    }
}
