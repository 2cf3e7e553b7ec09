import Logging
import NIOCore
import PostgresNIO
import RoutingCore
import Synchronization

/// The spend ledger's table in PostgreSQL, `brownout_spend_ledger`: one row per settled
/// request part, keyed by (replica, boot, request_id, part) so that a batch shipped twice is
/// stored once. One connection, opened when needed and again after a failure; every query
/// bounded in time. Used by ``LedgerShipper`` alone, never on a request's path.
actor PostgresLedger {
    static let table = "brownout_spend_ledger"

    private let configuration: PostgresConnection.Configuration
    private let replica: String
    private let logger: Logger
    private let metrics: GatewayMetrics
    private var connection: PostgresConnection?
    private var nextConnectionID = 1
    /// The longest a connection attempt or a query may take before the database counts as down.
    static let limit = Duration.seconds(5)

    init(url: DatabaseURL, replica: String, metrics: GatewayMetrics) throws {
        self.configuration = try url.connectionConfiguration()
        self.replica = replica
        self.metrics = metrics
        var logger = Logger(label: "brownout-gateway.ledger")
        logger.logLevel = .critical
        self.logger = logger
    }

    /// Stores `rows` in one statement (rows already there are left as they are).
    func insert(_ rows: [SpendLedgerRow]) async throws {
        guard !rows.isEmpty else { return }
        let connection = try await connected()
        let replica = self.replica
        let query: PostgresQuery = """
            INSERT INTO brownout_spend_ledger (settled_at, replica, boot, request_id, part, team, api_key, route, upstream, outcome,
                attempts, input_tokens, output_tokens, successful_usd, retried_usd, wasted_usd, fallback_gpu_seconds, fallback_usd,
                bypass_usd, degraded)
            SELECT to_timestamp(r.t / 1e9), \(replica), r.b, r.id, r.p, NULLIF(r.tm, ''), NULLIF(r.k, ''), r.rt, NULLIF(r.u, ''), r.o,
                r.a, r.i, r.out, r.s, r.re, r.w, r.g, r.f, r.by, r.d
            FROM unnest(\(rows.map(\.settledUnixNanoseconds))::bigint[], \(rows.map(\.boot))::bigint[], \(rows.map(\.requestID))::bigint[],
                \(rows.map(\.part))::smallint[], \(rows.map { $0.team ?? "" })::text[], \(rows.map { $0.key ?? "" })::text[],
                \(rows.map(\.route))::text[], \(rows.map { $0.upstream ?? "" })::text[], \(rows.map(\.outcome))::text[],
                \(rows.map(\.attempts))::integer[], \(rows.map(\.inputTokens))::integer[], \(rows.map(\.outputTokens))::integer[],
                \(rows.map(\.spend.successfulUSD))::float8[], \(rows.map(\.spend.retriedUSD))::float8[], \(rows.map(\.spend.wastedUSD))::float8[],
                \(rows.map(\.spend.fallbackGPUSeconds))::float8[], \(rows.map(\.spend.fallbackUSD))::float8[],
                \(rows.map(\.spend.bypassUSD))::float8[], \(rows.map(\.degraded))::boolean[])
                AS r(t, b, id, p, tm, k, rt, u, o, a, i, out, s, re, w, g, f, by, d)
            ON CONFLICT (replica, boot, request_id, part) DO NOTHING
            """
        let logger = self.logger
        try await bounded(connection) { try await Self.run(query, on: connection, logger: logger) }
    }

    /// Opens a connection unless one is open (and makes the table): whether the database
    /// answers, also when there is nothing to ship.
    func ensureConnected() async throws {
        _ = try await connected()
    }

    /// The open connection, or a new one with the table made (once per connection: `IF NOT
    /// EXISTS`, and a replica that loses the race to make it reads it made).
    private func connected() async throws -> PostgresConnection {
        if let connection, !connection.isClosed { return connection }
        connection = nil
        let id = nextConnectionID
        nextConnectionID += 1
        let configuration = self.configuration, logger = self.logger
        let made = try await Self.within(Self.limit) {
            try await PostgresConnection.connect(configuration: configuration, id: id, logger: logger)
        }
        metrics.ledgerRoundTrip()
        do {
            for statement in Self.schema {
                try await bounded(made) { try await Self.run(PostgresQuery(unsafeSQL: statement), on: made, logger: logger) }
            }
        } catch let error as PSQLError where error.serverInfo?[.sqlState] == "23505" || error.serverInfo?[.sqlState] == "42P07" {
            // Another replica made the table at the same moment: it is there.
        }
        connection = made
        return made
    }

    static let schema = [
        """
        CREATE TABLE IF NOT EXISTS brownout_spend_ledger (
            settled_at timestamptz NOT NULL,
            replica text NOT NULL, boot bigint NOT NULL, request_id bigint NOT NULL, part smallint NOT NULL,
            team text, api_key text, route text NOT NULL, upstream text, outcome text NOT NULL,
            attempts integer NOT NULL, input_tokens integer NOT NULL, output_tokens integer NOT NULL,
            successful_usd double precision NOT NULL, retried_usd double precision NOT NULL, wasted_usd double precision NOT NULL,
            fallback_gpu_seconds double precision NOT NULL, fallback_usd double precision NOT NULL, bypass_usd double precision NOT NULL,
            degraded boolean NOT NULL,
            PRIMARY KEY (replica, boot, request_id, part))
        """,
        "CREATE INDEX IF NOT EXISTS brownout_spend_ledger_team_time ON brownout_spend_ledger (team, settled_at)",
    ]

    /// `body` on `connection`, counted as a round trip, within ``limit``; a query that fails or
    /// runs out of time closes the connection (the next call opens another).
    private func bounded(_ connection: PostgresConnection, _ body: @escaping @Sendable () async throws -> Void) async throws {
        metrics.ledgerRoundTrip()
        do {
            _ = try await Self.within(Self.limit, body)
        } catch {
            try? await connection.close()
            if self.connection === connection { self.connection = nil }
            throw error
        }
    }

    /// Runs `query` to its end (its rows read, so that its completion, or its error, is seen).
    private static func run(_ query: PostgresQuery, on connection: PostgresConnection, logger: Logger) async throws {
        let rows = try await connection.query(query, logger: logger)
        for try await _ in rows {}
    }

    /// At shutdown.
    func close() async {
        try? await connection?.close()
        connection = nil
    }

    /// `body`'s result, or ``DatabaseTimeout`` after `limit`: then `body` is cancelled and not
    /// waited for (a connection attempt that ignores cancellation must not hold up the ledger).
    static func within<T: Sendable>(_ limit: Duration, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
        let first = FirstResult<T>()
        return try await withCheckedThrowingContinuation { continuation in
            first.wait(continuation)
            let work = Task {
                do {
                    first.resume(with: .success(try await body()))
                } catch {
                    first.resume(with: .failure(error))
                }
            }
            let timer = Task {
                try? await Task.sleep(for: limit)
                if first.resume(with: .failure(DatabaseTimeout(limit: limit))) { work.cancel() }
            }
            first.onResume { timer.cancel() }
        }
    }
}

/// Whichever of a body and its timer finishes first resumes the waiter; the other is ignored.
private final class FirstResult<T: Sendable>: Sendable {
    private let state = Mutex<(continuation: CheckedContinuation<T, any Error>?, done: Bool, onResume: (@Sendable () -> Void)?)>((nil, false, nil))

    func wait(_ continuation: CheckedContinuation<T, any Error>) { state.withLock { $0.continuation = continuation } }

    /// Runs `action` once the waiter is resumed (at once if it already is).
    func onResume(_ action: @escaping @Sendable () -> Void) {
        let now = state.withLock { state -> Bool in
            if state.done { return true }
            state.onResume = action
            return false
        }
        if now { action() }
    }

    /// Resumes the waiter with `result` unless it was resumed already; says whether it did.
    @discardableResult
    func resume(with result: Result<T, any Error>) -> Bool {
        let taken = state.withLock { state -> (CheckedContinuation<T, any Error>, (@Sendable () -> Void)?)? in
            guard !state.done, let continuation = state.continuation else { return nil }
            state.done = true
            state.continuation = nil
            defer { state.onResume = nil }
            return (continuation, state.onResume)
        }
        guard let (continuation, action) = taken else { return false }
        continuation.resume(with: result)
        action?()
        return true
    }
}

/// The database did not answer within the limit.
struct DatabaseTimeout: Error, CustomStringConvertible {
    let limit: Duration
    var description: String { "no answer within \(limit)" }
}
