import AsyncHTTPClient
import ConfigSchema
import Foundation
import GatewayConduct
import NIOPosix
import RoutingCore
import Synchronization

/// The router and the clock it reads, behind one lock: the clock is set from the monotonic
/// clock once as the lock is taken, so every router call one event of a request's conduct
/// makes sees the same time, the trace records exactly the time the router saw, and events
/// see time in the order they were handled. It is the router the server's conduct calls
/// (``GatewayConduct/ConductRouter``), writing each decision and conduct event to the logs.
struct RouterSlot: ~Copyable, ConductRouter {
    var router: Router
    let clock: ManualClock
    /// The router's time, which `tick()` reads into `clock`.
    let source: ScaledClock
    /// Where decisions and conduct events are written (nil: nowhere).
    let log: ConductLog?
    /// Where settled requests become the spend ledger's rows (nil: no ledger).
    let ledger: SpendLedgerRecorder?
    /// Where this replica's breaker changes go to the others (nil: breakers not shared).
    let sharedBreakers: SharedBreakers?

    mutating func tick() -> Int64 {
        clock.now = max(clock.now, source.now)
        return clock.now.nanoseconds
    }

    /// The router's time, as the last ``tick()`` set it.
    var now: Int64 { clock.now.nanoseconds }

    mutating func begin(_ state: inout RequestState) -> Decision {
        let decision = router.begin(&state)
        log?.write(router.record(decision), time: now, call: .begin(state.request))
        ledger?.observe(state, decision: decision, before: SpendLedgerRecorder.Before(), outcome: nil, now: now)
        return decision
    }

    mutating func attemptFinished(_ state: inout RequestState, attempt: Int32, _ outcome: AttemptOutcome, firstTokenNanoseconds: Int64?) -> Decision {
        let before = ledger?.before(state, attempt: attempt)
        let (measured, decision) = router.attemptFinished(measuredAt: now, &state, attempt: attempt, outcome)
        log?.write(
            router.record(decision), time: now, call: .attemptFinished(requestID: state.request.id, attempt: attempt, outcome: measured),
            firstTokenNanoseconds: firstTokenNanoseconds)
        if let sharedBreakers, !router.breakerNotices.isEmpty { sharedBreakers.send(router.takeBreakerNotices()) }
        if let before { ledger?.observe(state, decision: decision, before: before, outcome: measured, now: now) }
        return decision
    }

    mutating func attemptWithheld(_ state: inout RequestState, attempt: Int32) -> Decision {
        let before = ledger?.before(state, attempt: nil)
        let (_, decision) = router.attemptFinished(
            measuredAt: now, &state, attempt: attempt, AttemptOutcome(outcome: .cancelled, latencyNanoseconds: 0))
        log?.write(router.record(decision), time: now, call: .attemptWithheld(requestID: state.request.id, attempt: attempt))
        if let before { ledger?.observe(state, decision: decision, before: before, outcome: nil, now: now) }
        return decision
    }

    mutating func resume(_ state: inout RequestState) -> Decision {
        let before = ledger?.before(state, attempt: nil)
        let decision = router.resume(&state)
        log?.write(router.record(decision), time: now, call: .resume(requestID: state.request.id))
        if let before { ledger?.observe(state, decision: decision, before: before, outcome: nil, now: now) }
        return decision
    }

    mutating func hedgeDue(_ state: inout RequestState) -> Decision {
        let before = ledger?.before(state, attempt: nil)
        let decision = router.hedgeDue(&state)
        log?.write(router.record(decision), time: now, call: .hedgeDue(requestID: state.request.id))
        if let before { ledger?.observe(state, decision: decision, before: before, outcome: nil, now: now) }
        return decision
    }

    func firstByteReachedClient(requestID: UInt64, attempt: Int32) {
        log?.record(.firstByte(requestID: requestID, attempt: attempt), time: now)
    }

    func clientWentAway(requestID: UInt64) {
        log?.record(.clientGone(requestID: requestID), time: now)
    }

    /// This replica's share of the rate limits the replicas share.
    mutating func rateShareChanged(_ share: Double) {
        router.setRateShare(share)
        log?.record(.rateShare(share), time: now)
    }

    /// A slice of a shared budget granted, or given back.
    mutating func budgetLeaseChanged(_ lease: BudgetLease) {
        router.budgetLeaseChanged(lease)
        log?.record(.budgetLease(lease), time: now)
    }

    /// Another replica's breaker changed (breakers shared).
    mutating func breakerChangedElsewhere(_ notice: BreakerNotice) {
        router.breakerChangedElsewhere(notice)
        log?.record(.breakerShared(notice), time: now)
    }
}

/// The decision log and the router trace, appended under the router's lock, so both are in
/// call order (the files are written off it, ``LineFileWriter``).
final class ConductLog: Sendable {
    let decisionLog: DecisionLogWriter?
    let trace: RouterTraceRecorder?

    init?(decisionLog: DecisionLogWriter?, trace: RouterTraceRecorder?) {
        guard decisionLog != nil || trace != nil else { return nil }
        self.decisionLog = decisionLog
        self.trace = trace
    }

    /// `record`: the router's record of the decision it just made (``Router/record(_:)``, with
    /// the targets it passed over).
    func write(_ record: DecisionRecord, time: Int64, call: RouterTrace.Call, firstTokenNanoseconds: Int64? = nil) {
        decisionLog?.append(record)
        trace?.append(RouterTrace.Entry(timeNanoseconds: time, call: call, decision: record, firstTokenNanoseconds: firstTokenNanoseconds))
    }

    /// A conduct event that asks the router nothing: the trace only.
    func record(_ call: RouterTrace.Call, time: Int64) {
        trace?.append(RouterTrace.Entry(timeNanoseconds: time, call: call, decision: nil))
    }
}

/// What every request shares: the one router (behind a mutex: its calls are synchronous and
/// take microseconds), the upstreams by target, the API keys, the decision log, the trace
/// and the counters. Every router call is made by a request's conduct inside ``conduct(_:)``.
public final class GatewayCore: Sendable {
    let router: Mutex<RouterSlot>
    let config: RouterConfig
    /// How to cut each request in flight when the shutdown grace ends (``ShutdownDeadline``).
    private let shutdownCuts = Mutex<(cuts: [UInt64: @Sendable () -> Void], cutting: Bool)>(([:], false))
    let upstreams: [UpstreamAttempt]
    let keys: APIKeys
    let decisionLog: DecisionLogWriter?
    let trace: RouterTraceRecorder?
    let spendStore: SpendStore?
    /// The spend ledger's service, with `state: postgres` (nil: no ledger).
    let ledgerShipper: LedgerShipper?
    /// The service sharing breakers with the other replicas (`breaker_scope: shared`).
    let sharedBreakers: SharedBreakers?
    /// The slices this replica holds of budgets shared by the replicas (`state: postgres` and
    /// a budget in the spec).
    let budgetLeases: BudgetLeases?
    /// With `state: postgres` and a rate limit in the spec: how to count the replicas alive
    /// (the database's URL, this replica's name and boot), for their shares of the limits.
    let membership: (url: DatabaseURL, replica: String, boot: Int64)?
    let metrics: GatewayMetrics
    /// The explaining headers' fields that never change.
    let explaining: ExplainingHeaders
    /// The seed of the router's generator (printed at start, in the trace's header).
    public let seed: UInt64
    /// How fast the router's clock runs (1: real time; the live twin runs faster).
    let routerTime: RouterTime
    /// The bounds on one request body, and the bytes of bodies held at once.
    let bodyBounds: DeploymentConfig.RequestBodies
    let bodyAllowance: BodyAllowance
    /// The most bytes of a streamed answer held for a slow client (``ClientStream``).
    let streamBufferMaxBytes: Int
    private let nextRequestID = Atomic<UInt64>(0)
    /// Set when a graceful shutdown begins: `/readyz` answers 503 from then on.
    private let draining = Atomic(false)
    private let lastSavedSpend = Mutex<[BudgetSpendRecord]?>(nil)

    /// `seed`: the router's randomness (nil: a random seed); `recordDirectory`: where to write
    /// a router trace (nil: none).
    public init(
        spec: GatewaySpec, client: HTTPClient, environment: [String: String], seed: UInt64? = nil, recordDirectory: String? = nil,
        routerTime: RouterTime = .realTime
    ) throws {
        config = spec.router
        self.routerTime = routerTime
        let metrics = GatewayMetrics(config: spec.router)
        self.metrics = metrics
        bodyBounds = spec.deployment.requestBodies
        bodyAllowance = BodyAllowance(maxBytes: bodyBounds.heldMaxBytes, metrics: metrics)
        streamBufferMaxBytes = spec.deployment.streamBufferMaxBytes
        explaining = ExplainingHeaders(config: spec.router)
        models = spec.router.routes.map(\.name)
        upstreams = try zip(spec.router.targets, spec.router.targetIDs).map { target, id in
            let upstream = spec.deployment.upstreams.first { $0.target == target.name }!
            return try UpstreamAttempt(
                client: client, upstream: upstream, target: id, apiKey: upstream.apiKeyEnvironmentVariable.flatMap { environment[$0] },
                routerTime: routerTime, metrics: metrics)
        }
        keys = APIKeys(hashes: spec.deployment.keyHashes)
        let seed = seed ?? UInt64.random(in: 0...UInt64.max)
        self.seed = seed
        let clock = ManualClock()
        let unixAtZero = routerTime.unixNanosecondsAtZero
        var router = try Router(
            config: spec.router, clock: clock, wallClock: OffsetWallClock(clock: clock, unixNanosecondsAtZero: unixAtZero),
            generator: SplitMix64(seed: seed))
        // The spend database first, the logs last: a start that fails leaves no new file behind.
        let newDatabase = spec.deployment.spendDatabase.map { !FileManager.default.fileExists(atPath: $0) } ?? false
        spendStore = try spec.deployment.spendDatabase.map { try SpendStore(path: $0) }
        let recorder: SpendLedgerRecorder?
        // This start's id: the ledger's rows carry it, and it ranks this replica among those
        // that share breakers.
        let boot = Int64.random(in: 1...Int64.max)
        let sharesBreakers = spec.router.health.breakerScope == .shared
        if case .postgres(let state) = spec.deployment.state {
            let url: DatabaseURL
            switch DatabaseURL.parse(environment[state.urlEnvironmentVariable] ?? "") {
            case .success(let parsed): url = parsed
            case .failure(let error): throw GatewayStartError("deployment.state.postgres.url_env: \(state.urlEnvironmentVariable): \(error)")
            }
            sharedBreakers = sharesBreakers ? try SharedBreakers(url: url, rank: UInt64(boot), config: spec.router, metrics: metrics) : nil
            let replica = state.replica ?? ProcessInfo.processInfo.hostName
            membership = router.hasSharedLimits ? (url, replica, boot) : nil
            budgetLeases =
                spec.router.budgets.isEmpty
                ? nil
                : BudgetLeases(
                    database: try BudgetLeaseDatabase(url: url, replica: replica, boot: boot, metrics: metrics), fraction: state.leaseFraction,
                    interval: .milliseconds(Int64(state.leaseIntervalSeconds * 1_000)), metrics: metrics)
            let made = SpendLedgerRecorder(config: spec.router, boot: boot, unixNanosecondsAtZero: unixAtZero)
            ledgerShipper = LedgerShipper(
                recorder: made, spool: try LedgerSpool(path: state.spoolPath),
                database: try PostgresLedger(url: url, replica: state.replica ?? ProcessInfo.processInfo.hostName, metrics: metrics),
                metrics: metrics, spoolInterval: .milliseconds(Int64(state.spoolIntervalSeconds * 1_000)),
                flushInterval: .milliseconds(Int64(state.flushIntervalSeconds * 1_000)))
            recorder = made
        } else {
            // (The spec's decoding refused shared breakers without a database.)
            budgetLeases = nil
            membership = nil
            ledgerShipper = nil
            recorder = nil
            sharedBreakers = nil
        }
        if sharesBreakers { router.replicaRank = UInt64(boot) }
        let leasesBudgets = budgetLeases != nil
        if leasesBudgets { router.leaseBudgets() }
        do {
            // Budgets shared through the database count the spend of earlier starts there (their
            // slices): restored here too, it would count twice.
            if let spendStore, !leasesBudgets {
                let (records, unreadable) = try spendStore.load()
                let stray =
                    router.restoreSpend(records).map { record in
                        switch record.scope {
                        case .team(let name): "team '\(name)'"
                        case .key(let name): "key '\(name)'"
                        }
                    } + unreadable
                metrics.spendRowsUnknown(stray.count)
                if !stray.isEmpty {
                    FileHandle.standardError.write(
                        Data(
                            "brownout-gateway: \(spendStore.path) keeps spend of \(stray.count) budget\(stray.count == 1 ? "" : "s") this spec does not have (\(stray.joined(separator: ", "))): kept, not restored\n"
                                .utf8))
                }
            }
            decisionLog = try spec.deployment.decisionLog.map { try DecisionLogWriter(path: $0.path, maxBytes: $0.maxBytes, metrics: metrics) }
            trace = try recordDirectory.map { directory in
                try RouterTraceRecorder(
                    directory: directory,
                    header: RouterTrace.Header(
                        seed: seed, configFingerprint: spec.router.fingerprint,
                        unixNanosecondsAtZero: unixAtZero, replicaRank: sharesBreakers ? UInt64(boot) : nil,
                        budgetLeases: leasesBudgets ? true : nil), config: spec.router,
                    specYAML: "# The spec this gateway ran, its overrides applied (brownout-gateway --record).\n" + spec.document.yaml().dropFirst(),
                    metrics: metrics)
            }
        } catch {
            if newDatabase, let path = spec.deployment.spendDatabase {
                for file in [path, path + "-wal", path + "-shm", path + "-journal"] { try? FileManager.default.removeItem(atPath: file) }
            }
            throw error
        }
        let log = ConductLog(decisionLog: decisionLog, trace: trace)
        self.router = Mutex(
            RouterSlot(router: router, clock: clock, source: routerTime.clock, log: log, ledger: recorder, sharedBreakers: sharedBreakers))
        sharedBreakers?.receive { [weak self] notice in
            self?.conduct { slot in slot.breakerChangedElsewhere(notice) }
        }
    }

    /// A graceful shutdown has begun (``ShutdownDeadline``): a load balancer reading `/readyz`
    /// takes this replica out while its requests finish.
    func beginDraining() { draining.store(true, ordering: .releasing) }

    var isDraining: Bool { draining.load(ordering: .acquiring) }

    func requestID() -> UInt64 {
        nextRequestID.add(1, ordering: .relaxed).newValue
    }

    /// The routes a team's key may use, as models.
    let models: [String]

    // MARK: Router calls

    /// Runs one event of a request's conduct under the router's lock, at one reading of the
    /// clock: `body` calls the router through the slot (``RouterSlot``), which logs.
    /// Registers how to cut request `id` when the shutdown grace ends; once requests are being
    /// cut, a request registering is cut at once.
    func registerCut(_ id: UInt64, _ cut: @escaping @Sendable () -> Void) {
        let now = shutdownCuts.withLock { state in
            if !state.cutting { state.cuts[id] = cut }
            return state.cutting
        }
        if now { cut() }
    }

    func unregisterCut(_ id: UInt64) { _ = shutdownCuts.withLock { $0.cuts.removeValue(forKey: id) } }

    /// Cuts every request in flight (``ShutdownDeadline``); returns how many.
    func cutRequestsInFlight() -> Int {
        let cuts = shutdownCuts.withLock { state in
            state.cutting = true
            defer { state.cuts.removeAll() }
            return state.cuts.sorted { $0.key < $1.key }.map(\.value)
        }
        for cut in cuts { cut() }
        return cuts.count
    }

    func conduct<Result: Sendable>(_ body: (inout RouterSlot) -> Result) -> Result {
        router.withLock { slot in
            _ = slot.tick()
            return body(&slot)
        }
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

    /// At shutdown: the last spend saved, the last ledger rows spooled, the logs written and closed.
    public func close() async {
        await saveSpend()
        await ledgerShipper?.spoolPending()
        decisionLog?.close()
        trace?.close()
    }
}
