import RoutingCore
import Synchronization

/// Makes the spend ledger's rows from the router's settlements, under the router's lock (so
/// rows are in settlement order), and keeps them in memory until ``LedgerShipper`` takes them
/// to the spool. Appending is a few field copies: no I/O on the request path.
final class SpendLedgerRecorder: Sendable {
    private let config: RouterConfig
    /// The budgeted keys' names, by ``RoutingCore/KeyID``.
    private let keys: [String]
    private let boot: Int64
    /// What a request's clock reads in the router's calendar: Unix nanoseconds at its zero.
    private let unixNanosecondsAtZero: Int64
    private let pending = Mutex<[SpendLedgerRow]>([])
    /// Late parts already written, by request (a request gets them only when a hedge's loser
    /// reports after the end; entries go when the request's last attempt has reported).
    private let lateParts = Mutex<[UInt64: Int16]>([:])

    init(config: RouterConfig, boot: Int64, unixNanosecondsAtZero: Int64) {
        self.config = config
        keys = config.budgetedKeys
        self.boot = boot
        self.unixNanosecondsAtZero = unixNanosecondsAtZero
    }

    /// What a router call needs to be read of the request before it.
    struct Before {
        var finished = false
        var charges = RequestCharges()
        /// The target of the attempt reporting (nil for other calls).
        var target: TargetID?
    }

    /// The request's state before a router call (`attempt`: the one reporting, if any).
    func before(_ state: RequestState, attempt: Int32?) -> Before {
        Before(finished: state.finished, charges: state.charges, target: attempt.flatMap { state.attemptTarget($0) })
    }

    /// After a router call on `state`: a row when the call ended the request (`decision`
    /// completes, fails or rejects it), or when a result after its end added to its charges.
    /// `before` is the state's before the call, `outcome` the reporting attempt's result.
    func observe(_ state: RequestState, decision: Decision, before: Before, outcome: AttemptOutcome?, now: Int64) {
        let (finishedBefore, chargesBefore, target) = (before.finished, before.charges, before.target)
        let bypass = config.routes[state.route.index].mode == .bypass
        if finishedBefore {
            let added = state.charges.subtracting(chargesBefore)
            let charged = added != RequestCharges()
            // The request's entry goes with its last attempt, whether or not that one cost anything.
            let part = lateParts.withLock { parts -> Int16? in
                let next = (parts[state.request.id] ?? 0) + (charged ? 1 : 0)
                if state.attemptsInFlight == 0 { parts[state.request.id] = nil } else { parts[state.request.id] = next }
                return charged ? next : nil
            }
            guard let part else { return }
            append(state, part: part, outcome: "late", upstream: nil, outputTokens: 0, spend: added.spend(succeeded: false, bypass: bypass), now: now)
            return
        }
        guard state.finished else { return }
        let succeeded = decision.action == .complete
        let upstream = succeeded ? target : nil
        let label: String
        switch decision.action {
        case .complete: label = "complete"
        case .reject: label = "reject"
        default: label = "fail"
        }
        if state.attemptsInFlight > 0 { lateParts.withLock { $0[state.request.id] = 0 } }
        append(
            state, part: 0, outcome: label, upstream: upstream, outputTokens: succeeded ? Int32(clamping: outcome?.outputTokens ?? 0) : 0,
            spend: state.charges.spend(succeeded: succeeded, bypass: bypass), now: now)
    }

    private func append(_ state: RequestState, part: Int16, outcome: String, upstream: TargetID?, outputTokens: Int32, spend: TeamSpend, now: Int64) {
        let request = state.request
        let row = SpendLedgerRow(
            settledUnixNanoseconds: unixNanosecondsAtZero + now, boot: boot, requestID: Int64(bitPattern: request.id), part: part,
            team: request.team.map { config.teams[$0.index].name }, key: request.key.map { keys[$0.index] },
            route: config.routes[state.route.index].name, upstream: upstream.map { config.targets[$0.index].name }, outcome: outcome,
            attempts: state.attemptsSent, inputTokens: Int32(clamping: request.inputTokens), outputTokens: outputTokens, spend: spend,
            degraded: upstream.map { config.targets[$0.index].kind == .local } ?? false)
        pending.withLock { $0.append(row) }
    }

    /// Requests that ended with attempts still out, whose late parts are still counted.
    var requestsAwaitingLateResults: Int { lateParts.withLock { $0.count } }

    /// Rows that could not be spooled, back in front of those made since.
    func putBack(_ rows: [SpendLedgerRow]) {
        pending.withLock { $0.insert(contentsOf: rows, at: 0) }
    }

    /// The rows made since the last call, in settlement order.
    func take() -> [SpendLedgerRow] {
        pending.withLock { rows in
            defer { rows = [] }
            return rows
        }
    }
}
