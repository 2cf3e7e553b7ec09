import ChildProcesses
import Foundation
@testable import GatewayServer
import LiveGatewaySupport
import NIOHTTP1
import ProcessTestSupport
import RoutingCore
import Testing

/// The spend ledger in PostgreSQL (`deployment.state: {postgres: …}`), against a throwaway
/// cluster of the test's own: one row per settled request whose sum is what the gateway charged,
/// no database round trip per request, and a database that goes away and comes back costing
/// neither a request nor a row, nor storing one twice.
@Suite("brownout-gateway: the spend ledger in PostgreSQL", .serialized, .timeLimit(.minutes(5)))
struct SpendLedgerTests {
    static let variable = "BROWNOUT_TEST_DATABASE_URL"

    /// The fault tests' gateway, its state in PostgreSQL, rows spooled every 50 ms and shipped
    /// every 200 ms (so the test waits little), replica `gw-test`.
    static var spec: String {
        GatewayFaultTests.spec.replacingOccurrences(
            of: "  spend_database: \"{DIR}/spend.sqlite\"",
            with: """
                  spend_database: "{DIR}/spend.sqlite"
                  state: {postgres: {url_env: \(variable), replica: gw-test, spool: "{DIR}/spool.sqlite", flush_interval_s: 0.2, spool_interval_s: 0.05}}
                """)
    }

    /// Waits (at most 10 s) until the gateway's `/metrics` show `name` at `value`; returns them.
    static func awaitMetric(_ gateway: LiveGateway, _ name: String, _ value: Double) async throws -> String {
        let deadline = ContinuousClock.now + .seconds(10)
        while true {
            let metrics = try await gateway.metrics()
            if LiveGateway.metric(name, in: metrics) == value || ContinuousClock.now >= deadline { return metrics }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    /// Waits (at most 10 s) until the gateway says it has shipped `rows` rows in all, its spool
    /// is empty and the database up.
    static func shipped(_ gateway: LiveGateway, rows: Int) async throws -> String {
        let deadline = ContinuousClock.now + .seconds(10)
        while true {
            let metrics = try await gateway.metrics()
            if LiveGateway.metric("brownout_ledger_rows_spooled", in: metrics) == 0
                && LiveGateway.metric("brownout_ledger_database_up", in: metrics) == 1
                && LiveGateway.metric("brownout_ledger_rows_shipped_total", in: metrics) >= Double(rows)
            {
                return metrics
            }
            guard ContinuousClock.now < deadline else { return metrics }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    @Test("every settled request is one row, the rows add up to what the gateway charged, and no request waits for the database")
    func rowsAddUp() async throws {
        let database = try await ThrowawayPostgres()
        defer { Task { await database.remove() } }
        let gateway = try await LiveGateway(
            mocks: ["alpha": [], "beta": [], "local": []], spec: Self.spec, gatewayEnvironment: [Self.variable: database.url])
        try await gateway.use { gateway in
            // Alpha fails three times: those requests are answered by beta on a second attempt
            // (a 500 bills nothing, so there is no spend on retries); one of team batch is
            // refused by its budget.
            try await gateway.fault("alpha", "server_error", count: 3)
            var replies: [LiveGateway.Reply] = []
            try await withThrowingTaskGroup(of: LiveGateway.Reply.self) { group in
                for index in 0..<40 { group.addTask { try await gateway.chat(stream: index % 4 == 0) } }
                for try await reply in group { replies.append(reply) }
            }
            #expect(replies.allSatisfy { $0.status == 200 }, "\(replies.map(\.status))")
            let batch = try await gateway.chat(key: LiveGateway.batchKey, maxTokens: 100_000)
            let metrics = try await Self.shipped(gateway, rows: 41)
            let rows = try await database.query("SELECT count(*), count(DISTINCT request_id) FROM brownout_spend_ledger WHERE part = 0")
            #expect(rows == "41|41", "\(rows); batch answered \(batch.status)")
            let search = try await database.query(
                "SELECT count(*), count(*) FILTER (WHERE outcome = 'complete') FROM brownout_spend_ledger WHERE team = 'search'")
            #expect(search == "40|40", "40 answered: \(search)")
            // Each row's attempts are those the gateway sent: at least the three retries after
            // alpha's 500s (a machine slowed by other tests may time out a first token or two
            // more), and in all exactly what its metrics counted.
            let attempts = Int(try await database.query("SELECT sum(attempts) FROM brownout_spend_ledger WHERE team = 'search'")) ?? -1
            let allAttempts = Int(try await database.query("SELECT sum(attempts) FROM brownout_spend_ledger")) ?? -1
            let counted = metrics.split(separator: "\n").filter { $0.hasPrefix("brownout_attempts_total{") }
                .reduce(0.0) { $0 + (Double($1.split(separator: " ").last ?? "") ?? 0) }
            #expect(attempts >= 43, "40 answered, 3 of them at least on a second attempt: \(attempts) attempts")
            #expect(Double(allAttempts) == counted, "the ledger's attempts \(allAttempts), the gateway's \(counted)")
            let perTeam = try await database.query(
                """
                SELECT team, round((sum(successful_usd + retried_usd + wasted_usd + fallback_usd + bypass_usd) * 1e9)::numeric),
                       round((sum(successful_usd) * 1e9)::numeric), bool_and(replica = 'gw-test')
                FROM brownout_spend_ledger GROUP BY team ORDER BY team
                """)
            let charged = try await gateway.spend(team: "search")
            let searchRow = perTeam.split(separator: "\n").first { $0.hasPrefix("search|") }.map(String.init) ?? ""
            let columns = searchRow.split(separator: "|")
            #expect(columns.count == 4 && Double(columns[1]) == (charged * 1e9).rounded(), "ledger \(searchRow), gateway charged \(charged)")
            #expect(columns.count == 4 && Double(columns[2]) == Double(columns[1]), "every search request succeeded: \(searchRow)")
            #expect(columns.last == "t")
            // The README's chargeback query runs as written (its window widened to today).
            let readme = try String(contentsOf: BuiltProducts.checkout.appendingPathComponent("README.md"), encoding: .utf8)
            let block = readme.components(separatedBy: "```sql\n").dropFirst().first?.components(separatedBy: "```").first ?? ""
            let window = block.range(of: #"'[^']+' AND '[^']+'"#, options: .regularExpression)
            #expect(window != nil, "the README's chargeback query: \(block)")
            let chargeback = try await database.query(block.replacingCharacters(in: window!, with: "'2000-01-01Z' AND '2200-01-01Z'"))
            #expect(chargeback.split(separator: "\n").contains { $0.hasPrefix("search|") }, "\(chargeback)")
            // Shipping is batched off the request path: far fewer round trips than requests.
            let trips = LiveGateway.metric("brownout_ledger_database_round_trips_total", in: metrics)
            #expect(trips > 0 && trips < 41, "\(trips) round trips for 41 requests")
            #expect(LiveGateway.metric("brownout_ledger_rows_shipped_total", in: metrics) == 41)
        }
        await database.remove()
    }

    @Test("three replicas on one ledger, 300 requests at once spread over them: 300 rows, each replica's its own, adding up to what each charged")
    func threeReplicas() async throws {
        let database = try await ThrowawayPostgres()
        defer { Task { await database.remove() } }
        var replicas: [LiveGateway] = []
        for index in 1...3 {
            replicas.append(
                try await LiveGateway(
                    mocks: ["alpha": [], "beta": [], "local": []], spec: Self.spec,
                    gatewayArguments: ["--set", "deployment.state.postgres.replica=gw-\(index)"],
                    gatewayEnvironment: [Self.variable: database.url]))
        }
        let started = replicas
        let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
            for index in 0..<300 { group.addTask { try await started[index % 3].chat(stream: index % 5 == 0).status } }
            return try await group.reduce(into: [Int]()) { $0.append($1) }
        }
        #expect(statuses.count == 300 && statuses.allSatisfy { $0 == 200 })
        var charged: [String] = []
        for (index, replica) in replicas.enumerated() {
            _ = try await Self.shipped(replica, rows: 100)
            charged.append("gw-\(index + 1)|100|\(Int((try await replica.spend(team: "search") * 1e9).rounded()))")
        }
        let ledger = try await database.query(
            """
            SELECT replica, count(*), round(sum(successful_usd + retried_usd + wasted_usd + fallback_usd + bypass_usd) * 1e9)
            FROM brownout_spend_ledger GROUP BY replica ORDER BY replica
            """)
        #expect(ledger.split(separator: "\n").map(String.init) == charged)
        for replica in replicas { await replica.stop() }
        await database.remove()
    }

    @Test("the database goes away: every request is still routed, rows wait in the spool, and are stored once when it returns")
    func databaseDown() async throws {
        let database = try await ThrowawayPostgres()
        defer { Task { await database.remove() } }
        let gateway = try await LiveGateway(
            mocks: ["alpha": [], "beta": [], "local": []], spec: Self.spec, gatewayEnvironment: [Self.variable: database.url])
        try await gateway.use { gateway in
            for _ in 0..<5 { #expect(try await gateway.chat().status == 200) }
            _ = try await Self.shipped(gateway, rows: 5)
            await database.stop()
            for index in 0..<30 { #expect(try await gateway.chat(stream: index % 2 == 0).status == 200) }
            let down = try await Self.awaitMetric(gateway, "brownout_ledger_rows_spooled", 30)
            #expect(LiveGateway.metric("brownout_ledger_database_up", in: down) == 0)
            #expect(LiveGateway.metric("brownout_ledger_rows_spooled", in: down) == 30)
            let ready = try await gateway.call("/readyz", port: gateway.gateway!.port, method: .GET)
            #expect(ready.status == 200 && ready.body.contains("database unreachable, 30 rows spooled"), "\(ready.status) \(ready.body)")
            try await database.start()
            let up = try await Self.shipped(gateway, rows: 35)
            #expect(LiveGateway.metric("brownout_ledger_rows_spooled", in: up) == 0)
            let rows = try await database.query("SELECT count(*), count(DISTINCT (boot, request_id, part)) FROM brownout_spend_ledger")
            #expect(rows == "35|35")
            // The gateway stops; restarted (a new boot), its rows are new rows, never dropped as
            // duplicates of the last boot's.
            await gateway.stopGateway()
            try await gateway.startGateway()
            for _ in 0..<3 { #expect(try await gateway.chat().status == 200) }
            _ = try await Self.shipped(gateway, rows: 3)
            #expect(try await database.query("SELECT count(*), count(DISTINCT boot) FROM brownout_spend_ledger") == "38|2")
        }
        await database.remove()
    }

    @Test("killed while the database is down: the spooled rows are shipped by the next start, none lost, none twice")
    func killedWhileDown() async throws {
        let database = try await ThrowawayPostgres()
        defer { Task { await database.remove() } }
        let gateway = try await LiveGateway(
            mocks: ["alpha": [], "beta": [], "local": []], spec: Self.spec, gatewayEnvironment: [Self.variable: database.url])
        try await gateway.use { gateway in
            await database.stop()
            for _ in 0..<12 { #expect(try await gateway.chat().status == 200) }
            // Once the gateway counts them in the spool file, they are not only in memory.
            let spooled = try await Self.awaitMetric(gateway, "brownout_ledger_rows_spooled", 12)
            #expect(LiveGateway.metric("brownout_ledger_rows_spooled", in: spooled) == 12)
            await gateway.gateway!.process.killAndReap()
            gateway.gateway = nil
            try await database.start()
            try await gateway.startGateway()
            _ = try await Self.shipped(gateway, rows: 12)
            #expect(try await database.query("SELECT count(*), count(DISTINCT request_id) FROM brownout_spend_ledger") == "12|12")
        }
        await database.remove()
    }

    @Test("a batch shipped twice (committed, then the gateway died before it left the spool) is stored once")
    func shippedTwice() async throws {
        let database = try await ThrowawayPostgres()
        defer { Task { await database.remove() } }
        guard case .success(let url) = DatabaseURL.parse(database.url) else {
            Issue.record("\(database.url) does not parse")
            return
        }
        let ledger = try PostgresLedger(url: url, replica: "r1", metrics: GatewayMetrics(config: RouterConfig(targets: [], routes: [])))
        let rows = (1...50).map { id in
            SpendLedgerRow(
                settledUnixNanoseconds: 1_800_000_000_000_000_000 + Int64(id), boot: 7, requestID: Int64(id), part: 0, team: "search", key: nil,
                route: "chat", upstream: "alpha", outcome: "complete", attempts: 1, inputTokens: 100, outputTokens: 10,
                spend: {
                    var spend = TeamSpend(); spend.successfulUSD = 0.001; return spend
                }(), degraded: false)
        }
        try await ledger.insert(rows)
        try await ledger.insert(Array(rows[25...]) + rows[..<10])
        await ledger.close()
        #expect(try await database.query("SELECT count(*), round(sum(successful_usd)::numeric, 6) FROM brownout_spend_ledger") == "50|0.050000")
        await database.remove()
    }

    @Test("a bad database URL or an unset url_env: the gateway does not start, with one located line")
    func badDatabaseURL() async throws {
        let (directory, spec) = try GatewayStartTests.writeSpec { text, _ in
            text.replacingOccurrences(
                of: "  spend_database: \"{DIR}/spend.sqlite\"",
                with: "  spend_database: \"{DIR}/spend.sqlite\"\n  state: {postgres: {url_env: \(Self.variable)}}")
        }
        defer { try? FileManager.default.removeItem(at: directory) }
        let unset = try await LiveGateway.run("brownout-gateway", [spec.path])
        #expect(unset.status != 0)
        #expect(
            unset.stderr.contains("deployment.state.postgres.url_env: the environment variable '\(Self.variable)' is not set"), "\(unset.stderr)")
        let child = try ChildProcess(
            LiveGateway.binaries.appendingPathComponent("brownout-gateway"), [spec.path],
            environment: ProcessInfo.processInfo.environment.merging([Self.variable: "mysql://x@y/z"]) { $1 })
        #expect(try await child.exit(within: .seconds(30)) != 0)
        #expect(child.errors.contains("the database URL is not a postgres:// URL"), "\(child.errors)")
        let typo = try await LiveGateway.run("brownout", ["validate", spec.path, "--set", "deployment.state=sqlit"])
        #expect(typo.status != 0 && typo.stderr.contains("deployment.state: 'sqlit' is not valid; did you mean 'sqlite'?"), "\(typo.stderr)")
    }
}
