import PostgresNIO
import RoutingCore

/// The table of budget slices in PostgreSQL, `brownout_budget_leases`: one row per budget,
/// period and replica boot, with what the boot was granted and what it had spent when it last
/// asked. A grant is one transaction under an advisory lock of the budget and period: the sum
/// of the rows is never more than the limit (save a replica's own allowance while the database
/// was down, recorded when it returns). Its own connection (``PostgresSession``), every
/// statement counted in `brownout_budget_lease_round_trips_total`. Used by ``BudgetLeases``
/// alone, never on a request's path.
actor BudgetLeaseDatabase {
    static let table = "brownout_budget_leases"

    private let session: PostgresSession
    private let replica: String
    private let boot: Int64

    init(url: DatabaseURL, replica: String, boot: Int64, metrics: GatewayMetrics) throws {
        self.session = try PostgresSession(
            url: url, label: "brownout-gateway.budget-leases",
            schema: [
                """
                CREATE TABLE IF NOT EXISTS brownout_budget_leases (
                    budget text NOT NULL, period bigint NOT NULL, boot bigint NOT NULL, replica text NOT NULL,
                    granted_usd double precision NOT NULL, spent_usd double precision NOT NULL, renewed_at timestamptz NOT NULL,
                    PRIMARY KEY (budget, period, boot))
                """
            ], roundTrip: { metrics.budgetLeaseRoundTrip() })
        self.replica = replica
        self.boot = boot
    }

    /// The name a budget has in the table: `team:NAME` or `key:NAME`.
    static func name(of scope: BudgetScope) -> String {
        switch scope {
        case .team(let name): "team:" + name
        case .key(let name): "key:" + name
        }
    }

    /// Grants this boot up to `wantUSD` more of `scope`'s `period` — what the limit leaves,
    /// all replicas' slices counted — and records `ownUSD` (an allowance it gave itself while
    /// the database was down) and what it has spent; returns the amount granted. Four
    /// statements: the transaction, the lock, the grant, its commit.
    func grant(scope: BudgetScope, period: Int64, limitUSD: Double, wantUSD: Double, ownUSD: Double, spentUSD: Double) async throws -> Double {
        let budget = Self.name(of: scope), boot = self.boot, replica = self.replica
        return try await session.use(statements: 4) { connection, logger in
            try await PostgresSession.run("BEGIN", on: connection, logger: logger)
            do {
                try await PostgresSession.run(
                    "SELECT pg_advisory_xact_lock(hashtextextended(\(budget + "/" + String(period)), 0))", on: connection, logger: logger)
                let rows = try await connection.query(
                    """
                    WITH total AS (SELECT coalesce(sum(granted_usd), 0) AS g FROM brownout_budget_leases WHERE budget = \(budget) AND period = \(period)),
                         grant_now AS (SELECT LEAST(\(wantUSD)::float8, GREATEST(0, \(limitUSD)::float8 - g - \(ownUSD)::float8)) AS x FROM total)
                    INSERT INTO brownout_budget_leases (budget, period, boot, replica, granted_usd, spent_usd, renewed_at)
                    SELECT \(budget), \(period), \(boot), \(replica), x + \(ownUSD)::float8, \(spentUSD)::float8, now() FROM grant_now
                    ON CONFLICT (budget, period, boot) DO UPDATE SET granted_usd = brownout_budget_leases.granted_usd + EXCLUDED.granted_usd,
                        spent_usd = EXCLUDED.spent_usd, renewed_at = EXCLUDED.renewed_at
                    RETURNING (SELECT x FROM grant_now)
                    """, logger: logger)
                var granted = 0.0
                for try await row in rows { granted = try row.decode(Double.self) }
                try await PostgresSession.run("COMMIT", on: connection, logger: logger)
                return granted
            } catch {
                try? await PostgresSession.run("ROLLBACK", on: connection, logger: logger)
                throw error
            }
        }
    }

    /// Gives back what this boot holds of `scope`'s `period` beyond what it spent (at shutdown).
    func giveBack(scope: BudgetScope, period: Int64, spentUSD: Double) async throws {
        let budget = Self.name(of: scope), boot = self.boot
        try await session.use { connection, logger in
            try await PostgresSession.run(
                """
                UPDATE brownout_budget_leases SET granted_usd = LEAST(granted_usd, GREATEST(\(spentUSD)::float8, spent_usd)),
                    spent_usd = \(spentUSD)::float8, renewed_at = now()
                WHERE budget = \(budget) AND period = \(period) AND boot = \(boot)
                """, on: connection, logger: logger)
        }
    }

    func close() async {
        await session.close()
    }
}
