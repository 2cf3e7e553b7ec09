import Logging
import PostgresNIO
import Synchronization

/// One connection to the database a gateway keeps its state in, for one of its services (the
/// spend ledger, the budgets' slices, the replicas' count): opened when needed — its tables
/// made then, `IF NOT EXISTS`, a replica that loses the race to make one reading it made — and
/// again after a failure; every statement bounded in time (``limit``) and counted by
/// `roundTrip`. Never used on a request's path.
actor PostgresSession {
    /// The longest a connection attempt or a statement may take before the database counts as down.
    static let limit = Duration.seconds(5)

    private let configuration: PostgresConnection.Configuration
    private let schema: [String]
    private let roundTrip: @Sendable () -> Void
    let logger: Logger
    private var connection: PostgresConnection?
    private var nextConnectionID = 1

    init(url: DatabaseURL, label: String, schema: [String], roundTrip: @escaping @Sendable () -> Void = {}) throws {
        self.configuration = try url.connectionConfiguration()
        self.schema = schema
        self.roundTrip = roundTrip
        var logger = Logger(label: label)
        logger.logLevel = .critical
        self.logger = logger
    }

    /// `body` on the connection (opened first if need be), counted as `statements` round trips,
    /// within ``limit``; one that fails or runs out of time closes the connection (the next use
    /// opens another).
    func use<T: Sendable>(statements: Int = 1, _ body: @escaping @Sendable (PostgresConnection, Logger) async throws -> T) async throws -> T {
        let connection = try await connected()
        for _ in 0..<statements { roundTrip() }
        return try await bounded(connection) { try await body(connection, self.logger) }
    }

    /// Runs `query` to its end (its rows read, so that its completion, or its error, is seen).
    static func run(_ query: PostgresQuery, on connection: PostgresConnection, logger: Logger) async throws {
        let rows = try await connection.query(query, logger: logger)
        for try await _ in rows {}
    }

    func close() async {
        try? await connection?.close()
        connection = nil
    }

    private func connected() async throws -> PostgresConnection {
        if let connection, !connection.isClosed { return connection }
        connection = nil
        let id = nextConnectionID
        nextConnectionID += 1
        let configuration = self.configuration, logger = self.logger
        let made = try await Self.within(Self.limit) {
            try await PostgresConnection.connect(configuration: configuration, id: id, logger: logger)
        }
        roundTrip()
        do {
            for statement in schema {
                roundTrip()
                do {
                    try await Self.within(Self.limit) { try await Self.run(PostgresQuery(unsafeSQL: statement), on: made, logger: logger) }
                } catch let error as PSQLError where error.serverInfo?[.sqlState] == "23505" || error.serverInfo?[.sqlState] == "42P07" {
                    // Another replica made the table (or index) at the same moment: it is there,
                    // and this connection, whose statement failed on its own, goes on.
                }
            }
        } catch {
            try? await made.close()
            throw error
        }
        connection = made
        return made
    }

    private func bounded<T: Sendable>(_ connection: PostgresConnection, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
        do {
            return try await Self.within(Self.limit, body)
        } catch {
            try? await connection.close()
            if self.connection === connection { self.connection = nil }
            throw error
        }
    }

    /// `body`'s result, or ``DatabaseTimeout`` after `limit`: then `body` is cancelled and not
    /// waited for (a connection attempt that ignores cancellation must not hold up its service).
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
