import Logging
import PostgresNIO
import RoutingCore

/// The table of budget slices in PostgreSQL, `brownout_budget_leases`: one row per budget,
/// period and replica boot, with what the boot was granted and what it had spent when it last
/// asked. A grant is one transaction under an advisory lock of the budget and period: the sum
/// of the rows is never more than the limit (save a replica's own allowance while the database
/// was down, recorded when it returns). One connection, opened when needed and again after a
/// failure; every statement bounded in time (each counted in
/// `brownout_budget_lease_round_trips_total`). Used by ``BudgetLeases`` alone, never on a
/// request's path.
actor BudgetLeaseDatabase {
    static let table = "brownout_budget_leases"

    private let configuration: PostgresConnection.Configuration
    private let replica: String
    private let boot: Int64
    private let logger: Logger
    private let metrics: GatewayMetrics
    private var connection: PostgresConnection?
    private var nextConnectionID = 1

    init(url: DatabaseURL, replica: String, boot: Int64, metrics: GatewayMetrics) throws {
        self.configuration = try url.connectionConfiguration()
        self.metrics = metrics
        self.replica = replica
        self.boot = boot
        var logger = Logger(label: "brownout-gateway.budget-leases")
        logger.logLevel = .critical
        self.logger = logger
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
    /// the database was down) and what it has spent; returns the amount granted.
    func grant(scope: BudgetScope, period: Int64, limitUSD: Double, wantUSD: Double, ownUSD: Double, spentUSD: Double) async throws -> Double {
        let connection = try await connected()
        let budget = Self.name(of: scope), boot = self.boot, replica = self.replica, logger = self.logger
        for _ in 0..<4 { metrics.budgetLeaseRoundTrip() }
        return try await bounded(connection) {
            try await Self.run("BEGIN", on: connection, logger: logger)
            do {
                try await Self.run(
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
                try await Self.run("COMMIT", on: connection, logger: logger)
                return granted
            } catch {
                try? await Self.run("ROLLBACK", on: connection, logger: logger)
                throw error
            }
        }
    }

    /// Gives back what this boot holds of `scope`'s `period` beyond what it spent (at shutdown).
    func giveBack(scope: BudgetScope, period: Int64, spentUSD: Double) async throws {
        let connection = try await connected()
        let budget = Self.name(of: scope), boot = self.boot, logger = self.logger
        metrics.budgetLeaseRoundTrip()
        try await bounded(connection) {
            try await Self.run(
                """
                UPDATE brownout_budget_leases SET granted_usd = LEAST(granted_usd, GREATEST(\(spentUSD)::float8, spent_usd)),
                    spent_usd = \(spentUSD)::float8, renewed_at = now()
                WHERE budget = \(budget) AND period = \(period) AND boot = \(boot)
                """, on: connection, logger: logger)
        }
    }

    /// The open connection, or a new one with the table made.
    private func connected() async throws -> PostgresConnection {
        if let connection, !connection.isClosed { return connection }
        connection = nil
        let id = nextConnectionID
        nextConnectionID += 1
        let configuration = self.configuration, logger = self.logger
        let made = try await PostgresLedger.within(PostgresLedger.limit) {
            try await PostgresConnection.connect(configuration: configuration, id: id, logger: logger)
        }
        metrics.budgetLeaseRoundTrip()
        metrics.budgetLeaseRoundTrip()
        do {
            try await bounded(made) {
                try await Self.run(
                    """
                    CREATE TABLE IF NOT EXISTS brownout_budget_leases (
                        budget text NOT NULL, period bigint NOT NULL, boot bigint NOT NULL, replica text NOT NULL,
                        granted_usd double precision NOT NULL, spent_usd double precision NOT NULL, renewed_at timestamptz NOT NULL,
                        PRIMARY KEY (budget, period, boot))
                    """, on: made, logger: logger)
            }
        } catch let error as PSQLError where error.serverInfo?[.sqlState] == "23505" || error.serverInfo?[.sqlState] == "42P07" {
            // Another replica made the table at the same moment: it is there.
        }
        connection = made
        return made
    }

    /// `body` on `connection` within the ledger's limit; one that fails closes the connection.
    private func bounded<T: Sendable>(_ connection: PostgresConnection, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
        do {
            return try await PostgresLedger.within(PostgresLedger.limit, body)
        } catch {
            try? await connection.close()
            if self.connection === connection { self.connection = nil }
            throw error
        }
    }

    private static func run(_ query: PostgresQuery, on connection: PostgresConnection, logger: Logger) async throws {
        let rows = try await connection.query(query, logger: logger)
        for try await _ in rows {}
    }

    func close() async {
        try? await connection?.close()
        connection = nil
    }
}
