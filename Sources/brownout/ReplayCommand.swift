import ArgumentParser
import CommandLineSupport
import ConfigSchema
import Experiments
import Foundation
import GatewaySim
import RoutingCore

/// `brownout replay DIR [--spec SPEC]`: drives the simulator's gateway through a trace that
/// `brownout-gateway --record DIR` wrote and checks that it makes every recorded decision.
struct ReplayCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Replay a gateway's recorded router trace through the simulator's gateway and compare every decision.",
        discussion: """
            Prints "N decisions, all identical", or the first divergence with both decisions and the \
            trace lines around it (exit status 1). See docs/parity.md.
            """
    )

    @Argument(help: ArgumentHelp("The directory brownout-gateway --record wrote (or its trace.jsonl).", valueName: "DIR"))
    var directory: String

    @Option(help: "The spec the gateway ran (with its deployment section; default: DIR/spec.yaml, which --record keeps).")
    var spec: String?

    @Option(name: .customLong("set"), help: ArgumentHelp("Override a spec field, as the gateway's --set did (repeatable).", valueName: "path=value"))
    var overrides: [String] = []

    func run() throws {
        let recording = RecordedTraceFiles(directory)
        let loaded: GatewaySpec
        let spec: String
        do {
            spec = try RecordedTraceFiles.spec(given: self.spec, for: [recording])
            loaded = try GatewaySpec.load(path: spec, overrides: overrides)
        } catch {
            throw CommandError("\(error)")
        }
        let path = recording.trace
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw CommandError("\(path): cannot read the trace (record one with brownout-gateway --record \(directory))")
        }
        let trace: (header: RouterTrace.Header, entries: [RouterTrace.Entry])
        do {
            trace = try RouterTrace.read(text, file: path, config: loaded.router)
        } catch {
            throw CommandError(error.description)
        }
        guard trace.header.configFingerprint == loaded.router.fingerprint else {
            throw CommandError(
                "\(path): recorded with a different routing config (fingerprint \(trace.header.configFingerprint); \(spec) has \(loaded.router.fingerprint))"
            )
        }
        let report = TraceReplay.run(config: loaded.router, header: trace.header, entries: trace.entries)
        guard let divergence = report.divergence else {
            print("\(report.decisions) decisions, all identical")
            return
        }
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        // Line numbers: the header is line 1, entry i is line i + 2.
        let line = divergence.index + 2
        var message =
            "\(path):\(line): decision \(divergence.decision + 1) of \(report.decisions) differs after \(divergence.decision) identical"
            + " (\(report.differing) differ in all)\n"
        message += "  recorded: \(divergence.recorded.jsonLine())\n"
        message += "  replayed: \(divergence.replayed.map { $0.jsonLine() } ?? "(no router call)")\n"
        message += "trace lines \(max(2, line - 3))–\(min(lines.count, line + 2)):\n"
        for number in max(2, line - 3)...min(lines.count, line + 2) where number - 1 < lines.count {
            message += (number == line ? "> " : "  ") + "\(number): " + lines[number - 1] + "\n"
        }
        FileHandle.standardError.write(Data(message.utf8))
        throw ExitCode(1)
    }
}
