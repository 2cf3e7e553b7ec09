import Logging
import PostgresNIO
import RoutingCore

/// The spend ledger's table in PostgreSQL, `brownout_spend_ledger`: one row per settled
/// request part, keyed by (replica, boot, request_id, part) so that a batch shipped twice is
/// stored once. Its own connection (``PostgresSession``), every statement counted in
/// `brownout_ledger_database_round_trips_total`. Used by ``LedgerShipper`` alone, never on a
/// request's path.
actor PostgresLedger {
    static let table = "brownout_spend_ledger"

    private let session: PostgresSession
    private let replica: String

    init(url: DatabaseURL, replica: String, metrics: GatewayMetrics) throws {
        self.session = try PostgresSession(
            url: url, label: "brownout-gateway.ledger", schema: Self.schema, roundTrip: { metrics.ledgerRoundTrip() })
        self.replica = replica
    }

    /// Stores `rows` in one statement (rows already there are left as they are).
    func insert(_ rows: [SpendLedgerRow]) async throws {
        guard !rows.isEmpty else { return }
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
        try await session.use { connection, logger in try await PostgresSession.run(query, on: connection, logger: logger) }
    }

    /// Opens a connection unless one is open (and makes the table): whether the database
    /// answers, also when there is nothing to ship.
    func ensureConnected() async throws {
        try await session.use(statements: 0) { _, _ in }
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

    /// At shutdown.
    func close() async {
        await session.close()
    }
}
