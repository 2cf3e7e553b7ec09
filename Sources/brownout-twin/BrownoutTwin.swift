import ArgumentParser
import CommandLineSupport
import Foundation
import NIOCore
import NIOPosix
import Twin

/// `brownout twin SPEC --scale N`: the live system against the simulator on one spec. Its own
/// executable, `brownout-twin`, which `brownout twin` runs (as git runs its subcommands): the
/// twin drives the gateway over HTTP and serves the spec's upstreams, so it links the server
/// stack, which the simulator's own commands do not need and a planner should not wait to build.
@main
struct BrownoutTwin: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "brownout twin",
        abstract: "The live twin: the spec run live on loopback and compared with the simulator.",
        subcommands: [TwinCompareCommand.self, TwinUpstreamsCommand.self],
        defaultSubcommand: TwinCompareCommand.self
    )

    /// The upstreams' server runs Swift concurrency's jobs on NIO's event loops, as the gateway
    /// does: a request's handler, its timers and its I/O stay on one thread instead of hopping
    /// between NIO's threads and the default executor's (which cost half the server's CPU in
    /// context switches under a twin's load). Installed before the command starts any task.
    static func main() async {
        if CommandLine.arguments.dropFirst().first == TwinUpstreamsCommand.configuration.commandName {
            NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
        }
        await main(nil)
    }
}

/// `brownout twin SPEC`: the comparison (the default subcommand).
struct TwinCompareCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare",
        abstract: "Run the spec live (mock providers, the real gateway, a load generator, in scaled time) and compare it with the simulator.",
        discussion: """
            Starts the spec's upstreams (brownout-twin upstreams, following one replication's health history) and \
            brownout-gateway (its router clock scaled alike; one per replica with gateway.replicas above 1, sharing \
            their state through a PostgreSQL cluster the twin starts) on loopback, sends the teams' requests, then simulates \
            the spec conditioned on the same health history and the same requests. Writes OUT/twin.csv: per team \
            and metric, the simulator's mean and 95% prediction interval for one run, the live value, and whether \
            it lies inside; and OUT/live-failures.csv, each live request that failed after the warm-up. \
            The live run takes the spec's duration divided by --scale; the machine must keep up with the spec's \
            request rate times the scale (the lateness line says whether it did). See docs/parity.md.
            """
    )

    @OptionGroup var options: SpecOptions

    @Option(help: "Model time runs N times faster than real time (180: six hours in two minutes).")
    var scale: Int64 = 60

    @Option(help: "The replication whose health history and requests the live run follows (and every simulated replication too).")
    var replication = 0

    @Option(help: "Simulated replications to compare with (at least 2; a prediction interval for one run wants many).")
    var replications = 20

    @Option(help: "Output directory (default: out/twin/<spec file name>).")
    var out: String?

    @OptionGroup var parallel: JobsOption

    func validate() throws {
        guard scale >= 1 else { throw ValidationError("--scale must be an integer ≥ 1, got \(scale)") }
        guard replication >= 0 else { throw ValidationError("--replication must be ≥ 0, got \(replication)") }
        if replications < 2 {
            throw ValidationError("--replications must be ≥ 2 (an interval needs two), got \(replications)")
        }
    }

    func run() async throws {
        let name = URL(fileURLWithPath: options.spec).deletingPathExtension().lastPathComponent
        let directory = URL(fileURLWithPath: out ?? "out/twin/\(name)")
        let executables = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        let bar = TwinProgress()
        let outcome: TwinRun.Outcome
        do {
            outcome = try await TwinRun.run(
                TwinRun.Settings(
                    specPath: options.spec, overrides: options.overrides, scale: scale, replication: replication,
                    simulatedReplications: replications, jobs: parallel.jobs, outDirectory: directory,
                    executables: executables),
                progress: bar.callback)
        } catch {
            bar.finish()
            throw CommandError("\(error)")
        }
        bar.finish()
        print(TwinSummary.text(outcome, scale: scale, directory: directory.path))
    }
}

/// The twin's phases on stderr, when it is a terminal.
final class TwinProgress: Sendable {
    private let isEnabled = isatty(STDERR_FILENO) != 0

    var callback: TwinRun.Progress? {
        guard isEnabled else { return nil }
        return { phase, fraction in
            let width = 30
            let filled = Int((Double(width) * fraction).rounded(.down))
            let bar = String(repeating: "#", count: filled) + String(repeating: " ", count: width - filled)
            FileHandle.standardError.write(Data("\r[\(bar)] \(phase) \(Int((fraction * 100).rounded()))% ".utf8))
        }
    }

    func finish() {
        guard isEnabled else { return }
        FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
    }
}
