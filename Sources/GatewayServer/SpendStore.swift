import Foundation
import GRDB
import RoutingCore

/// Budget spend kept in an embedded SQLite database (GRDB), so that a restart does not reset
/// a team's budget: one row per budget, the period it belongs to and its settled spend.
final class SpendStore: Sendable {
    let path: String
    private let database: DatabaseQueue

    init(path: String) throws {
        self.path = path
        database = try SQLiteFile.open(
            path: path, key: "spend_database",
            schema: """
                CREATE TABLE IF NOT EXISTS budget_spend (
                    scope_kind TEXT NOT NULL, scope_name TEXT NOT NULL, period INTEGER NOT NULL, spent_usd REAL NOT NULL,
                    PRIMARY KEY (scope_kind, scope_name))
                """)
    }

    /// The saved rows: the budgets' records, and a description of each row of a kind this
    /// gateway does not know (kept in the database, never dropped).
    func load() throws -> (records: [BudgetSpendRecord], unreadable: [String]) {
        try database.read { db in
            var records: [BudgetSpendRecord] = []
            var unreadable: [String] = []
            for row in try Row.fetchAll(db, sql: "SELECT scope_kind, scope_name, period, spent_usd FROM budget_spend ORDER BY scope_kind, scope_name")
            {
                let kind: String = row["scope_kind"]
                let name: String = row["scope_name"]
                let scope: BudgetScope
                switch kind {
                case "team": scope = .team(name)
                case "key": scope = .key(name)
                default:
                    unreadable.append("\(kind) '\(name)'")
                    continue
                }
                records.append(BudgetSpendRecord(scope: scope, period: row["period"], spentUSD: row["spent_usd"]))
            }
            return (records, unreadable)
        }
    }

    /// Writes `records` over the saved spend of their budgets, in one transaction; rows of other
    /// budgets (a team the spec no longer has) stay as they are.
    func save(_ records: [BudgetSpendRecord]) throws {
        try database.write { db in
            for record in records {
                let (kind, name): (String, String)
                switch record.scope {
                case .team(let team): (kind, name) = ("team", team)
                case .key(let key): (kind, name) = ("key", key)
                }
                try db.execute(
                    sql: """
                        INSERT INTO budget_spend (scope_kind, scope_name, period, spent_usd) VALUES (?, ?, ?, ?)
                        ON CONFLICT (scope_kind, scope_name) DO UPDATE SET period = excluded.period, spent_usd = excluded.spent_usd
                        """, arguments: [kind, name, record.period, record.spentUSD])
            }
        }
    }
}
