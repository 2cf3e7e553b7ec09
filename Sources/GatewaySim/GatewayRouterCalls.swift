import GatewayConduct
import RoutingCore
import SimulationKernel

/// The simulated gateway's router as the conduct calls it: at the calendar's time, every
/// decision counted and, when a decision log is wanted, kept.
struct GatewayRouterCalls: ConductRouter, ~Copyable {
    var router: Router
    let calendar: EventCalendar
    /// Every decision as the decision log records it (with the targets it passed over), when
    /// a decision log is wanted.
    private(set) var decisionLog: [DecisionRecord]?
    private(set) var decisions = 0

    init(router: consuming Router, calendar: EventCalendar, keepDecisionLog: Bool) {
        self.router = router
        self.calendar = calendar
        self.decisionLog = keepDecisionLog ? [] : nil
    }

    mutating func begin(_ state: inout RequestState) -> Decision {
        let decision = router.begin(&state)
        note(decision)
        return decision
    }

    mutating func attemptFinished(_ state: inout RequestState, attempt: Int32, _ outcome: AttemptOutcome, firstTokenNanoseconds: Int64?) -> Decision {
        let (_, decision) = router.attemptFinished(measuredAt: calendar.now, &state, attempt: attempt, outcome)
        note(decision)
        return decision
    }

    mutating func attemptWithheld(_ state: inout RequestState, attempt: Int32) -> Decision {
        attemptFinished(&state, attempt: attempt, AttemptOutcome(outcome: .cancelled, latencyNanoseconds: 0), firstTokenNanoseconds: nil)
    }

    mutating func resume(_ state: inout RequestState) -> Decision {
        let decision = router.resume(&state)
        note(decision)
        return decision
    }

    mutating func hedgeDue(_ state: inout RequestState) -> Decision {
        let decision = router.hedgeDue(&state)
        note(decision)
        return decision
    }

    func firstByteReachedClient(requestID: UInt64, attempt: Int32) {}

    func clientWentAway(requestID: UInt64) {}

    private mutating func note(_ decision: Decision) {
        decisions += 1
        decisionLog?.append(router.record(decision))
    }
}
