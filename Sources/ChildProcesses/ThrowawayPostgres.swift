import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A PostgreSQL cluster of its own for one test or one twin run: `initdb` in a temporary
/// folder, the server (`postgres`, in the foreground, as a child) on a free loopback port, trust
/// authentication for the `postgres` user on loopback. Run as the `postgres` user when the
/// tests run as root (PostgreSQL refuses root). Stopped by its process id; ``stop()`` and
/// ``start()`` again on the same data, to take the database away from a gateway and give it back.
public final class ThrowawayPostgres: @unchecked Sendable {
    public let port: Int
    public let directory: URL
    private let binaries: URL
    private var server: ChildProcess?

    /// The URL a gateway is given (`postgres` database, user `postgres`, no TLS).
    public var url: String { "postgres://postgres@127.0.0.1:\(port)/postgres?sslmode=disable" }

    /// Where Debian's PostgreSQL is (`/usr/lib/postgresql/VERSION/bin`, the newest), or nil.
    public static var installed: URL? {
        let root = URL(fileURLWithPath: "/usr/lib/postgresql")
        let versions = ((try? FileManager.default.contentsOfDirectory(atPath: root.path)) ?? []).compactMap(Int.init).sorted()
        return versions.reversed().map { root.appendingPathComponent("\($0)/bin") }
            .first { FileManager.default.isExecutableFile(atPath: $0.appendingPathComponent("postgres").path) }
    }

    public init() async throws {
        guard let binaries = Self.installed else {
            throw ChildProcessFailure(
                "PostgreSQL is not installed (/usr/lib/postgresql/*/bin/postgres): install Debian's postgresql (make deps does)")
        }
        self.binaries = binaries
        directory = URL(fileURLWithPath: "/tmp").appendingPathComponent("brownout-pg-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        if getuid() == 0 {
            let chown = try await ChildProcess.run(URL(fileURLWithPath: "/bin/chown"), ["-R", "postgres:postgres", directory.path])
            guard chown.status == 0 else { throw ChildProcessFailure("chown: \(chown.stderr)") }
        }
        port = try HeldPort.free()
        let initdb = try await Self.run(
            binaries.appendingPathComponent("initdb"),
            ["-D", directory.appendingPathComponent("data").path, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"])
        guard initdb.status == 0 else {
            try? FileManager.default.removeItem(at: directory)
            throw ChildProcessFailure("initdb failed: \(initdb.stdout)\(initdb.stderr)")
        }
        try await start()
    }

    /// Starts the server on the cluster's data and port; returns once it accepts connections.
    public func start() async throws {
        let (executable, arguments) = Self.asPostgresUser(
            binaries.appendingPathComponent("postgres"),
            [
                "-D", directory.appendingPathComponent("data").path, "-p", String(port), "-k", directory.path,
                "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
            ])
        let server = try ChildProcess(executable, arguments, mergingErrors: true)
        self.server = server
        let deadline = ContinuousClock.now + .seconds(30)
        while !server.output.contains("ready to accept connections") {
            guard server.isRunning else { throw ChildProcessFailure("postgres exited: \(server.output)") }
            guard ContinuousClock.now < deadline else {
                await server.killAndReap()
                throw ChildProcessFailure("postgres did not accept connections within 30 s: \(server.output)")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    /// Stops the server (a fast shutdown: SIGINT) and waits for it to exit.
    public func stop() async {
        guard let server else { return }
        kill(server.processIdentifier, SIGINT)
        _ = try? await server.exit(within: .seconds(30))
        self.server = nil
    }

    /// Runs SQL with psql; returns its output (unaligned, tuples only).
    public func query(_ sql: String) async throws -> String {
        let result = try await ChildProcess.run(
            binaries.appendingPathComponent("psql"),
            ["-h", "127.0.0.1", "-p", String(port), "-U", "postgres", "-d", "postgres", "-At", "-v", "ON_ERROR_STOP=1", "-c", sql])
        guard result.status == 0 else { throw ChildProcessFailure("psql: \(result.stderr)") }
        return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// The rows of `select` as CSV with a header (psql's `\copy (…) TO STDOUT`), as a platform
    /// team exports a table.
    public func csv(_ select: String) async throws -> String {
        let result = try await ChildProcess.run(
            binaries.appendingPathComponent("psql"),
            [
                "-h", "127.0.0.1", "-p", String(port), "-U", "postgres", "-d", "postgres", "-v", "ON_ERROR_STOP=1", "-c",
                "\\copy (\(select)) TO STDOUT WITH (FORMAT csv, HEADER)",
            ])
        guard result.status == 0 else { throw ChildProcessFailure("psql: \(result.stderr)") }
        return result.stdout
    }

    /// Stops the server and removes the cluster.
    public func remove() async {
        await stop()
        try? FileManager.default.removeItem(at: directory)
    }

    deinit {
        if let server { kill(server.processIdentifier, SIGKILL) }
    }

    /// `executable` run as the `postgres` user when this process is root (setpriv replaces
    /// itself with it: the child's process id is the server's).
    private static func asPostgresUser(_ executable: URL, _ arguments: [String]) -> (URL, [String]) {
        guard getuid() == 0 else { return (executable, arguments) }
        return (
            URL(fileURLWithPath: "/usr/bin/setpriv"),
            ["--reuid=postgres", "--regid=postgres", "--init-groups", "--reset-env", executable.path] + arguments
        )
    }

    private static func run(_ executable: URL, _ arguments: [String]) async throws -> ChildOutput {
        let (command, all) = asPostgresUser(executable, arguments)
        return try await ChildProcess.run(command, all, currentDirectory: URL(fileURLWithPath: "/tmp"), within: .seconds(120))
    }
}
