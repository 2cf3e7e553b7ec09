import ConfigSchema
import Foundation
import GatewaySim
import RoutingCore
import SimulationKernel
import Stochastics

/// `brownout incident`: the tables of a simulated run, written for what production recorded
/// (``GatewaySim/RecordedIncident``) — `per_team.csv` with each team's chargeback,
/// `per_provider.csv`, `timeseries.csv`, `summary.csv` — and `timeline.csv`, each upstream's
/// minutes: attempts, how they ended, first-token percentiles, breakers open.
public enum Incident {
    /// Reads the traces at `paths` (a directory `brownout-gateway --record` wrote, or its
    /// `trace.jsonl`) and spend ledger exports among them (CSV, ``GatewaySim/RecordedLedger``)
    /// with the spec at `given` (nil: the one the first gateway kept beside its trace), merges
    /// them over [`from`, `to`) (Unix nanoseconds), writes the tables to `directory` and returns
    /// a summary line per team and the files written.
    public static func run(
        paths: [String], specPath given: String?, overrides: [String], from: Int64?, to: Int64?, directory: String
    ) throws(ExperimentFailure) -> (summary: String, files: [String]) {
        // Each path a trace or a ledger export, told by its first line.
        var traces: [(recording: RecordedTraceFiles, text: String)] = [], ledgers: [RecordedLedger] = []
        for recording in paths.map(RecordedTraceFiles.init) {
            let file = recording.trace
            guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
                throw ExperimentFailure(
                    "\(file): cannot read a gateway's trace or a spend ledger export (record one with brownout-gateway --record DIR)")
            }
            if RecordedLedger.isLedger(header: text.prefix { $0 != "\n" && $0 != "\r\n" }) {
                do {
                    ledgers.append(try RecordedLedger.read(text, file: file))
                } catch {
                    throw ExperimentFailure(error.description)
                }
            } else {
                traces.append((recording, text))
            }
        }
        if given == nil && traces.isEmpty {
            throw ExperimentFailure("a spend ledger alone does not say which spec the gateways ran: give --spec")
        }
        let specPath = try RecordedTraceFiles.spec(given: given, for: traces.map(\.recording))
        let (document, loaded, _) = try Experiment.load(path: specPath, overrides: overrides)
        var spec = loaded
        spec.replications = 1
        var sources: [RecordedIncident.Source] = []
        for (recording, text) in traces {
            let file = recording.trace
            do {
                let (header, entries) = try RouterTrace.read(text, file: file, config: spec.world.router)
                sources.append(RecordedIncident.Source(file: file, header: header, entries: entries))
            } catch {
                throw ExperimentFailure(error.description)
            }
        }
        let incident: RecordedIncident
        do {
            incident = try RecordedIncident.read(sources, ledger: RecordedLedger.merged(ledgers), world: spec.world, from: from, to: to)
        } catch {
            throw ExperimentFailure(error.description)
        }
        let report = ExperimentReport(spec: spec, results: [incident.result], variant: "incident")
        let tables = RunTables(reports: [report])
        let files: [(String, String)] = [
            ("summary.csv", tables.summaryCSV),
            ("per_team.csv", tables.perTeamCSV),
            ("per_provider.csv", tables.perProviderCSV),
            ("timeseries.csv", tables.timeSeriesCSV),
            ("timeline.csv", timelineCSV(incident)),
            ("incident.json", manifest(incident, sources: sources, ledgers: ledgers, specPath: specPath, document: document, spec: spec)),
        ]
        let url = URL(fileURLWithPath: directory)
        try AtomicOutput.write(files, into: url)
        return (summary(incident, spec: spec, gateways: sources.count, ledgers: ledgers.count), files.map(\.0))
    }

    /// A time as `--from`/`--to` take it: RFC 3339 (`2026-04-14T13:05:00Z`, fractional seconds
    /// allowed) or Unix seconds; Unix nanoseconds, nil when it is neither.
    public static func parseTime(_ text: String) -> Int64? {
        if let seconds = Double(text), seconds.isFinite { return Int64((seconds * 1e9).rounded()) }
        let formatter = ISO8601DateFormatter()
        for options: ISO8601DateFormatter.Options in [[.withInternetDateTime, .withFractionalSeconds], [.withInternetDateTime]] {
            formatter.formatOptions = options
            if let date = formatter.date(from: text) { return Int64((date.timeIntervalSince1970 * 1e9).rounded()) }
        }
        return nil
    }

    /// RFC 3339 in UTC, to the millisecond.
    static func timestamp(_ unixNanoseconds: Int64) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: Date(timeIntervalSince1970: Double(unixNanoseconds) / 1e9))
    }

    /// `timeline.csv`: per upstream (the spec's order) and minute of the window.
    public static func timelineCSV(_ incident: RecordedIncident) -> String {
        var table = CSVTable(
            header: ["upstream", "minute", "minute_start_s", "attempts"] + OutcomeClass.allCases.map(\.rawValue)
                + ["first_token_p50_s", "first_token_p90_s", "first_token_p99_s", "breakers_open"])
        for upstream in incident.timeline {
            for row in upstream {
                let tokens = row.firstTokens
                func percentile(_ p: Double) -> String { tokens.count > 0 ? CSVTable.number(tokens.seconds(atPercentile: p)) : "" }
                table.append(
                    [
                        row.upstream, timestamp(incident.startUnixNanoseconds + row.startNanoseconds),
                        CSVTable.number(Double(row.startNanoseconds) / 1e9), String(row.attempts),
                    ] + OutcomeClass.allCases.map { String(row.outcomes[$0] ?? 0) }
                        + [percentile(50), percentile(90), percentile(99), String(row.breakersOpen)])
            }
        }
        return table.text
    }

    /// `incident.json`: the window, the traces and ledger exports read, the spec they were read
    /// with, and where the chargeback came from (with a ledger and traces, both, per team).
    static func manifest(
        _ incident: RecordedIncident, sources: [RecordedIncident.Source], ledgers: [RecordedLedger], specPath: String, document: SpecValue,
        spec: ExperimentSpec
    ) -> String {
        var object: [String: Any] = [
            "spec": specPath,
            "spec_hash": RunManifest.hash(document),
            "from": timestamp(incident.startUnixNanoseconds),
            "to": timestamp(incident.startUnixNanoseconds + incident.lengthNanoseconds),
            "traces": sources.map(\.file),
            "ledgers": ledgers.map(\.file),
            "ledger_rows": incident.ledgerRows,
            "chargeback_source": ledgers.isEmpty ? "replay" : "ledger",
            "config_fingerprint": spec.world.router.fingerprint,
            "replay_divergent_decisions": incident.divergentDecisions,
            "version": RunManifest.version,
        ]
        if let replayed = incident.replayedChargeback {
            object["chargeback_usd"] = Dictionary(
                uniqueKeysWithValues: spec.world.router.teams.enumerated().map { index, team in
                    (team.name, ["ledger": incident.result.ledger.teams[index].totalUSD, "replay": replayed.teams[index].totalUSD])
                })
        }
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])) ?? Data()
        return String(decoding: data, as: UTF8.self) + "\n"
    }

    /// One line per team: requests, availability, degraded share, p99, and what it was charged.
    static func summary(_ incident: RecordedIncident, spec: ExperimentSpec, gateways: Int, ledgers: Int) -> String {
        let from = timestamp(incident.startUnixNanoseconds), to = timestamp(incident.startUnixNanoseconds + incident.lengthNanoseconds)
        var read: [String] = []
        if gateways > 0 { read.append("\(gateways) gateway trace\(gateways == 1 ? "" : "s")") }
        if ledgers > 0 { read.append("\(incident.ledgerRows) spend ledger row\(incident.ledgerRows == 1 ? "" : "s")") }
        var lines = ["Incident \(from) – \(to), \(read.joined(separator: " and ")):"]
        for (index, team) in incident.result.teams.enumerated() {
            let routerIndex = spec.world.router.teams.firstIndex { $0.name == team.name } ?? index
            let spend = incident.result.ledger.teams[routerIndex]
            let degraded = team.succeeded > 0 ? Double(team.succeededFallback) / Double(team.succeeded) : 0
            let p99 = team.totalLatency.count > 0 ? String(format: "%.1f s", team.totalLatency.seconds(atPercentile: 99)) : "–"
            lines.append(
                "  \(team.name): \(team.requests) requests, \(String(format: "%.3f", team.availability * 100))% available, "
                    + "\(String(format: "%.1f", degraded * 100))% served degraded, p99 \(p99); charged "
                    + String(format: "$%.2f ($%.2f on attempts then retried, $%.2f wasted)", spend.totalUSD, spend.retriedUSD, spend.wastedUSD))
            if let replayed = incident.replayedChargeback?.teams[routerIndex], abs(replayed.totalUSD - spend.totalUSD) > 1e-6 {
                lines.append(
                    String(
                        format:
                            "    warning: the ledger booked $%.6f, the traces' replay $%.6f: a replica's trace missing, or rows its spool had not yet shipped",
                        spend.totalUSD, replayed.totalUSD))
            }
        }
        if gateways == 0 {
            lines.append("  (from a ledger alone: requests counted when they settled; no latency, attempts by upstream or timeline)")
        }
        if incident.divergentDecisions > 0 {
            lines.append(
                "warning: replaying the traces gave \(incident.divergentDecisions) decisions other than those recorded\(ledgers == 0 ? ": the chargeback is the replay's" : "") (brownout replay shows the first)"
            )
        }
        return lines.joined(separator: "\n")
    }
}
