import ArgumentParser
import ConfigSchema
import Foundation
import GatewayServer
import Logging
import NIOCore
import NIOPosix

/// `brownout-gateway SPEC`: serves the routes of the spec a team simulated, on real traffic,
/// with the same RoutingCore, configured by the spec's `deployment` section.
@main
struct GatewayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "brownout-gateway",
        abstract: "An LLM gateway (OpenAI chat completions and Anthropic Messages) that routes with RoutingCore, configured by a Brownout spec.",
        discussion:
            "Prints 'listening on HOST:PORT' once it accepts connections. SIGTERM or SIGINT: stops accepting, lets requests in flight finish, saves spend."
    )

    @Argument(help: "The spec (YAML or JSON) with a deployment section.")
    var spec: String

    @Option(name: .customLong("set"), help: "Override a value, path=value (repeatable), e.g. deployment.listen=127.0.0.1:0.")
    var overrides: [String] = []

    @Option(help: ArgumentHelp("Write a trace of every router call to DIR/trace.jsonl, for 'brownout replay DIR --spec SPEC'.", valueName: "DIR"))
    var record: String?

    @Option(help: "Seed the router's randomness (default: a random seed, printed at start).")
    var seed: UInt64?

    @Option(
        help: ArgumentHelp(
            "Run the router's clock N times faster than real time: timeouts, backoffs and breaker windows last 1/N of their configured length (for 'brownout twin'; 1 in production).",
            valueName: "N"))
    var timeScale: Int64 = 1

    @Option(
        help: ArgumentHelp(
            "The wall-clock instant the router's clock reads zero, in Unix nanoseconds (default: the gateway's start; for 'brownout twin').",
            valueName: "NS"))
    var clockStartUnixNs: Int64?

    @Option(
        help: ArgumentHelp(
            "The calendar time the router's clock starts at, in Unix seconds: budget periods follow it (default: the real time; for 'brownout twin').",
            valueName: "SECONDS"))
    var calendarStartUnixS: Double?

    @Option(
        help: ArgumentHelp(
            "The least severe log message written: trace, debug, info, notice, warning, error or critical (default: $BROWNOUT_LOG_LEVEL, else warning).",
            valueName: "LEVEL"))
    var logLevel: String?

    func validate() throws {
        guard timeScale >= 1 else { throw ValidationError("--time-scale must be an integer ≥ 1, got \(timeScale)") }
        _ = try resolvedLogLevel()
    }

    /// `--log-level`, else `BROWNOUT_LOG_LEVEL`, else warning; a name that is no level is an error naming where it came from.
    func resolvedLogLevel() throws -> Logger.Level {
        let environment = ProcessInfo.processInfo.environment["BROWNOUT_LOG_LEVEL"].flatMap { $0.isEmpty ? nil : $0 }
        guard let (name, source) = logLevel.map({ ($0, "--log-level") }) ?? environment.map({ ($0, "BROWNOUT_LOG_LEVEL") }) else { return .warning }
        guard let level = Logger.Level(rawValue: name.lowercased()) else {
            throw ValidationError(
                "\(source): '\(name)' is not a log level; levels are " + Logger.Level.allCases.map(\.rawValue).joined(separator: ", "))
        }
        return level
    }

    /// Swift concurrency's jobs run on NIO's event loops, the threads that do the I/O, so a
    /// request's task, its upstream call and its response do not hop between two thread
    /// pools. Installed first, before the command starts any task of its own.
    ///
    /// One event loop per core the process may run on: NIO counts the machine's cores (and a
    /// cgroup's quota) but not the CPU affinity, so a gateway pinned to one core (`taskset`)
    /// would run two loops on it and hop between them on every request. An explicit
    /// `NIO_SINGLETON_GROUP_LOOP_COUNT` wins.
    static func main() async {
        if ProcessInfo.processInfo.environment["NIO_SINGLETON_GROUP_LOOP_COUNT"] == nil, let cores = usableCores, cores < System.coreCount {
            NIOSingletons.groupLoopCountSuggestion = cores
        }
        NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
        await main(nil)
    }

    /// The cores this process may run on (its CPU affinity: `Cpus_allowed_list` in
    /// /proc/self/status, e.g. `0-3,6`), where the system says.
    static var usableCores: Int? {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("Cpus_allowed_list:") })
        else { return nil }
        var count = 0
        for range in line.dropFirst("Cpus_allowed_list:".count).trimmingCharacters(in: .whitespaces).split(separator: ",") {
            let bounds = range.split(separator: "-").compactMap { Int($0) }
            guard let low = bounds.first, let high = bounds.last, high >= low else { return nil }
            count += high - low + 1
        }
        return count > 0 ? count : nil
    }

    func run() async throws {
        let loaded: GatewaySpec
        do {
            loaded = try GatewaySpec.load(path: spec, overrides: overrides, environment: ProcessInfo.processInfo.environment)
        } catch {
            throw ValidationError(error.description)
        }
        try await GatewayServer.serve(
            loaded, seed: seed, recordDirectory: record,
            routerTime: RouterTime(
                factor: timeScale, startUnixNanoseconds: clockStartUnixNs,
                calendarUnixNanosecondsAtZero: calendarStartUnixS.map { Int64(($0 * 1e9).rounded()) }),
            logLevel: try resolvedLogLevel())
    }
}
