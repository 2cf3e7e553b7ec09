import RoutingCore

/// The simulated replicas' shared budgets (a deployment whose `state` is PostgreSQL): what each
/// budget's period has granted to all replicas together, which never passes its limit — the
/// table the live gateways share (`brownout_budget_leases`), in memory. Touched only on the
/// replication's one executor, by the gateway replicas.
final class BudgetPool: @unchecked Sendable {
    private var granted: [BudgetScope: [Int64: Double]] = [:]

    /// Up to `want` more of `scope`'s `period`, what the limit leaves.
    func grant(_ scope: BudgetScope, period: Int64, limitUSD: Double, want: Double) -> Double {
        let given = granted[scope]?[period] ?? 0
        let amount = min(want, max(0, limitUSD - given))
        granted[scope, default: [:]][period] = given + amount
        return amount
    }
}

/// How the simulated replicas share budgets: a deployment's `state.postgres` `lease_fraction`
/// and `lease_interval_s`, as the live gateway reads them.
public struct BudgetLeaseSettings: Sendable, Equatable {
    public var fraction: Double
    public var intervalSeconds: Double

    public init(fraction: Double, intervalSeconds: Double) {
        self.fraction = fraction
        self.intervalSeconds = intervalSeconds
    }
}
