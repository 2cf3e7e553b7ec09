import ArgumentParser
import CommandLineSupport
import ConfigSchema
import Experiments
import Foundation
import GatewaySim
import RoutingCore

/// `brownout fit DIR… --out FILE`: provider models from gateways' recorded traces; with
/// `--timeline`, the recorded incident as an experiment spec.
struct FitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fit",
        abstract: "Fit provider models (first-token time, output rate, error rates, Retry-After, concurrency) from recorded gateway traces.",
        discussion: """
            Writes a catalog file a spec can include (like models/providers.yaml), each number commented with what it came from; \
            several traces (replicas) are fitted together. With --timeline, writes the incident as an experiment spec \
            instead: the fitted providers with the health states their outcome mixes went through (change points per --bin-s, \
            stretches that cannot be told apart merged into one state), the degradation script of when each was in which, \
            the routing and teams of the spec, and the teams' arrivals replayed from the recorded requests (OUT's folder, arrivals/).
            """
    )

    @Argument(help: ArgumentHelp("Directories brownout-gateway --record wrote (their trace.jsonl).", valueName: "DIR"))
    var directories: [String]

    @Option(help: ArgumentHelp("The file to write, e.g. models/fitted/NAME.yaml (atomically).", valueName: "FILE"))
    var out: String

    @Option(
        help:
            "The spec the gateway ran: its pools are left out and its prices copied (with --timeline, its routing and teams kept; default: the spec.yaml the first gateway's --record kept, if there)."
    )
    var spec: String?

    @Option(help: "Fit an upstream only with at least this many answers.")
    var minAnswers = 20

    @Flag(help: "Write the recorded incident as an experiment spec (with the spec the gateway ran).")
    var timeline = false

    @Option(help: ArgumentHelp("--timeline: the window's start, RFC 3339 or Unix seconds (default: the first request).", valueName: "T"))
    var from: String?

    @Option(help: ArgumentHelp("--timeline: the window's end, not included (default: the last entry).", valueName: "T"))
    var to: String?

    @Option(name: .customLong("bin-s"), help: "--timeline: the seconds per bin of each provider's timeline (a change point falls between bins).")
    var binSeconds = 60.0

    @Option(help: "--timeline: the replications the written spec runs.")
    var replications = 20

    func validate() throws {
        guard !directories.isEmpty else { throw ValidationError("give at least one trace directory") }
        guard minAnswers >= 2 else { throw ValidationError("--min-answers must be ≥ 2, got \(minAnswers)") }
        if timeline {
            guard binSeconds >= 1 && binSeconds <= 86_400 else { throw ValidationError("--bin-s must be between 1 and 86400, got \(binSeconds)") }
            guard (2...100_000).contains(replications) else {
                throw ValidationError("--replications must be between 2 and 100000, got \(replications)")
            }
            for (name, value) in [("--from", from), ("--to", to)] {
                if let value, Incident.parseTime(value) == nil {
                    throw ValidationError("\(name) '\(value)' is neither an RFC 3339 time (2026-04-14T13:00:00Z) nor Unix seconds")
                }
            }
        } else if from != nil || to != nil {
            throw ValidationError("--from and --to window a --timeline fit")
        }
    }

    func run() throws {
        var traces: [(path: String, text: String)] = []
        let recordings = directories.map(RecordedTraceFiles.init)
        for (directory, recording) in zip(directories, recordings) {
            guard let text = try? String(contentsOfFile: recording.trace, encoding: .utf8) else {
                throw CommandError("\(recording.trace): cannot read the trace (record one with brownout-gateway --record \(directory))")
            }
            traces.append((recording.trace, text))
        }
        // The spec given, or the one the gateway kept beside its trace (needed with --timeline).
        let spec: String?
        do {
            spec =
                self.spec == nil && !timeline && !FileManager.default.fileExists(atPath: recordings[0].spec)
                ? nil : try RecordedTraceFiles.spec(given: self.spec, for: recordings)
        } catch {
            throw CommandError(error.description)
        }
        var observed: [(header: RouterTrace.Header, calls: Int, upstreams: [TraceFit.Observations])] = []
        for trace in traces {
            do {
                observed.append(try TraceFit.observe(trace.text, file: trace.path))
            } catch {
                throw CommandError(error.description)
            }
        }
        let upstreams = TraceFit.merged(observed.map(\.upstreams))
        let calls = observed.reduce(0) { $0 + $1.calls }
        let source = traces.map(\.path).joined(separator: ", ")
        let files: [(url: URL, text: String)]
        if timeline {
            files = try timelineFiles(spec: spec, traces: traces, observed: observed, upstreams: upstreams, calls: calls, source: source)
        } else {
            var config: RouterConfig?
            if let spec {
                do {
                    config = try GatewaySpec.load(path: spec).router
                } catch {
                    throw CommandError(error.description)
                }
            }
            let catalog = TraceFit.catalog(
                upstreams, header: observed[0].header, calls: calls, source: source, config: config, minimumAnswers: minAnswers)
            files = [(URL(fileURLWithPath: out), catalog)]
        }
        do {
            for file in files {
                try AtomicOutput.prepare(directory: file.url.deletingLastPathComponent())
                try AtomicOutput.write(file.text, to: file.url)
            }
        } catch {
            throw CommandError("\(out): cannot write: \(error.localizedDescription)")
        }
        for upstream in upstreams {
            print("\(upstream.name): \(upstream.decided) attempts, \(upstream.firstTokens.count) answers, at most \(upstream.maxInFlight) in flight")
        }
        print("wrote \(out)" + (files.count > 1 ? " and \(files.count - 1) arrival file\(files.count == 2 ? "" : "s")" : ""))
    }

    /// The incident's spec and its arrival files; the spec read back before anything is written.
    func timelineFiles(
        spec: String?, traces: [(path: String, text: String)],
        observed: [(header: RouterTrace.Header, calls: Int, upstreams: [TraceFit.Observations])],
        upstreams: [TraceFit.Observations], calls: Int, source: String
    ) throws -> [(url: URL, text: String)] {
        guard let specPath = spec else { return [] }
        let document: SpecValue, experiment: ExperimentSpec
        do {
            (document, experiment, _) = try Experiment.load(path: specPath, overrides: [])
        } catch {
            throw CommandError(error.description)
        }
        var sources: [RecordedIncident.Source] = []
        for trace in traces {
            do {
                let (header, entries) = try RouterTrace.read(trace.text, file: trace.path, config: experiment.world.router)
                sources.append(RecordedIncident.Source(file: trace.path, header: header, entries: entries))
            } catch {
                throw CommandError(error.description)
            }
        }
        let incident: RecordedIncident
        do {
            incident = try RecordedIncident.read(
                sources, world: experiment.world, from: from.flatMap(Incident.parseTime), to: to.flatMap(Incident.parseTime),
                bin: Int64((binSeconds * 1e9).rounded()))
        } catch {
            throw CommandError(error.description)
        }
        // The providers fitted (the pools keep the spec's model); only theirs get states and a script.
        let fitted = upstreams.filter { upstream in
            experiment.world.providers.contains { $0.name == upstream.name } && TraceFit.fits(upstream, minimumAnswers: minAnswers)
        }.map(\.name)
        let providers = TimelineFit.fit(incident, providers: fitted)
        let catalog = TraceFit.catalog(
            upstreams.filter { fitted.contains($0.name) }, header: observed[0].header, calls: calls, source: source, config: experiment.world.router,
            minimumAnswers: minAnswers, states: Dictionary(uniqueKeysWithValues: providers.map { ($0.name, TimelineFit.statesBlock($0)) }))
        let written = TimelineFit.spec(
            incident, providers: providers, catalog: catalog, document: document, spec: experiment, sources: traces.map(\.path),
            replications: replications)
        let destination = URL(fileURLWithPath: out)
        let folder = destination.deletingLastPathComponent()
        // Read back where it will be, its arrival files beside it: a spec that does not load is not written.
        let check = FileManager.default.temporaryDirectory.appendingPathComponent("brownout-fit-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: check) }
        do {
            try FileManager.default.createDirectory(at: check.appendingPathComponent("arrivals"), withIntermediateDirectories: true)
            for file in written.arrivals { try Data(file.csv.utf8).write(to: check.appendingPathComponent(file.file)) }
            try Data(written.spec.utf8).write(to: check.appendingPathComponent("spec.yaml"))
            _ = try Experiment.load(path: check.appendingPathComponent("spec.yaml").path, overrides: [])
        } catch {
            throw CommandError("the incident's spec did not read back (a bug in brownout fit --timeline): \(error)")
        }
        for provider in providers {
            let stretches = provider.stretches.map { "\(CSVTable.number($0.fromSeconds))–\(CSVTable.number($0.toSeconds)) s \($0.state)" }
            print(
                "\(provider.name): \(provider.states.count) state\(provider.states.count == 1 ? "" : "s")"
                    + (stretches.isEmpty ? "" : "; " + stretches.joined(separator: ", ")))
        }
        return [(destination, written.spec)] + written.arrivals.map { (folder.appendingPathComponent($0.file), $0.csv) }
    }
}
