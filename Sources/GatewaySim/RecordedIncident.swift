import RoutingCore
import SimulationKernel

/// What production recorded over a window (`brownout incident`), as one replication's result,
/// so that the tables a simulated run writes are written for it with the same columns: each
/// request of the gateways' traces (several replicas merged on the calendar), what its team saw
/// of it at the gateway, each attempt an upstream was sent and how it ended, and the chargeback
/// as each gateway's own router computed it (the trace replayed, ``TraceReplay``). What a
/// gateway cannot observe — an upstream's queue and health states, a client's SDK retries — is
/// 0; a pool's replicas are its spec's.
public struct RecordedIncident: Sendable {
    /// One gateway's trace: where it was read from, and what it holds.
    public struct Source: Sendable {
        public let file: String
        public let header: RouterTrace.Header
        public let entries: [RouterTrace.Entry]

        public init(file: String, header: RouterTrace.Header, entries: [RouterTrace.Entry]) {
            self.file = file
            self.header = header
            self.entries = entries
        }
    }

    /// One upstream in one bin (a minute, unless asked otherwise) of the window.
    public struct TimelineRow: Sendable {
        public let upstream: String
        /// The bin's start, nanoseconds from the window's start.
        public let startNanoseconds: Int64
        /// Attempts sent in the bin.
        public var attempts = 0
        /// Attempts that ended in the bin, by outcome class.
        public var outcomes: [OutcomeClass: Int] = [:]
        /// Send to first token of the streamed answers that ended in the bin.
        public var firstTokens = LatencyHistogram()
        /// Retry-After of the 429s and 529s that ended in the bin (seconds).
        public var retryAfters: [Double] = []
        /// Gateways whose breaker of the upstream was open or half-open at the bin's start.
        public var breakersOpen = 0
    }

    public struct IncidentError: Error, CustomStringConvertible {
        public let description: String
    }

    public let result: ReplicationResult
    /// Per router target (the spec's order), the window's bins.
    public let timeline: [[TimelineRow]]
    public let binNanoseconds: Int64
    /// Per team (the world's order), when its requests arrived (nanoseconds from the window's
    /// start, ascending).
    public let arrivals: [[Int64]]
    /// The window's start (Unix nanoseconds) and length.
    public let startUnixNanoseconds: Int64
    public let lengthNanoseconds: Int64
    /// Decisions a replay did not reproduce, over all sources.
    public let divergentDecisions: Int
    /// The ledger rows read in the window (0: the chargeback is the traces' replay).
    public let ledgerRows: Int
    /// With a ledger and traces, the chargeback the traces' replay computed (the result's is the
    /// ledger's, which the gateways booked); nil otherwise.
    public let replayedChargeback: Ledger?

    public static let minute: Int64 = 60_000_000_000

    /// The incident in [`from`, `to`) (Unix nanoseconds; nil: from the first request recorded, to
    /// the last entry). Requests count by when they arrived; spend by when the router settled
    /// it. Every source must have been recorded with `world`'s routing config. The timeline is
    /// in bins of `bin` nanoseconds.
    ///
    /// `ledger`: spend ledger rows (``RecordedLedger/merged(_:)``). With them the chargeback is
    /// theirs, the spend the gateways booked, and the replay's is kept beside it to compare;
    /// without traces the teams' requests, answers and failures are the ledger's too, counted
    /// when they settled (no latency, attempts by upstream or timeline: a ledger has none).
    public static func read(
        _ sources: [Source], ledger ledgerRows: [(file: String, row: RecordedLedger.Row)] = [], world: WorldSpec, from: Int64?,
        to: Int64?, bin: Int64 = minute
    ) throws(IncidentError) -> RecordedIncident {
        let config = world.router
        for source in sources where source.header.configFingerprint != config.fingerprint {
            throw IncidentError(
                description:
                    "\(source.file): recorded with routing config \(source.header.configFingerprint), but the spec's is \(config.fingerprint): give the spec the gateway ran (logs of different specs are not merged)"
            )
        }
        // The router's team of each ledger row (its order), checked before anything is counted.
        let routerTeam = Dictionary(uniqueKeysWithValues: config.teams.enumerated().map { ($0.element.name, $0.offset) })
        for (file, row) in ledgerRows {
            if let team = row.team, routerTeam[team] == nil {
                throw IncidentError(
                    description:
                        "\(file):\(row.line): team '\(team)' is not one of the spec's (\(config.teams.map(\.name).joined(separator: ", "))): give the spec the gateways ran"
                )
            }
        }
        let firstBegin =
            (sources.compactMap { source in
                source.entries.first { if case .begin = $0.call { true } else { false } }.map {
                    source.header.unixNanosecondsAtZero + $0.timeNanoseconds
                }
            } + ledgerRows.prefix(1).map(\.row.settledUnixNanoseconds)).min()
        let lastEntry =
            (sources.compactMap { source in source.entries.last.map { source.header.unixNanosecondsAtZero + $0.timeNanoseconds } }
            + ledgerRows.suffix(1).map(\.row.settledUnixNanoseconds)).max()
        guard let start = from ?? firstBegin, let stop = to ?? lastEntry.map({ $0 + 1 }) else {
            throw IncidentError(
                description: "\((sources.map(\.file) + ledgerRows.prefix(1).map(\.file)).joined(separator: ", ")): no request recorded")
        }
        guard stop > start else {
            throw IncidentError(description: "the window is empty: it ends (\(stop) ns) before it starts (\(start) ns)")
        }
        let length = stop - start
        let binSize = bin
        let window = MeasurementWindow(warmUp: 0, horizon: length, bucket: SimulationInstant.nanoseconds(fromSeconds: world.bucketSeconds))
        let bins = Int((length + binSize - 1) / binSize)
        let targets = config.targets.map(\.name)
        var timeline = targets.map { name in (0..<bins).map { TimelineRow(upstream: name, startNanoseconds: Int64($0) * binSize) } }
        var teams = world.teams.map { TeamMetrics(name: $0.name) }
        var arrivals: [[Int64]] = world.teams.map { _ in [] }
        var series = world.teams.map { _ in TimeBuckets(window: window) }
        var ledger = Ledger(teamCount: config.teams.count)
        var openings = Array(repeating: 0, count: targets.count)
        var divergent = 0
        var decisions = 0
        var events: UInt64 = 0
        /// Per upstream, the changes of attempts in flight over all sources: (time, source, order, change).
        var inFlight: [[(Int64, Int, Int, Int)]] = targets.map { _ in [] }
        var offered = Array(repeating: 0, count: targets.count)
        var errors: [[OutcomeClass: Int]] = targets.map { _ in [:] }
        // The team of each router team index, in the world's order.
        let teamIndex = Dictionary(uniqueKeysWithValues: world.teams.enumerated().map { ($0.element.name, $0.offset) })

        for (sourceIndex, source) in sources.enumerated() {
            let zero = source.header.unixNanosecondsAtZero
            func relative(_ time: Int64) -> Int64 { zero + time - start }
            // The replayed router at the window's bins and its end.
            var times = (0..<bins).map { start - zero + Int64($0) * binSize }
            times.append(stop - zero)
            let replay = TraceReplay.run(config: config, header: source.header, entries: source.entries, snapshotsAt: times)
            divergent += replay.differing
            let first = replay.snapshots[0], last = replay.snapshots[replay.snapshots.count - 1]
            ledger = ledger.adding(last.ledger.subtracting(first.ledger))
            for index in targets.indices { openings[index] += last.openings[index] - first.openings[index] }
            for (binIndex, snapshot) in replay.snapshots.prefix(bins).enumerated() {
                for index in targets.indices where snapshot.breakers[index] == .open || snapshot.breakers[index] == .halfOpen {
                    timeline[index][binIndex].breakersOpen += 1
                }
            }
            events += UInt64(source.entries.count)

            struct Request {
                let arrival: Int64
                let team: Int?
                let counted: Bool
                var attempts = 0
                var hedges = 0
                var firstByte: Int64?
                var targets: [Int32: Int] = [:]
            }
            var requests: [UInt64: Request] = [:]
            for (order, entry) in source.entries.enumerated() {
                let time = relative(entry.timeNanoseconds)
                let inWindow = time >= 0 && time < length
                let binIndex = inWindow ? Int(time / binSize) : nil
                switch entry.call {
                case .begin(let request):
                    let team = request.team.flatMap { teamIndex[config.teams[$0.index].name] }
                    requests[request.id] = Request(arrival: time, team: team, counted: inWindow)
                    if inWindow, let team {
                        arrivals[team].append(time)
                        teams[team].requests += 1
                        series[team].record(at: time, arrived: true)
                    }
                case .attemptFinished(let requestID, let attempt, let outcome):
                    guard let target = requests[requestID]?.targets[attempt] else { break }
                    inFlight[target].append((time, sourceIndex, order, -1))
                    if let binIndex {
                        timeline[target][binIndex].outcomes[outcome.outcome, default: 0] += 1
                        if outcome.outcome == .success, let firstToken = entry.firstTokenNanoseconds, firstToken > 0 {
                            timeline[target][binIndex].firstTokens.record(nanoseconds: firstToken)
                        }
                        if outcome.outcome != .success { errors[target][outcome.outcome, default: 0] += 1 }
                        if let retryAfter = outcome.retryAfterSeconds, outcome.outcome == .rateLimited || outcome.outcome == .overloaded {
                            timeline[target][binIndex].retryAfters.append(retryAfter)
                        }
                    }
                case .attemptWithheld(let requestID, let attempt):
                    // The send never reached its upstream.
                    guard let target = requests[requestID]?.targets[attempt] else { break }
                    inFlight[target].append((time, sourceIndex, order, -1))
                    if let binIndex {
                        offered[target] -= 1
                        timeline[target][binIndex].attempts -= 1
                    }
                case .firstByte(let requestID, _):
                    if requests[requestID]?.firstByte == nil { requests[requestID]?.firstByte = time }
                default:
                    break
                }
                guard let decision = entry.decision, var request = requests[decision.requestID] else { continue }
                decisions += 1
                switch decision.action {
                case .send, .hedge:
                    guard let name = decision.target, let target = targets.firstIndex(of: name) else { break }
                    request.attempts += 1
                    if decision.action == .hedge { request.hedges += 1 }
                    request.targets[decision.attempt] = target
                    inFlight[target].append((time, sourceIndex, order, 1))
                    if let binIndex {
                        offered[target] += 1
                        timeline[target][binIndex].attempts += 1
                    }
                case .complete, .fail, .reject:
                    requests[decision.requestID] = nil
                    guard request.counted, let team = request.team else { continue }
                    teams[team].attempts.record(Double(request.attempts))
                    teams[team].hedges += request.hedges
                    if decision.action == .complete {
                        let winner = request.targets[decision.attempt].map { config.targets[$0].kind == .local } ?? false
                        if winner { teams[team].succeededFallback += 1 } else { teams[team].succeededFrontier += 1 }
                        teams[team].totalLatency.record(nanoseconds: time - request.arrival)
                        if let firstByte = request.firstByte { teams[team].firstTokenLatency.record(nanoseconds: firstByte - request.arrival) }
                        series[team].record(at: time, succeeded: true, fallback: winner)
                    } else {
                        teams[team].failures[decision.failureLabel, default: 0] += 1
                        series[team].record(at: time, failed: true)
                    }
                    continue
                default:
                    break
                }
                requests[decision.requestID] = request
            }
            for request in requests.values where request.counted {
                if let team = request.team { teams[team].unfinished += 1 }
            }
        }

        // The ledger's chargeback: rows settled in the window; without traces, its requests too.
        var replayedChargeback: Ledger?
        var rowsInWindow = 0
        if !ledgerRows.isEmpty {
            var booked = Ledger(teamCount: config.teams.count)
            for (_, row) in ledgerRows {
                let time = row.settledUnixNanoseconds - start
                guard time >= 0 && time < length else { continue }
                rowsInWindow += 1
                booked.add(row.spend, team: row.team.flatMap { routerTeam[$0] })
                guard sources.isEmpty, row.part == 0, let team = row.team.flatMap({ teamIndex[$0] }) else { continue }
                teams[team].requests += 1
                teams[team].attempts.record(Double(row.attempts))
                series[team].record(at: time, arrived: true)
                if row.outcome == "complete" {
                    if row.degraded { teams[team].succeededFallback += 1 } else { teams[team].succeededFrontier += 1 }
                    series[team].record(at: time, succeeded: true, fallback: row.degraded)
                } else {
                    teams[team].failures[row.outcome == "reject" ? "rejected" : "failed", default: 0] += 1
                    series[team].record(at: time, failed: true)
                }
            }
            if !sources.isEmpty { replayedChargeback = ledger }
            ledger = booked
        }

        // The upstreams, providers then pools, as a simulated run lists them.
        var upstreams: [UpstreamMetrics] = []
        for (name, capacity, pool) in world.providers.map({ ($0.name, $0.concurrency, FallbackPoolSpec?.none) })
            + world.pools.map({ ($0.name, $0.maxConcurrencyPerReplica * $0.replicas, Optional($0)) })
        {
            var metrics = UpstreamMetrics(name: name, capacity: capacity, stateCount: 1, window: window)
            if let pool { metrics.replicasChanged(to: pool.replicas, at: 0) }
            guard let target = targets.firstIndex(of: name) else {
                metrics.close(at: length)
                upstreams.append(metrics)
                continue
            }
            for _ in 0..<max(0, offered[target]) {
                metrics.recordOffer(at: 0)
                metrics.recordAccepted(waited: 0, at: 0)
            }
            for (outcome, count) in errors[target].sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
                for _ in 0..<count { metrics.recordError(outcome, at: 0) }
            }
            var level = 0
            for change in inFlight[target].sorted(by: { ($0.0, $0.1, $0.2) < ($1.0, $1.1, $1.2) }) {
                level += change.3
                metrics.busyChanged(to: max(0, level), at: min(max(0, change.0), length))
            }
            metrics.close(at: length)
            upstreams.append(metrics)
        }
        let result = ReplicationResult(
            teams: teams, timeSeries: series, upstreams: upstreams, ledger: ledger, breakerOpenings: openings, events: events,
            decisions: decisions, endNanoseconds: length, window: window, decisionLog: nil)
        return RecordedIncident(
            result: result, timeline: timeline, binNanoseconds: binSize, arrivals: arrivals.map { $0.sorted() }, startUnixNanoseconds: start,
            lengthNanoseconds: length, divergentDecisions: divergent, ledgerRows: rowsInWindow, replayedChargeback: replayedChargeback)
    }
}
