import AsyncHTTPClient
import ConfigSchema
import Foundation
import NIOPosix
import RoutingCore
import Synchronization

/// The router and the clock it reads, behind one lock: the clock is set from the monotonic
/// clock inside the lock, just before each call, so a trace records exactly the time the
/// router saw, and calls see time in the order they were made.
struct RouterSlot: ~Copyable {
    var router: Router
    let clock: ManualClock
    let source: MonotonicClock
    let time: RouterTime
    /// Real nanoseconds from the router's zero to the source's creation.
    let offset: Int64

    mutating func tick() -> Int64 {
        clock.now = max(clock.now, RoutingInstant(nanoseconds: time.routerNanoseconds(real: source.now.nanoseconds + offset)))
        return clock.now.nanoseconds
    }
}

/// What every request shares: the one router (behind a mutex: its calls are synchronous and
/// take microseconds), the upstreams by target, the API keys, the decision log, the trace
/// and the counters. Every router call goes through ``begin(_:)``, ``attemptFinished(_:attempt:_:)``,
/// ``resume(_:)`` and ``hedgeDue(_:)``, which log and record it.
public final class GatewayCore: Sendable {
    let router: Mutex<RouterSlot>
    let config: RouterConfig
    let upstreams: [UpstreamAttempt]
    let keys: APIKeys
    let decisionLog: DecisionLogWriter?
    let trace: RouterTraceRecorder?
    let spendStore: SpendStore?
    let metrics: GatewayMetrics
    /// The explaining headers' fields that never change.
    let explaining: ExplainingHeaders
    /// The seed of the router's generator (printed at start, in the trace's header).
    public let seed: UInt64
    /// How fast the router's clock runs (1: real time; the live twin runs faster).
    let routerTime: RouterTime
    private let nextRequestID = Atomic<UInt64>(0)
    private let lastSavedSpend = Mutex<[BudgetSpendRecord]?>(nil)

    /// `seed`: the router's randomness (nil: a random seed); `recordDirectory`: where to write
    /// a router trace (nil: none).
    public init(spec: GatewaySpec, client: HTTPClient, environment: [String: String], seed: UInt64? = nil, recordDirectory: String? = nil,
                routerTime: RouterTime = .realTime) throws {
        config = spec.router
        self.routerTime = routerTime
        metrics = GatewayMetrics(config: spec.router)
        explaining = ExplainingHeaders(config: spec.router)
        models = spec.router.routes.map(\.name)
        upstreams = try spec.router.targets.map { target in
            let upstream = spec.deployment.upstreams.first { $0.target == target.name }!
            return try UpstreamAttempt(client: client, upstream: upstream, apiKey: upstream.apiKeyEnvironmentVariable.flatMap { environment[$0] },
                                   routerTime: routerTime)
        }
        keys = APIKeys(hashes: spec.deployment.keyHashes)
        let seed = seed ?? UInt64.random(in: 0...UInt64.max)
        self.seed = seed
        let clock = ManualClock()
        let source = MonotonicClock()
        let wallAtSource = SystemWallClock().unixNanoseconds - source.now.nanoseconds
        let offset = routerTime.startUnixNanoseconds.map { wallAtSource - $0 } ?? 0
        let unixAtZero = routerTime.calendarUnixNanosecondsAtZero ?? (wallAtSource - offset)
        var router = try Router(config: spec.router, clock: clock, wallClock: OffsetWallClock(clock: clock, unixNanosecondsAtZero: unixAtZero),
                                generator: SplitMix64(seed: seed))
        // The spend database first (restoring it can fail on a record the config no longer
        // has), the logs last: a start that fails leaves no new file behind.
        let newDatabase = spec.deployment.spendDatabase.map { !FileManager.default.fileExists(atPath: $0) } ?? false
        spendStore = try spec.deployment.spendDatabase.map { try SpendStore(path: $0) }
        do {
            if let spendStore { try router.restoreSpend(try spendStore.load()) }
            decisionLog = try spec.deployment.decisionLog.map { try DecisionLogWriter(path: $0.path, maxBytes: $0.maxBytes) }
            trace = try recordDirectory.map { directory in
                try RouterTraceRecorder(directory: directory, header: RouterTrace.Header(seed: seed, configFingerprint: spec.router.fingerprint,
                                                                                         unixNanosecondsAtZero: unixAtZero), config: spec.router)
            }
        } catch {
            if newDatabase, let path = spec.deployment.spendDatabase {
                for file in [path, path + "-wal", path + "-shm", path + "-journal"] { try? FileManager.default.removeItem(atPath: file) }
            }
            throw error
        }
        self.router = Mutex(RouterSlot(router: router, clock: clock, source: source, time: routerTime, offset: offset))
    }

    func requestID() -> UInt64 {
        nextRequestID.add(1, ordering: .relaxed).newValue
    }

    /// The routes a team's key may use, as models.
    let models: [String]

    // MARK: Router calls

    func begin(_ request: RoutingRequest) -> (RequestState, Decision) {
        router.withLock { slot in
            let time = slot.tick()
            let (state, decision) = slot.router.begin(request)
            log(decision, time: time, call: .begin(request))
            return (state, decision)
        }
    }

    /// An attempt ended. The router learns the latency a gateway measures, from its own
    /// clock: from the send to now (the simulator's gateway applies the same rule).
    /// `firstTokenNanoseconds` (from the send to the first output) goes to the trace only.
    func attemptFinished(_ state: inout RequestState, attempt: Int32, _ outcome: AttemptOutcome, firstTokenNanoseconds: Int64? = nil) -> Decision {
        router.withLock { slot in
            let time = slot.tick()
            var outcome = outcome
            if let started = state.attemptStartedAt(attempt) { outcome.latencyNanoseconds = time - started }
            // A local pool's answer is charged its share of the replica's GPUs for the time
            // the gateway waited on it (RoutingCore's rule; the pool itself reports none).
            if let target = state.attemptTarget(attempt), let capacity = config.targets[target.index].localCapacity,
               outcome.outcome == .success || outcome.outcome == .cancelled || outcome.outcome == .failedAfterFirstByte {
                outcome.gpuSeconds = capacity.gpuSeconds(forSeconds: Double(outcome.latencyNanoseconds) / 1e9)
            }
            let decision = slot.router.attemptFinished(&state, attempt: attempt, outcome)
            log(decision, time: time, call: .attemptFinished(requestID: state.request.id, attempt: attempt, outcome: outcome), firstTokenNanoseconds: firstTokenNanoseconds)
            return decision
        }
    }

    func resume(_ state: inout RequestState) -> Decision {
        timerCall(&state, .resume(requestID: state.request.id)) { router, state in router.resume(&state) }
    }

    func hedgeDue(_ state: inout RequestState) -> Decision {
        timerCall(&state, .hedgeDue(requestID: state.request.id)) { router, state in router.hedgeDue(&state) }
    }

    /// A call a timer makes (a backoff ended, a hedge is due): at the clock's reading, logged.
    private func timerCall(_ state: inout RequestState, _ call: RouterTrace.Call,
                           _ body: (inout Router, inout RequestState) -> Decision) -> Decision {
        router.withLock { slot in
            let time = slot.tick()
            let decision = body(&slot.router, &state)
            log(decision, time: time, call: call)
            return decision
        }
    }

    /// Writes the decision to the decision log and, with the call, to the trace; called
    /// under the router's lock, so both are in call order.
    private func log(_ decision: Decision, time: Int64, call: RouterTrace.Call, firstTokenNanoseconds: Int64? = nil) {
        guard decisionLog != nil || trace != nil else { return }
        let record = DecisionRecord(decision, config: config)
        decisionLog?.append(record)
        trace?.append(RouterTrace.Entry(timeNanoseconds: time, call: call, decision: record, firstTokenNanoseconds: firstTokenNanoseconds))
    }
}

extension GatewayCore {
    /// Saves the budgets' spend (a restart restores it) when it changed since the last save.
    /// SQLite writes and syncs the file: this runs on NIO's blocking thread pool, never on an
    /// event loop, where it would hold up every request on the loop.
    public func saveSpend() async {
        guard let spendStore else { return }
        let records = router.withLock { $0.router.spendRecords() }
        guard lastSavedSpend.withLock({ $0 != records }) else { return }
        do {
            try await NIOThreadPool.singleton.runIfActive { try spendStore.save(records) }
            lastSavedSpend.withLock { $0 = records }
        } catch {
            FileHandle.standardError.write(Data("brownout-gateway: could not save spend to \(spendStore.path): \(error)\n".utf8))
        }
    }

    /// Writes the log and trace lines gathered so far, on the blocking thread pool.
    public func flushLogs() async {
        guard decisionLog != nil || trace != nil else { return }
        try? await NIOThreadPool.singleton.runIfActive { [decisionLog, trace] in
            decisionLog?.flush()
            trace?.flush()
        }
    }

    /// At shutdown: the last spend saved, the logs written and closed.
    public func close() async {
        await saveSpend()
        decisionLog?.close()
        trace?.close()
    }
}
