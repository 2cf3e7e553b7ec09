import RoutingCore
import SimulationKernel

/// One attempt handed from the gateway to a provider or pool.
struct AttemptTicket: Sendable {
    let requestID: UInt64
    let attempt: Int32
    let inputTokens: Int
    let outputTokens: Int
    /// Whether the gateway must hear of the attempt's first token when it appears
    /// (``AttemptOrder/watchesFirstByte``): the upstream that serves it schedules the
    /// gateway's ``GatewayEvent/firstByte`` then.
    let watchesFirstByte: Bool
    /// A stream's rules the upstream serving it needs to schedule the gateway's cut
    /// (``GatewayEvent/streamCut``) when its frames would trip them: the longest silence
    /// between frames (0: none, or a whole answer) and whether an event that is not JSON
    /// ends the attempt.
    var idleLimitNanoseconds: Int64 = 0
    var failsOnMalformedEvent = false

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
    /// When the attempt's first token appeared (simulated nanoseconds; 0 unless it produced
    /// one): after any wait in the upstream's queue, as a gateway sees it.
    let firstTokenAt: Int64
}

/// An attempt an upstream holds until its completion event: the answer it will give.
struct UpstreamAttempt: Sendable {
    let ticket: AttemptTicket
    let report: AttemptOutcome
    let firstTokenSeconds: Double
    let startedAt: Int64
    /// False for answers that never held a server (429/529 at the door, cancellations).
    let holdsServer: Bool
    /// A stall: when its output stopped, from the start of service.
    var stallsAtSeconds: Double? = nil

    /// When its first token appears, for attempts being served that will produce one.
    var firstTokenAt: Int64? {
        guard holdsServer, firstTokenSeconds > 0 else { return nil }
        return SimulationInstant.adding(startedAt, SimulationInstant.nanoseconds(fromSeconds: firstTokenSeconds))
    }

    /// The tokens a gateway relaying this attempt as a stream has seen by `now`, which is what
    /// it bills when the attempt ends early (cancelled, or cut by a limit): none before the
    /// first token; after it, the input and the output streamed so far, at an even rate from
    /// the first token to the planned end.
    func relayedTokens(at now: Int64) -> (input: Int, output: Int) {
        guard let first = firstTokenAt, now >= first else { return (0, 0) }
        let end = SimulationInstant.adding(startedAt, stallsAtSeconds.map(SimulationInstant.nanoseconds(fromSeconds:)) ?? report.latencyNanoseconds)
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

/// Schedules the gateway's ``GatewayEvent/streamCut`` for a streamed attempt started now
/// whose frames will trip the route's rules (``ServicePlan/streamCutSeconds(idleSeconds:failsOnMalformedEvent:)``):
/// what the gateway relaying the frames would see when they came.
func scheduleStreamCut(_ ticket: AttemptTicket, plan: ServicePlan, calendar: EventCalendar, gateway: HandlerID) {
    guard ticket.idleLimitNanoseconds > 0 || ticket.failsOnMalformedEvent else { return }
    let idle = ticket.idleLimitNanoseconds > 0 ? Double(ticket.idleLimitNanoseconds) / 1e9 : nil
    guard let cut = plan.streamCutSeconds(idleSeconds: idle, failsOnMalformedEvent: ticket.failsOnMalformedEvent) else { return }
    calendar.schedule(after: SimulationInstant.nanoseconds(fromSeconds: cut), to: gateway, kind: GatewayEvent.streamCut.rawValue, payload: ticket.key)
}
