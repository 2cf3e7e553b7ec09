import ChildProcesses
@testable import GatewayServer
import PostgresNIO
import Testing

/// A gateway service's connection to the database, against a throwaway cluster: a replica that
/// loses the race to make a table (another made it between its `IF NOT EXISTS` check and its
/// own) keeps its connection, makes the rest of the schema and answers at once. It used to
/// close the connection and run its first statement on it, which waited out the five-second
/// limit: two twin replicas starting together held one of them back that long.
@Suite("brownout-gateway: a database session", .serialized, .timeLimit(.minutes(2)))
struct PostgresSessionTests {
    @Test("a schema statement that finds its table already made does not cost the connection, nor the statements after it")
    func raceLost() async throws {
        let database = try await ThrowawayPostgres()
        defer { Task { await database.remove() } }
        guard case .success(let url) = DatabaseURL.parse(database.url) else {
            Issue.record("the throwaway cluster's URL does not parse: \(database.url)")
            return
        }
        // The second statement fails as a lost race does (42P07: the table exists).
        let session = try PostgresSession(
            url: url, label: "test",
            schema: ["CREATE TABLE made_first (a int)", "CREATE TABLE made_first (a int)", "CREATE TABLE made_after (b int)"])
        let rows = try await session.use { connection, logger -> Int in
            var count = -1
            for try await row in try await connection.query("SELECT count(*) FROM made_after", logger: logger) {
                count = Int(try row.decode(Int64.self))
            }
            return count
        }
        #expect(rows == 0, "the statement after the lost race made its table, and the connection answered")
        await session.close()
    }
}
