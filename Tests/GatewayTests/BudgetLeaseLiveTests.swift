import ChildProcesses
import Foundation
import LiveGatewaySupport
import NIOHTTP1
import ProcessTestSupport
import Testing

/// Budgets shared by replicas through PostgreSQL: each replica holds slices of a budget's limit
/// granted from the database, never more than the limit in all, and reserves against what it
/// holds as one gateway reserves against the limit.
@Suite("brownout-gateway: budgets shared across replicas", .serialized, .timeLimit(.minutes(5)))
struct BudgetLeaseLiveTests {
    /// The ledger tests' gateway: team batch has a hard $0.01 a day; each answer costs at most
    /// 64 output tokens at alpha's $15/M (reserved first), about $0.001; slices of the default
    /// tenth ($0.001, less than one answer's worst case: each replica asks for what a refused
    /// request needed).
    static var spec: String { SpendLedgerTests.spec }

    /// Sends batch requests one at a time round `replicas` until 15 in a row are refused (or
    /// `limit` are sent), pausing after a refusal so slices can be renewed.
    static func drain(_ replicas: [LiveGateway], limit: Int = 200) async throws {
        var refusedInARow = 0, sent = 0
        while refusedInARow < 15 && sent < limit {
            let reply = try await replicas[sent % replicas.count].chat(key: LiveGateway.batchKey)
            refusedInARow = reply.status == 200 ? 0 : refusedInARow + 1
            sent += 1
            if reply.status != 200 { try await Task.sleep(for: .milliseconds(60)) }
        }
    }

    @Test(
        "three replicas, 300 requests at once, one killed, then one at a time: the hard budget is never overspent in all, most of it is used, and a replica's trace replays identically"
    )
    func threeReplicasNeverOverspend() async throws {
        let database = try await ThrowawayPostgres()
        defer { Task { await database.remove() } }
        let trace = FileManager.default.temporaryDirectory.appendingPathComponent("brownout-leases-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: trace) }
        var replicas: [LiveGateway] = []
        for index in 1...3 {
            replicas.append(
                try await LiveGateway(
                    mocks: ["alpha": [], "beta": [], "local": []], spec: Self.spec,
                    gatewayArguments: ["--set", "deployment.state.postgres.replica=gw-\(index)"] + (index == 1 ? ["--record", trace.path] : []),
                    gatewayEnvironment: [SpendLedgerTests.variable: database.url]))
        }
        let started = replicas
        let burst = try await withThrowingTaskGroup(of: (Int, String?).self) { group in
            for index in 0..<300 {
                group.addTask {
                    let reply = try await started[index % 3].chat(key: LiveGateway.batchKey)
                    return (reply.status, reply.header("x-brownout-failure"))
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(burst.allSatisfy { $0.0 == 200 ? $0.1 == nil : ($0.0 == 429 && $0.1 == "budget_exhausted") }, "\(burst)")
        // gw-3 dies (SIGKILL): what it spent is in its spend metric no more, but in its slices,
        // which stay counted; the others go on.
        let killedSpent = try await GatewayFaultTests.spend(of: "batch", in: replicas[2])
        await replicas[2].gateway!.process.killAndReap()
        replicas[2].gateway = nil
        try await Self.drain(Array(replicas.prefix(2)))
        var spent = killedSpent
        for replica in replicas.prefix(2) { spent += try await GatewayFaultTests.spend(of: "batch", in: replica) }
        #expect(spent <= 0.01 + 1e-12, "the replicas spent \(spent) of $0.01 in all")
        let slices = try await database.query("SELECT replica, granted_usd, spent_usd FROM brownout_budget_leases ORDER BY replica")
        #expect(
            spent >= 0.005,
            "most of the budget is used: \(spent) of $0.01 (the rest: what each replica holds below one answer's worst case); slices: \(slices)")
        let holders = try await database.query(
            "SELECT count(DISTINCT replica) FROM brownout_budget_leases WHERE budget = 'team:batch' AND granted_usd > 0")
        #expect(holders == "3", "every replica held a slice: \(slices)")
        let granted = try await database.query("SELECT round(sum(granted_usd) * 1e9) FROM brownout_budget_leases WHERE budget = 'team:batch'")
        #expect((Double(granted) ?? .infinity) <= 0.01 * 1e9 + 1, "the slices granted add up to \(granted) nano-USD")
        let ready = try await replicas[0].call("/readyz", port: replicas[0].gateway!.port, method: .GET)
        #expect(ready.body.contains("budgets: shared through the database"), "\(ready.body)")
        for replica in replicas.prefix(2) { await replica.stopGateway() }
        // Stopped, the two that lived gave back what they held beyond what they spent; the
        // killed one's slices stay as they were, counted spent.
        let kept = try await database.query(
            "SELECT round(sum(granted_usd - spent_usd) * 1e9) FROM brownout_budget_leases WHERE budget = 'team:batch' AND replica <> 'gw-3'")
        #expect((Double(kept) ?? .infinity) <= 1, "given back at shutdown: \(kept) nano-USD still held by gw-1 and gw-2")
        // The replica's trace, its slices in it, replays identically.
        let text = try String(contentsOf: trace.appendingPathComponent("trace.jsonl"), encoding: .utf8)
        #expect(text.contains(#""call":"budget_lease""#) && text.hasPrefix(#"{"budget_leases":true,"#))
        let replayed = try await LiveGateway.run("brownout", ["replay", trace.path, "--spec", replicas[0].specPath.path])
        #expect(replayed.status == 0 && replayed.stdout.contains("identical"), "\(replayed.stdout.prefix(3_000))\(replayed.stderr.prefix(3_000))")
        for replica in replicas { await replica.stop() }
        await database.remove()
    }

    @Test(
        "the database down: a fail_open budget goes on with one slice of its own (over by at most that), a fail_closed one only with what it holds",
        arguments: ["fail_open", "fail_closed"])
    func databaseDown(policy: String) async throws {
        let database = try await ThrowawayPostgres()
        defer { Task { await database.remove() } }
        // Slices of a quarter ($0.0025, two answers' worst case).
        let spec = Self.spec.replacingOccurrences(
            of: "budget: {usd: 0.01, period: day}", with: "budget: {usd: 0.01, period: day, state_down: \(policy)}"
        ).replacingOccurrences(of: "spool_interval_s: 0.05}", with: "spool_interval_s: 0.05, lease_fraction: 0.25}")
        let gateway = try await LiveGateway(
            mocks: ["alpha": [], "beta": [], "local": []], spec: spec, gatewayEnvironment: [SpendLedgerTests.variable: database.url])
        try await gateway.use { gateway in
            let first = try await gateway.chat(key: LiveGateway.batchKey)
            #expect(first.status == 200, "a slice covers two answers: \(first.body)")
            try await Task.sleep(for: .milliseconds(200))
            let held = Double(try await database.query("SELECT sum(granted_usd) FROM brownout_budget_leases WHERE budget = 'team:batch'")) ?? -1
            await database.stop()
            try await Self.drain([gateway])
            let spent = try await GatewayFaultTests.spend(of: "batch", in: gateway)
            if policy == "fail_open" {
                #expect(
                    spent > held + 1e-12 && spent <= held + 0.0025 + 1e-12,
                    "fail_open: beyond what it held (\(held)) by at most its own slice: \(spent)")
            } else {
                #expect(spent <= held + 1e-12, "fail_closed: within what it held (\(held)): \(spent)")
            }
            let metrics = try await gateway.metrics()
            #expect(LiveGateway.metric("brownout_budget_leases_up", in: metrics) == 0)
            let ready = try await gateway.call("/readyz", port: gateway.gateway!.port, method: .GET)
            #expect(ready.status == 200 && ready.body.contains("budgets: database unreachable"), "\(ready.body)")
            if policy == "fail_open" {
                #expect(spent <= 0.01 + 0.0025 + 1e-12, "fail_open: over by at most its own slice: \(spent)")
            } else {
                #expect(spent <= 0.01 + 1e-12, "fail_closed: never over: \(spent)")
            }
            try await database.start()
            // Back: the allowance it gave itself is recorded, and it is granted what is left.
            let back = try await SpendLedgerTests.awaitMetric(gateway, "brownout_budget_leases_up", 1)
            #expect(LiveGateway.metric("brownout_budget_leases_up", in: back) == 1)
            try await Self.drain([gateway])
            let total = try await GatewayFaultTests.spend(of: "batch", in: gateway)
            #expect(total <= 0.01 + (policy == "fail_open" ? 0.0025 : 0) + 1e-12, "in all: \(total)")
        }
        await database.remove()
    }
}

/// Rate limits shared by replicas through PostgreSQL: each replica counts the replicas alive
/// and enforces its share of every limit.
@Suite("brownout-gateway: rate limits shared across replicas", .serialized, .timeLimit(.minutes(5)))
struct RateShareLiveTests {
    @Test("two replicas each enforce half of a team's 600 a minute; one stopped, the other has all of it again")
    func halves() async throws {
        let database = try await ThrowawayPostgres()
        defer { Task { await database.remove() } }
        var replicas: [LiveGateway] = []
        for index in 1...2 {
            replicas.append(
                try await LiveGateway(
                    mocks: ["alpha": [], "beta": [], "local": []], spec: SpendLedgerTests.spec,
                    gatewayArguments: ["--set", "deployment.state.postgres.replica=gw-\(index)", "--set", "teams.search.rate_limit={rpm: 600}"],
                    gatewayEnvironment: [SpendLedgerTests.variable: database.url]))
        }
        for replica in replicas {
            let metrics = try await SpendLedgerTests.awaitMetric(replica, "brownout_replicas_alive", 2)
            #expect(LiveGateway.metric("brownout_replicas_alive", in: metrics) == 2)
        }
        // 600 a minute with a burst of one second: 10 at once for one gateway, 5 for each half.
        // 40 requests at once over both: 10 pass, and what refills (10 a second in all) while
        // they run; each replica on its own limit would pass 20 and its refills.
        let started = replicas
        let burstStart = ContinuousClock.now
        let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
            for index in 0..<40 { group.addTask { try await started[index % 2].chat().status } }
            return try await group.reduce(into: [Int]()) { $0.append($1) }
        }
        let refilled = 10 * Self.seconds(ContinuousClock.now - burstStart)
        let passed = statuses.filter { $0 == 200 }.count
        #expect(
            passed >= 8 && Double(passed) <= 11 + refilled,
            "two halves of 10: \(passed) passed, \(refilled) refilled meanwhile (each replica alone would pass 10)")
        #expect(statuses.allSatisfy { $0 == 200 || $0 == 429 })
        await replicas[1].stop()
        let alone = try await SpendLedgerTests.awaitMetric(replicas[0], "brownout_replicas_alive", 1)
        #expect(LiveGateway.metric("brownout_replicas_alive", in: alone) == 1, "the stopped replica is counted out")
        try await Task.sleep(for: .seconds(1.2))
        let aloneStart = ContinuousClock.now
        let again = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<20 { group.addTask { try await started[0].chat().status } }
            return try await group.reduce(into: [Int]()) { $0.append($1) }
        }
        let refilledAlone = 10 * Self.seconds(ContinuousClock.now - aloneStart)
        let passedAlone = again.filter { $0 == 200 }.count
        #expect(
            passedAlone >= 9 && Double(passedAlone) <= 11 + refilledAlone,
            "alone, the whole burst of 10: \(passedAlone), \(refilledAlone) refilled meanwhile")
        await replicas[0].stop()
        await database.remove()
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}
