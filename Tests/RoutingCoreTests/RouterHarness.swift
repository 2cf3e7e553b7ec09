@testable import RoutingCore

/// The tests' deterministic generator.
typealias SeededGenerator = SplitMix64

extension SplitMix64 {
    init(state: UInt64) {
        self.init(seed: state)
    }
}

/// Drives a router the way a gateway would: arrivals, attempt completions, retry waits and
/// hedge timers, in time order (FIFO at equal times), with outcomes from `upstream`.
struct RouterHarness: ~Copyable {
    enum Kind { case arrival, finished(attempt: Int32, outcome: AttemptOutcome), resume, hedge }
    struct Pending { let time: Int64; let sequence: Int; let request: UInt64; let kind: Kind }

    var router: Router
    let clock: ManualClock
    var upstream: (_ target: Int32, _ attempt: Int32, _ rng: inout SeededGenerator) -> (AttemptOutcome)
    var rng = SeededGenerator(state: 99)
    var pending = PendingQueue()
    var sequence = 0
    var states: [UInt64: RequestState] = [:]
    var requests: [UInt64: RoutingRequest] = [:]
    private(set) var decisions: [Decision] = []
    /// For each decision, the targets it passed over (``Router/rejectedAlternatives`` as it was made).
    private(set) var passedOver: [[RejectedAlternative]] = []
    /// Called after every decision with the router, for invariants.
    var afterEachDecision: ((borrowing Router, Decision) -> Void)?

    init(config: RouterConfig, seed: UInt64 = 1, upstream: @escaping (Int32, Int32, inout SeededGenerator) -> AttemptOutcome) throws {
        clock = ManualClock()
        router = try Router(
            config: config, clock: clock, wallClock: OffsetWallClock(clock: clock, unixNanosecondsAtZero: 0), generator: SeededGenerator(state: seed))
        self.upstream = upstream
    }

    mutating func schedule(_ time: Int64, _ request: UInt64, _ kind: Kind) {
        pending.insert(Pending(time: time, sequence: sequence, request: request, kind: kind))
        sequence += 1
    }

    mutating func arrive(_ request: RoutingRequest, at seconds: Double) {
        requests[request.id] = request
        schedule(Seconds.nanoseconds(seconds), request.id, .arrival)
    }

    mutating func run() {
        while let event = pending.popFirst() {
            clock.now = RoutingInstant(nanoseconds: event.time)
            let decision: Decision
            switch event.kind {
            case .arrival:
                let (state, first) = router.begin(requests[event.request]!)
                states[event.request] = state
                decision = first
            case .finished(let attempt, let outcome):
                var state = states[event.request]!
                decision = router.attemptFinished(&state, attempt: attempt, outcome)
                states[event.request] = state
            case .resume:
                var state = states[event.request]!
                decision = router.resume(&state)
                states[event.request] = state
            case .hedge:
                var state = states[event.request]!
                decision = router.hedgeDue(&state)
                states[event.request] = state
            }
            handle(decision, now: event.time)
        }
    }

    private mutating func handle(_ decision: Decision, now: Int64) {
        decisions.append(decision)
        passedOver.append(router.rejectedAlternatives)
        afterEachDecision?(router, decision)
        switch decision.action {
        case .send, .hedge:
            let outcome = upstream(Int32(decision.target!.index), decision.attempt, &rng)
            schedule(now + outcome.latencyNanoseconds, decision.requestID, .finished(attempt: decision.attempt, outcome: outcome))
            if let hedgeAfter = decision.hedgeAfterNanoseconds {
                schedule(now + hedgeAfter, decision.requestID, .hedge)
            }
        case .wait:
            schedule(now + decision.delayNanoseconds, decision.requestID, .resume)
        case .none, .complete, .fail, .reject:
            break
        }
    }

    /// Final decisions per request (complete, fail or reject).
    var terminal: [Decision] {
        decisions.filter { [.complete, .fail, .reject].contains($0.action) }
    }

    /// Attempts sent (sends and hedges) per request id.
    var attemptsPerRequest: [UInt64: Int] {
        decisions.filter { $0.action == .send || $0.action == .hedge }.reduce(into: [:]) { $0[$1.requestID, default: 0] += 1 }
    }
}

/// Three providers in one chain, priced from provider-facts.md, plus a local pool.
func threeProviderConfig(
    retry: RetryPolicy = RetryPolicy(backoff: .none), retryBudget: RetryBudgetConfig = .unlimited,
    balancing: LoadBalancing = .weightedRandom(weights: nil), breaker: BreakerConfig? = nil,
    hedging: HedgingPolicy? = nil, fallback: FallbackConfig? = nil, budgets: [BudgetConfig] = [],
    outlier: OutlierDetectionConfig? = nil
) -> RouterConfig {
    RouterConfig(
        targets: [
            TargetConfig(name: "anthropic", inputPricePerMillion: 3, outputPricePerMillion: 15),
            TargetConfig(name: "openai", inputPricePerMillion: 2.5, outputPricePerMillion: 10),
            TargetConfig(name: "google", inputPricePerMillion: 1.25, outputPricePerMillion: 10),
            TargetConfig(name: "local-h100", kind: .local, gpuPricePerHour: 4.25, maxConcurrency: 8, queueLimit: 16, qualityTier: 1),
        ],
        routes: [
            RouteConfig(
                name: "chat", chain: [TierConfig(targets: ["anthropic", "openai", "google"], balancing: balancing)],
                retry: retry, retryBudget: retryBudget, hedging: hedging, fallback: fallback)
        ],
        teams: [TeamConfig(name: "search", tier: 0), TeamConfig(name: "batch", tier: 2)],
        budgets: budgets,
        health: HealthConfig(breaker: breaker, outlierDetection: outlier)
    )
}

func request(_ id: UInt64, team: Int32 = 0, input: Int = 1_000, maxOutput: Int = 500) -> RoutingRequest {
    RoutingRequest(id: id, route: RouteID(raw: 0), team: TeamID(raw: team), inputTokens: input, maxOutputTokens: maxOutput)
}

func ok(latency seconds: Double = 0.5, input: Int = 1_000, output: Int = 400) -> AttemptOutcome {
    AttemptOutcome(outcome: .success, latencyNanoseconds: Seconds.nanoseconds(seconds), inputTokens: input, outputTokens: output)
}

func failure(_ outcome: OutcomeClass = .overloaded, latency seconds: Double = 0.2, retryAfter: Double? = nil) -> AttemptOutcome {
    AttemptOutcome(outcome: outcome, latencyNanoseconds: Seconds.nanoseconds(seconds), inputTokens: 0, outputTokens: 0, retryAfterSeconds: retryAfter)
}

/// A binary heap of harness events ordered by (time, sequence).
struct PendingQueue {
    private var heap: [RouterHarness.Pending] = []

    private static func before(_ a: RouterHarness.Pending, _ b: RouterHarness.Pending) -> Bool {
        (a.time, a.sequence) < (b.time, b.sequence)
    }

    mutating func insert(_ item: RouterHarness.Pending) {
        heap.append(item)
        var child = heap.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard PendingQueue.before(heap[child], heap[parent]) else { break }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    mutating func popFirst() -> RouterHarness.Pending? {
        guard !heap.isEmpty else { return nil }
        heap.swapAt(0, heap.count - 1)
        let top = heap.removeLast()
        var parent = 0
        while true {
            var child = 2 * parent + 1
            guard child < heap.count else { break }
            if child + 1 < heap.count && PendingQueue.before(heap[child + 1], heap[child]) { child += 1 }
            guard PendingQueue.before(heap[child], heap[parent]) else { break }
            heap.swapAt(child, parent)
            parent = child
        }
        return top
    }
}
