import ArgumentParser
import CommandLineSupport
import ConfigSchema
import Experiments
import Foundation
import RoutingCore

/// `brownout fit DIR --out FILE`: provider models from a gateway's recorded trace.
struct FitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fit",
        abstract: "Fit provider models (first-token time, output rate, error rates, Retry-After, concurrency) from a recorded gateway trace.",
        discussion: "Writes a catalog file a spec can include (like models/providers.yaml), each number commented with what it came from."
    )

    @Argument(help: ArgumentHelp("The directory brownout-gateway --record wrote (its trace.jsonl).", valueName: "DIR"))
    var directory: String

    @Option(help: ArgumentHelp("The catalog to write, e.g. models/fitted/NAME.yaml (atomically).", valueName: "FILE"))
    var out: String

    @Option(help: "The spec the gateway ran: its pools are left out and its prices copied.")
    var spec: String?

    @Option(help: "Fit an upstream only with at least this many answers.")
    var minAnswers = 20

    func validate() throws {
        guard minAnswers >= 2 else { throw ValidationError("--min-answers must be ≥ 2, got \(minAnswers)") }
    }

    func run() throws {
        var config: RouterConfig?
        if let spec {
            do {
                config = try GatewaySpec.load(path: spec).router
            } catch {
                throw CommandError(error.description)
            }
        }
        let path = URL(fileURLWithPath: directory).appendingPathComponent("trace.jsonl").path
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw CommandError("\(path): cannot read the trace (record one with brownout-gateway --record \(directory))")
        }
        let observed: (header: RouterTrace.Header, calls: Int, upstreams: [TraceFit.Observations])
        do {
            observed = try TraceFit.observe(text, file: path)
        } catch {
            throw CommandError(error.description)
        }
        let catalog = TraceFit.catalog(
            observed.upstreams, header: observed.header, calls: observed.calls, source: path, config: config, minimumAnswers: minAnswers)
        let destination = URL(fileURLWithPath: out)
        do {
            try AtomicOutput.prepare(directory: destination.deletingLastPathComponent())
            try AtomicOutput.write(catalog, to: destination)
        } catch {
            throw CommandError("\(out): cannot write: \(error.localizedDescription)")
        }
        for upstream in observed.upstreams {
            print("\(upstream.name): \(upstream.decided) attempts, \(upstream.firstTokens.count) answers, at most \(upstream.maxInFlight) in flight")
        }
        print("wrote \(out)")
    }
}
