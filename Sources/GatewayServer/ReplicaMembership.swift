import Foundation
import Logging
import PostgresNIO
import ServiceLifecycle

/// The replicas alive, for rate limits they share (with `deployment.state: postgres` and a
/// rate limit in the spec), a service of the gateway's group: every second each replica marks
/// itself alive in `brownout_replicas` and counts the replicas marked alive in the last five
/// seconds; with N of them, it enforces 1/N of every rate limit (a team's, a route's, a
/// provider's), told to its router (``RoutingCore/Router/setRateShare(_:)``, a `rate_share` line
/// of the trace). A replica that stops removes its mark; one that dies is counted out five
/// seconds after its last mark. The database down: the share stays as it was.
actor ReplicaMembership: Service {
    private let configuration: PostgresConnection.Configuration
    private let replica: String
    private let boot: Int64
    private let core: GatewayCore
    private let logger: Logger
    private var connection: PostgresConnection?
    private var nextConnectionID = 1
    private var alive = 1
    /// How often a replica marks itself alive, and how long a mark counts.
    static let interval = Duration.seconds(1)
    static let counts = 5

    init(url: DatabaseURL, replica: String, boot: Int64, core: GatewayCore) throws {
        self.configuration = try url.connectionConfiguration()
        self.replica = replica
        self.boot = boot
        self.core = core
        var logger = Logger(label: "brownout-gateway.replicas")
        logger.logLevel = .critical
        self.logger = logger
    }

    func run() async throws {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            await beat()
            do {
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: Self.interval) }
            } catch {
                break
            }
        }
        // Stopping: no longer counted by the others.
        if let connection = try? await connected() {
            let boot = self.boot, logger = self.logger
            _ = try? await PostgresLedger.within(PostgresLedger.limit) {
                try await Self.run("DELETE FROM brownout_replicas WHERE boot = \(boot)", on: connection, logger: logger)
            }
            try? await connection.close()
        }
    }

    /// Marks this replica alive and counts the replicas alive; a new count is a new share.
    func beat() async {
        do {
            let connection = try await connected()
            let boot = self.boot, replica = self.replica, logger = self.logger
            let count = try await PostgresLedger.within(PostgresLedger.limit) { () -> Int in
                try await Self.run(
                    """
                    INSERT INTO brownout_replicas (boot, replica, seen_at) VALUES (\(boot), \(replica), now())
                    ON CONFLICT (boot) DO UPDATE SET seen_at = EXCLUDED.seen_at
                    """, on: connection, logger: logger)
                let rows = try await connection.query(
                    "SELECT count(*) FROM brownout_replicas WHERE seen_at > now() - make_interval(secs => \(Self.counts))", logger: logger)
                var count = 1
                for try await row in rows { count = Int(try row.decode(Int64.self)) }
                return count
            }
            let replicas = max(1, count)
            if replicas != alive {
                alive = replicas
                core.metrics.replicas(alive: replicas)
                core.conduct { $0.rateShareChanged(1 / Double(replicas)) }
            }
        } catch {
            try? await connection?.close()
            connection = nil
        }
    }

    private func connected() async throws -> PostgresConnection {
        if let connection, !connection.isClosed { return connection }
        let id = nextConnectionID
        nextConnectionID += 1
        let configuration = self.configuration, logger = self.logger
        let made = try await PostgresLedger.within(PostgresLedger.limit) {
            try await PostgresConnection.connect(configuration: configuration, id: id, logger: logger)
        }
        do {
            _ = try await PostgresLedger.within(PostgresLedger.limit) {
                try await Self.run(
                    "CREATE TABLE IF NOT EXISTS brownout_replicas (boot bigint PRIMARY KEY, replica text NOT NULL, seen_at timestamptz NOT NULL)",
                    on: made, logger: logger)
            }
        } catch let error as PSQLError where error.serverInfo?[.sqlState] == "23505" || error.serverInfo?[.sqlState] == "42P07" {
            // Another replica made the table at the same moment: it is there.
        }
        connection = made
        return made
    }

    private static func run(_ query: PostgresQuery, on connection: PostgresConnection, logger: Logger) async throws {
        let rows = try await connection.query(query, logger: logger)
        for try await _ in rows {}
    }
}
