import RoutingCore
import SimulationKernel

/// One attempt handed from the gateway to a provider or pool.
///
/// Fields are declared in an order that leaves no padding between them: a ticket is copied on
/// every hop.
struct AttemptTicket: Sendable {
    let requestID: UInt64
    let attempt: Int32
    /// The route's stream commit policy (``StreamCommit``), for a streamed attempt it holds:
    /// after this many tokens (0: not by tokens), this long after the first token (0: not by
    /// time), or when complete (``commitsWhenComplete``).
    var commitAfterTokens: Int32 = 0
    let inputTokens: Int
    let outputTokens: Int
    /// A stream's rules the upstream serving it needs to schedule the gateway's cuts
    /// (``GatewayEvent/idleCut``, ``GatewayEvent/malformedCut``) when its frames would trip
    /// them: the longest silence between frames (0: none, or a whole answer) and whether an
    /// event that is not JSON ends the attempt (``failsOnMalformedEvent``).
    var idleLimitNanoseconds: Int64 = 0
    var commitAfterNanoseconds: Int64 = 0
    /// Whether the gateway must hear of the attempt's first token when it appears
    /// (``AttemptOrder/watchesFirstByte``): the upstream that serves it schedules the
    /// gateway's ``GatewayEvent/firstByte`` then.
    let watchesFirstByte: Bool
    var failsOnMalformedEvent = false
    var commitsWhenComplete = false
    /// The gateway replica that sent it, which its answer goes back to.
    var replica: UInt8 = 0

    init(requestID: UInt64, attempt: Int32, inputTokens: Int, outputTokens: Int, watchesFirstByte: Bool) {
        self.requestID = requestID
        self.attempt = attempt
        self.inputTokens = inputTokens
        self.outputTokens = outputTokens
        self.watchesFirstByte = watchesFirstByte
    }

    /// A route's rules for its streamed attempts, in the ticket's terms.
    struct StreamRules: Sendable {
        let failsOnMalformedEvent: Bool
        let commitAfterTokens: Int32
        let commitAfterNanoseconds: Int64
        let commitsWhenComplete: Bool

        init(_ route: RouteConfig) {
            failsOnMalformedEvent = route.onMalformedEvent == .fail
            let commit = route.streamCommit
            commitAfterTokens = commit.holds ? Int32(clamping: commit.afterTokens ?? 0) : 0
            commitAfterNanoseconds = commit.holds ? commit.afterSeconds.map(SimulationInstant.nanoseconds(fromSeconds:)) ?? 0 : 0
            commitsWhenComplete = commit.complete
        }
    }

    /// The attempt is streamed: its upstream judges its frames by the idle limit and `rules`.
    mutating func followStream(idleLimitNanoseconds idle: Int64, _ rules: StreamRules) {
        idleLimitNanoseconds = idle
        failsOnMalformedEvent = rules.failsOnMalformedEvent
        commitAfterTokens = rules.commitAfterTokens
        commitAfterNanoseconds = rules.commitAfterNanoseconds
        commitsWhenComplete = rules.commitsWhenComplete
    }

    /// Whether the route holds this stream before the client sees it.
    var holdsStream: Bool { commitAfterTokens > 0 || commitAfterNanoseconds > 0 || commitsWhenComplete }

    /// The route's stream commit policy, as its ticket carries it.
    var streamCommit: StreamCommit {
        StreamCommit(
            afterTokens: commitAfterTokens > 0 ? Int(commitAfterTokens) : nil,
            afterSeconds: commitAfterNanoseconds > 0 ? Double(commitAfterNanoseconds) / 1e9 : nil, complete: commitsWhenComplete)
    }

    /// The key both the upstream's table and its events use: request and attempt together.
    var key: Int64 { Self.key(requestID: requestID, attempt: attempt) }

    static func key(requestID: UInt64, attempt: Int32) -> Int64 { Int64(bitPattern: requestID << 8 | UInt64(attempt & 0xFF)) }
    static func requestID(ofKey key: Int64) -> UInt64 { UInt64(bitPattern: key) >> 8 }
    static func attempt(ofKey key: Int64) -> Int32 { Int32(key & 0xFF) }
}

/// How an attempt ended at an upstream, as reported back to the gateway.
struct AttemptReport: Sendable {
    let requestID: UInt64
    let attempt: Int32
    let outcome: AttemptOutcome
    /// When the attempt's first byte reached the client (simulated nanoseconds; 0 unless it
    /// did): its first token, after any wait in the upstream's queue, as a gateway sees it —
    /// or, for a stream the route holds, when the hold released.
    let firstByteAt: Int64
}

/// An attempt an upstream holds until its completion event: the answer it will give.
struct UpstreamAttempt: Sendable {
    let ticket: AttemptTicket
    let report: AttemptOutcome
    let firstTokenSeconds: Double
    let startedAt: Int64
    /// False for answers that never held a server (429/529 at the door, cancellations).
    let holdsServer: Bool
    /// A stall: when its output stopped, from the start of service (0: it does not stall).
    /// Plain numbers, not optionals: an attempt is copied in and out of its upstream's table.
    var stallsAtSeconds = 0.0
    /// For a stream the route holds: when the hold releases, from the start of service
    /// (infinity: never, the attempt ends first); NaN: not held, its first token goes at once.
    var heldUntilSeconds = Double.nan

    /// When its first byte reaches the client: its first token, or the release of its hold.
    @inline(__always) var firstByteAt: Int64? {
        guard let first = firstTokenAt else { return nil }
        if heldUntilSeconds.isNaN { return first }
        return heldUntilSeconds.isFinite ? SimulationInstant.adding(startedAt, SimulationInstant.nanoseconds(fromSeconds: heldUntilSeconds)) : nil
    }

    /// When its first token appears, for attempts being served that will produce one.
    @inline(__always) var firstTokenAt: Int64? {
        guard holdsServer, firstTokenSeconds > 0 else { return nil }
        return SimulationInstant.adding(startedAt, SimulationInstant.nanoseconds(fromSeconds: firstTokenSeconds))
    }

    /// The tokens a gateway relaying this attempt as a stream has seen by `now`, which is what
    /// it bills when the attempt ends early (cancelled, or cut by a limit): none before the
    /// first token; after it, the input and the output streamed so far, at an even rate from
    /// the first token to the planned end.
    func relayedTokens(at now: Int64) -> (input: Int, output: Int) {
        guard let first = firstTokenAt, now >= first else { return (0, 0) }
        let end = SimulationInstant.adding(
            startedAt, stallsAtSeconds > 0 ? SimulationInstant.nanoseconds(fromSeconds: stallsAtSeconds) : report.latencyNanoseconds)
        let share = end > first ? min(1, Double(now - first) / Double(end - first)) : 1
        return (ticket.inputTokens, max(1, Int(Double(report.outputTokens) * share)))
    }
}

/// When an upstream already knows how an attempt ends as it starts it (served at once, or
/// turned away at the door): the gateway then needs no timer unless a limit would fire first.
struct AttemptProjection: Sendable {
    /// When the answer (success or failure) arrives.
    let answerAt: Int64
    /// When the first token arrives; nil when the attempt will not produce one.
    let firstTokenAt: Int64?
}

extension UpstreamAttempt {
    /// A streamed attempt started now, as a gateway relaying its frames would carry it out:
    /// where its frames trip the route's rules (``ServicePlan/streamCut(idleSeconds:failsOnMalformedEvent:)``)
    /// and when a hold releases (``ServicePlan/heldUntilSeconds(_:cutSeconds:)``). Schedules the
    /// gateway's cut event (``GatewayEvent/idleCut``, ``GatewayEvent/malformedCut``), and its
    /// first-byte event at the first byte when the attempt is watched.
    mutating func carryOutStream(_ plan: ServicePlan, calendar: EventCalendar, gateway: HandlerID) {
        var cut: (seconds: Double, kind: ServicePlan.StreamCutKind)?
        if ticket.idleLimitNanoseconds > 0 || ticket.failsOnMalformedEvent {
            let idle = ticket.idleLimitNanoseconds > 0 ? Double(ticket.idleLimitNanoseconds) / 1e9 : nil
            cut = plan.streamCut(idleSeconds: idle, failsOnMalformedEvent: ticket.failsOnMalformedEvent)
        }
        if ticket.holdsStream {
            heldUntilSeconds = plan.heldUntilSeconds(ticket.streamCommit, cutSeconds: cut?.seconds) ?? .infinity
        }
        if ticket.watchesFirstByte, let firstByteAt {
            calendar.schedule(at: firstByteAt, to: gateway, kind: GatewayEvent.firstByte.rawValue, payload: ticket.key)
        }
        if let cut {
            let kind: GatewayEvent = cut.kind == .idle ? .idleCut : .malformedCut
            calendar.schedule(after: SimulationInstant.nanoseconds(fromSeconds: cut.seconds), to: gateway, kind: kind.rawValue, payload: ticket.key)
        }
    }
}
