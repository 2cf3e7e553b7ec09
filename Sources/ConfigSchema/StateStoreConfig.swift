import RoutingCore

/// Where a gateway keeps what outlives a request (`deployment.state`): `sqlite`, the default,
/// for one replica (budget spend saved in `spend_database`), or PostgreSQL, which a platform
/// team already runs, for replicas that share it:
///
///     state:
///       postgres:
///         url_env: BROWNOUT_DATABASE_URL   # postgres://user:password@host:5432/database
///         replica: gw-1                    # default: the host name (a Kubernetes pod's name)
///         spool: brownout-spool.sqlite     # rows waiting for the database
///         flush_interval_s: 1
///
/// With PostgreSQL every settled request is a row of the spend ledger (``PostgresState``).
public enum StateStoreConfig: Sendable, Equatable {
    case sqlite
    case postgres(PostgresState)

    /// The spend ledger's database and how rows reach it: each settled request's row is
    /// appended in memory under the router's lock, written to the local spool (SQLite) every
    /// `spoolIntervalSeconds` and shipped from there to PostgreSQL in batches every
    /// `flushIntervalSeconds`; a row leaves the spool only once the database has committed it,
    /// and the database keeps one row per (replica, request, part) whatever is shipped twice.
    public struct PostgresState: Sendable, Equatable {
        /// The environment variable holding the database's URL
        /// (`postgres://user:password@host:port/database?sslmode=disable|require`).
        public var urlEnvironmentVariable: String
        /// This replica's name in the ledger (nil: the host name).
        public var replica: String?
        /// The SQLite file rows wait in until the database has them.
        public var spoolPath = "brownout-spool.sqlite"
        public var flushIntervalSeconds = 1.0
        public var spoolIntervalSeconds = 0.2
        /// Budgets shared by the replicas: the slice of a budget's limit a replica asks for at
        /// a time (`lease_fraction`), asked again once less than half a slice is left.
        public var leaseFraction = 0.1
        /// How often a replica looks at what it holds of each budget (`lease_interval_s`).
        public var leaseIntervalSeconds = 0.05
    }

    enum Kind: String, CaseIterable { case sqlite }

    enum CodingKeys: String, CodingKey, CaseIterable { case postgres }

    enum PostgresKeys: String, CodingKey, CaseIterable {
        case urlEnvironmentVariable = "url_env", replica, spool
        case flushInterval = "flush_interval_s", spoolInterval = "spool_interval_s"
        case leaseFraction = "lease_fraction", leaseInterval = "lease_interval_s"
    }
}

extension StateStoreConfig: Decodable {
    public init(from decoder: any Decoder) throws {
        if let kind = try? decoder.singleValueContainer().decode(String.self) {
            guard Kind(rawValue: kind) != nil else {
                throw DecodingError.dataCorrupted(
                    .init(
                        codingPath: decoder.codingPath,
                        debugDescription: ConfigChoice.invalid(kind, valid: ["sqlite"]) + ", or a map {postgres: {url_env, …}}"))
            }
            self = .sqlite
            return
        }
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let p = try c.nestedContainer(keyedBy: PostgresKeys.self, forKey: .postgres)
        let variable = try p.decode(String.self, forKey: .urlEnvironmentVariable)
        guard !variable.isEmpty else {
            throw DecodingError.dataCorruptedError(
                forKey: .urlEnvironmentVariable, in: p, debugDescription: "must name the environment variable holding the database's URL")
        }
        var state = PostgresState(urlEnvironmentVariable: variable)
        state.replica = try p.decodeIfPresent(String.self, forKey: .replica)
        if let replica = state.replica, replica.isEmpty || replica.count > 128 {
            throw DecodingError.dataCorruptedError(forKey: .replica, in: p, debugDescription: "must be 1 to 128 characters, got '\(replica)'")
        }
        state.spoolPath = try p.decode(.spool, default: state.spoolPath)
        state.flushIntervalSeconds = try p.number(.flushInterval, default: state.flushIntervalSeconds, above: 0, atMost: 3_600)
        state.spoolIntervalSeconds = try p.number(.spoolInterval, default: state.spoolIntervalSeconds, above: 0, atMost: 60)
        state.leaseFraction = try p.number(.leaseFraction, default: state.leaseFraction, above: 0, atMost: 1)
        state.leaseIntervalSeconds = try p.number(.leaseInterval, default: state.leaseIntervalSeconds, above: 0, atMost: 60)
        self = .postgres(state)
    }
}
