import ArgumentParser
import CommandLineSupport
import Experiments
import Foundation

/// `brownout incident SOURCE… [--spec SPEC] --out DIR`: what production recorded, in a run's tables.
struct IncidentCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "incident",
        abstract: "Write a simulated run's tables for what gateways recorded: per team (with chargeback), per provider, over time, and timeline.csv.",
        discussion: """
            Reads one or more traces (brownout-gateway --record DIR; several replicas are merged by time) and spend ledger \
            exports (the PostgreSQL ledger as CSV with its header, see the README), keeps the requests that arrived in \
            [--from, --to), and writes per_team.csv, per_provider.csv, timeseries.csv and summary.csv with a simulated run's \
            columns, timeline.csv (per upstream and minute: attempts, outcome classes, first-token percentiles, breakers \
            open) and incident.json. The chargeback is the ledger's when one is given (the traces' replay beside it in \
            incident.json), else each trace replayed through the router. What a gateway cannot see (an upstream's queue \
            and health, a client's SDK retries) is 0.
            """
    )

    @Argument(
        help: ArgumentHelp(
            "The gateways' traces (directories brownout-gateway --record wrote, or their trace.jsonl) and spend ledger exports (.csv).",
            valueName: "SOURCE"))
    var traces: [String]

    @Option(
        help:
            "The spec the gateways ran (an experiment spec: its teams, routes, prices and budgets; default: the spec.yaml the first gateway's --record kept)."
    )
    var spec: String?

    @Option(
        name: .customLong("set"),
        help: ArgumentHelp("Override a spec field as the gateways ran it (repeatable).", valueName: "path=value"))
    var overrides: [String] = []

    @Option(help: ArgumentHelp("The window's start: RFC 3339 (2026-04-14T13:00:00Z) or Unix seconds (default: the first request).", valueName: "T"))
    var from: String?

    @Option(help: ArgumentHelp("The window's end, not included (default: the last entry).", valueName: "T"))
    var to: String?

    @Option(help: "Output directory (default: out/incident).")
    var out = "out/incident"

    func validate() throws {
        guard !traces.isEmpty else { throw ValidationError("give at least one trace or ledger export") }
        for (name, value) in [("--from", from), ("--to", to)] {
            if let value, Incident.parseTime(value) == nil {
                throw ValidationError("\(name) '\(value)' is neither an RFC 3339 time (2026-04-14T13:00:00Z) nor Unix seconds")
            }
        }
    }

    func run() throws {
        let outcome: (summary: String, files: [String])
        do {
            outcome = try Incident.run(
                paths: traces, specPath: spec, overrides: overrides, from: from.flatMap(Incident.parseTime), to: to.flatMap(Incident.parseTime),
                directory: out)
        } catch {
            throw CommandError(error.description)
        }
        print(outcome.summary)
        print("Wrote \(outcome.files.joined(separator: ", ")) to \(out)/")
    }
}
