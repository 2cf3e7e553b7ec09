import GatewayConduct
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
    private let session: PostgresSession
    private let replica: String
    private let boot: Int64
    private let core: GatewayCore
    private var alive = 1
    /// How often a replica marks itself alive, and how long a mark counts (seconds): the
    /// simulated replicas' too.
    static let interval = Duration.seconds(ReplicaCounting.beatSeconds)
    static let counts = ReplicaCounting.windowSeconds

    init(url: DatabaseURL, replica: String, boot: Int64, core: GatewayCore) throws {
        self.session = try PostgresSession(
            url: url, label: "brownout-gateway.replicas",
            schema: ["CREATE TABLE IF NOT EXISTS brownout_replicas (boot bigint PRIMARY KEY, replica text NOT NULL, seen_at timestamptz NOT NULL)"])
        self.replica = replica
        self.boot = boot
        self.core = core
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
        let boot = self.boot
        _ = try? await session.use { connection, logger in
            try await PostgresSession.run("DELETE FROM brownout_replicas WHERE boot = \(boot)", on: connection, logger: logger)
        }
        await session.close()
    }

    /// Marks this replica alive and counts the replicas alive; a new count is a new share.
    func beat() async {
        let boot = self.boot, replica = self.replica
        guard
            let count = try? await session.use(
                statements: 2,
                { connection, logger -> Int in
                    try await PostgresSession.run(
                        """
                        INSERT INTO brownout_replicas (boot, replica, seen_at) VALUES (\(boot), \(replica), now())
                        ON CONFLICT (boot) DO UPDATE SET seen_at = EXCLUDED.seen_at
                        """, on: connection, logger: logger)
                    let rows = try await connection.query(
                        "SELECT count(*) FROM brownout_replicas WHERE seen_at > now() - make_interval(secs => \(Self.counts))", logger: logger)
                    var count = 1
                    for try await row in rows { count = Int(try row.decode(Int64.self)) }
                    return count
                })
        else { return }
        let replicas = max(1, count)
        guard replicas != alive else { return }
        alive = replicas
        core.metrics.replicas(alive: replicas)
        core.conduct { $0.rateShareChanged(1 / Double(replicas)) }
    }
}
