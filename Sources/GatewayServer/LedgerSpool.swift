import Foundation
import GRDB
import RoutingCore

/// The spend ledger's rows waiting for PostgreSQL, in a local SQLite file (GRDB): rows come in
/// from memory every spool interval and leave only after the database has committed them, so
/// that neither an unreachable database nor a restart loses one. A row shipped and committed
/// but not yet deleted here (a crash between the two) is shipped again and stored once: the
/// ledger keeps one row per (replica, boot, request, part).
final class LedgerSpool: Sendable {
    let path: String
    private let database: DatabaseQueue

    init(path: String) throws {
        self.path = path
        database = try SQLiteFile.open(
            path: path, key: "deployment.state.postgres.spool",
            schema: """
                CREATE TABLE IF NOT EXISTS spooled_spend (
                    seq INTEGER PRIMARY KEY AUTOINCREMENT,
                    settled_unix_ns INTEGER NOT NULL, boot INTEGER NOT NULL, request_id INTEGER NOT NULL, part INTEGER NOT NULL,
                    team TEXT, api_key TEXT, route TEXT NOT NULL, upstream TEXT, outcome TEXT NOT NULL,
                    attempts INTEGER NOT NULL, input_tokens INTEGER NOT NULL, output_tokens INTEGER NOT NULL,
                    successful_usd REAL NOT NULL, retried_usd REAL NOT NULL, wasted_usd REAL NOT NULL,
                    fallback_gpu_seconds REAL NOT NULL, fallback_usd REAL NOT NULL, bypass_usd REAL NOT NULL,
                    degraded INTEGER NOT NULL)
                """)
    }

    /// Appends `rows` in one transaction.
    func append(_ rows: [SpendLedgerRow]) throws {
        guard !rows.isEmpty else { return }
        try database.write { db in
            let statement = try db.makeStatement(
                sql: """
                    INSERT INTO spooled_spend (settled_unix_ns, boot, request_id, part, team, api_key, route, upstream, outcome, attempts,
                        input_tokens, output_tokens, successful_usd, retried_usd, wasted_usd, fallback_gpu_seconds, fallback_usd, bypass_usd,
                        degraded)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """)
            for row in rows {
                let spend = row.spend
                try statement.execute(arguments: [
                    row.settledUnixNanoseconds, row.boot, row.requestID, row.part, row.team, row.key, row.route, row.upstream, row.outcome,
                    row.attempts, row.inputTokens, row.outputTokens, spend.successfulUSD, spend.retriedUSD, spend.wastedUSD,
                    spend.fallbackGPUSeconds, spend.fallbackUSD, spend.bypassUSD, row.degraded,
                ])
            }
        }
    }

    /// The oldest `limit` rows, with the sequence number of the last (to delete them by, once shipped).
    func oldest(_ limit: Int) throws -> (rows: [SpendLedgerRow], through: Int64) {
        try database.read { db in
            var rows: [SpendLedgerRow] = []
            var through: Int64 = 0
            for row in try Row.fetchAll(db, sql: "SELECT * FROM spooled_spend ORDER BY seq LIMIT ?", arguments: [limit]) {
                var spend = TeamSpend()
                spend.successfulUSD = row["successful_usd"]
                spend.retriedUSD = row["retried_usd"]
                spend.wastedUSD = row["wasted_usd"]
                spend.fallbackGPUSeconds = row["fallback_gpu_seconds"]
                spend.fallbackUSD = row["fallback_usd"]
                spend.bypassUSD = row["bypass_usd"]
                rows.append(
                    SpendLedgerRow(
                        settledUnixNanoseconds: row["settled_unix_ns"], boot: row["boot"], requestID: row["request_id"], part: row["part"],
                        team: row["team"], key: row["api_key"], route: row["route"], upstream: row["upstream"], outcome: row["outcome"],
                        attempts: row["attempts"], inputTokens: row["input_tokens"], outputTokens: row["output_tokens"], spend: spend,
                        degraded: row["degraded"]))
                through = row["seq"]
            }
            return (rows, through)
        }
    }

    /// Removes the rows up to sequence number `through` (shipped and committed).
    func remove(through: Int64) throws {
        try database.write { db in try db.execute(sql: "DELETE FROM spooled_spend WHERE seq <= ?", arguments: [through]) }
    }

    /// How many rows wait.
    func count() throws -> Int {
        try database.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM spooled_spend") ?? 0 }
    }
}
