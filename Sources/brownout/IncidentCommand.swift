import ArgumentParser
import CommandLineSupport
import Experiments
import Foundation

/// `brownout incident TRACE… --spec SPEC --out DIR`: what production recorded, in a run's tables.
struct IncidentCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "incident",
        abstract: "Write a simulated run's tables for what gateways recorded: per team (with chargeback), per provider, over time, and timeline.csv.",
        discussion: """
            Reads one or more traces (brownout-gateway --record DIR; several replicas are merged by time), keeps the \
            requests that arrived in [--from, --to), replays each trace through the router for the chargeback it \
            computed, and writes per_team.csv, per_provider.csv, timeseries.csv and summary.csv with a simulated run's \
            columns, timeline.csv (per upstream and minute: attempts, outcome classes, first-token percentiles, breakers \
            open) and incident.json. What a gateway cannot see (an upstream's queue and health, a client's SDK retries) is 0.
            """
    )

    @Argument(help: ArgumentHelp("The gateways' traces: directories brownout-gateway --record wrote, or their trace.jsonl.", valueName: "TRACE"))
    var traces: [String]

    @Option(help: "The spec the gateways ran (an experiment spec: its teams, routes, prices and budgets).")
    var spec: String

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
        guard !traces.isEmpty else { throw ValidationError("give at least one trace") }
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
