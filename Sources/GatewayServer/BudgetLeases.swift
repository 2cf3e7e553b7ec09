import Foundation
import RoutingCore
import ServiceLifecycle
import Synchronization

/// Budgets shared by a gateway's replicas (with `deployment.state: postgres`), a service of the
/// gateway's group: each replica holds slices of each budget's limit, granted from the
/// database (``BudgetLeaseDatabase``) so that all replicas' slices never add up to more than
/// the limit, and its router reserves and settles against what it holds, locally, as it did
/// against the limit (no request waits for the database). Every `lease_interval_s` it looks
/// at each budget: under half a slice (`lease_fraction` of the limit) left, it asks for one
/// more; a period about to begin gets its first slice ahead. A grant is a router call
/// (``RoutingCore/Router/budgetLeaseChanged(_:)``), a line of the trace.
///
/// The database down: a `fail_open` budget gives itself one slice of its own per period (the
/// bound of its overspend: a slice per replica), recorded in the table when the database
/// returns; a `fail_closed` one goes on with what it holds. At shutdown, after the server has
/// drained, what is held beyond what was spent is given back. A replica that dies keeps what it
/// held: counted spent, never granted to another (a hard stop is never passed; the cost is at
/// most its unspent holding, about a slice, in that period).
final class BudgetLeases: Sendable {
    private let database: BudgetLeaseDatabase
    let fraction: Double
    let interval: Duration
    private let state = Mutex(State())
    private let metrics: GatewayMetrics

    /// How far ahead a period's first slice is asked for.
    static let lookahead: Int64 = 2_000_000_000

    struct State {
        /// Whether the database answered last time.
        var up = false
        /// By budget and period: allowances of its own given while the database was down, not
        /// yet recorded in the table.
        var unrecorded: [String: Double] = [:]
        /// Budgets (by name and period) that had their own allowance in this period.
        var allowed: Set<String> = []
        /// The failures already reported (each once).
        var reported: Set<String> = []
    }

    init(database: BudgetLeaseDatabase, fraction: Double, interval: Duration, metrics: GatewayMetrics) {
        self.database = database
        self.fraction = fraction
        self.interval = interval
        self.metrics = metrics
    }

    /// What `/readyz` says of the budgets.
    var line: String {
        state.withLock { $0.up } ? "budgets: shared through the database" : "budgets: database unreachable, each replica on what it holds"
    }

    /// Renews every `interval` until the gateway shuts down (``BudgetLeaseRenewal``).
    func run(core: GatewayCore) async {
        let interval = self.interval
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do {
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
            } catch {
                break
            }
            await renew(core: core)
        }
    }

    /// Looks at every budget once and asks for the slices it needs (before the gateway serves,
    /// then every interval).
    /// Once the database has failed in a round, the round's other budgets do not ask it (a
    /// database that does not answer costs one time limit a round, not one a budget).
    func renew(core: GatewayCore) async {
        let budgets = core.conduct { $0.router.budgetLeaseStates(lookaheadNanoseconds: Self.lookahead) }
        var reachable = true
        for budget in budgets {
            let (current, upcoming) = budget.wants(fraction: fraction)
            if let current { reachable = await ask(core, budget, period: budget.period, want: current, reachable: reachable) }
            if let upcoming, let period = budget.upcomingPeriod {
                reachable = await ask(core, budget, period: period, want: upcoming, reachable: reachable)
            }
        }
    }

    /// Asks the database for a slice (unless it failed earlier this round); returns whether it
    /// answered.
    private func ask(_ core: GatewayCore, _ budget: BudgetLeaseState, period: Int64, want: Double, reachable: Bool) async -> Bool {
        let key = BudgetLeaseDatabase.name(of: budget.config.scope) + "/" + String(period)
        let own = state.withLock { $0.unrecorded[key] ?? 0 }
        let spent = period == budget.period ? budget.spentUSD : 0
        do {
            guard reachable else { throw DatabaseUnreachable() }
            let granted = try await database.grant(
                scope: budget.config.scope, period: period, limitUSD: budget.config.limitUSD, wantUSD: want, ownUSD: own, spentUSD: spent)
            state.withLock { state in
                state.up = true
                state.unrecorded[key] = nil
            }
            metrics.budgetLeases(up: true)
            if granted > 0 { core.conduct { $0.budgetLeaseChanged(BudgetLease(scope: budget.config.scope, period: period, usd: granted)) } }
            return true
        } catch {
            metrics.budgetLeases(up: false)
            let message = "\(error)"
            if !(error is DatabaseUnreachable), state.withLock({ $0.reported.insert(message).inserted }) {
                FileHandle.standardError.write(Data("brownout-gateway: could not renew the budgets' slices: \(message)\n".utf8))
            }
            let allowance = state.withLock { state -> Bool in
                state.up = false
                guard budget.config.whenStateDown == .failOpen, period == budget.period, !state.allowed.contains(key) else { return false }
                state.allowed.insert(key)
                state.unrecorded[key, default: 0] += want
                return true
            }
            if allowance {
                core.conduct { $0.budgetLeaseChanged(BudgetLease(scope: budget.config.scope, period: period, usd: want, local: true)) }
            }
            return false
        }
    }

    /// The database failed earlier in this round.
    private struct DatabaseUnreachable: Error {}

    /// At shutdown, after the server drained: what is held beyond what was spent goes back.
    func giveBack(core: GatewayCore) async {
        let budgets = core.conduct { $0.router.budgetLeaseStates(lookaheadNanoseconds: 0) }
        for budget in budgets {
            try? await database.giveBack(scope: budget.config.scope, period: budget.period, spentUSD: budget.spentUSD)
        }
        await database.close()
    }
}
