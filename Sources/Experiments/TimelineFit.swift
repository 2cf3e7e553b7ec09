import ConfigSchema
import Foundation
import GatewaySim
import RoutingCore
import SimulationKernel
import Stochastics

/// `brownout fit --timeline`: the incident a gateway recorded as a scenario. Each provider's
/// timeline (``GatewaySim/RecordedIncident``, per bin: how its attempts ended) is cut where its
/// outcome mix changes (``Stochastics/ChangePoints``: exact optimal partitioning, BIC penalty),
/// the stretches whose mixes cannot be told apart are one health state (likelihood-ratio test
/// at 0.1%), the state with the fewest failures is its `healthy` one, and every stretch in
/// another state is a degradation script entry, from its first bin in which an attempt ended
/// to its last (empty bins say nothing of an upstream's health: it stays healthy there). ``spec(_:…)`` writes the experiment: the
/// fitted providers and script, the routing and teams of the spec the gateway ran, and the
/// teams' arrivals replayed from the recorded requests.
public enum TimelineFit {
    /// A health state fitted for one provider.
    public struct State: Sendable {
        public let name: String
        /// Per outcome class that failed attempts, its share of the attempts that ended.
        public let errors: [(OutcomeClass, Double)]
        /// Attempts that ended in the state, and the stretches it was seen in.
        public let attempts: Int
        public let stretches: Int
        /// The state's median first token over the healthy state's (nil: too few answers).
        public let latencyFactor: Double?
        /// The median Retry-After of its 429s and 529s (nil: none).
        public let retryAfterSeconds: Double?
    }

    /// A stretch of the window in one state.
    public struct Stretch: Sendable {
        public let fromSeconds: Double
        public let toSeconds: Double
        public let state: String
        /// What it came from: attempts, the mix, first tokens, breakers.
        public let comment: String
    }

    public struct Provider: Sendable {
        public let name: String
        /// `healthy` first.
        public let states: [State]
        /// The stretches not in the healthy state, in time order.
        public let stretches: [Stretch]
    }

    /// The significance below which two stretches' mixes are told apart.
    public static let significance = 0.001
    /// Answers a state needs for its first-token median to count.
    public static let latencySamples: UInt64 = 20

    /// The outcome classes a stretch is told apart by (a cancelled attempt says nothing of the
    /// upstream).
    static let classes = OutcomeClass.allCases.filter { $0 != .cancelled }

    /// Each of `providers`' timelines fitted.
    public static func fit(_ incident: RecordedIncident, providers: [String]) -> [Provider] {
        let bin = Double(incident.binNanoseconds) / 1e9
        return incident.timeline.compactMap { rows -> Provider? in
            guard let name = rows.first?.upstream, providers.contains(name) else { return nil }
            let counts = rows.map { row in classes.map { row.outcomes[$0] ?? 0 } }
            let total = counts.joined().reduce(0, +)
            let seen = classes.indices.filter { index in counts.contains { $0[index] > 0 } }.count
            let penalty = Double(max(seen, 2)) / 2 * log(Double(max(total, 2)))
            let segments = ChangePoints.segments(counts, penalty: penalty)
            let pooled = segments.map { range in classes.indices.map { index in range.reduce(0) { $0 + counts[$1][index] } } }
            let grouping = ChangePoints.states(pooled, significance: significance)
            let stateCount = (grouping.max() ?? 0) + 1
            var stateCounts = Array(repeating: Array(repeating: 0, count: classes.count), count: stateCount)
            var stateTokens = Array(repeating: LatencyHistogram(), count: stateCount)
            var stateRetryAfters = Array(repeating: [Double](), count: stateCount)
            var stateStretches = Array(repeating: 0, count: stateCount)
            for (segment, state) in zip(segments, grouping) {
                stateStretches[state] += 1
                for bin in segment {
                    for index in classes.indices { stateCounts[state][index] += counts[bin][index] }
                    stateTokens[state].merge(rows[bin].firstTokens)
                    stateRetryAfters[state] += rows[bin].retryAfters
                }
            }
            func failureShare(_ state: Int) -> Double {
                let all = stateCounts[state].reduce(0, +)
                return all > 0 ? Double(all - stateCounts[state][0]) / Double(all) : 0
            }
            // Healthy: the fewest failures (the most attempts on a tie); the others by failures.
            let order = (0..<stateCount).sorted {
                (failureShare($0), -stateCounts[$0].reduce(0, +), $0) < (failureShare($1), -stateCounts[$1].reduce(0, +), $1)
            }
            let names = Dictionary(
                uniqueKeysWithValues: order.enumerated().map { ($0.element, $0.offset == 0 ? "healthy" : "observed_\($0.offset)") })
            let healthy = order[0]
            let healthyMedian = stateTokens[healthy].count >= latencySamples ? stateTokens[healthy].seconds(atPercentile: 50) : nil
            let states = order.map { state -> State in
                let all = stateCounts[state].reduce(0, +)
                let errors = classes.indices.dropFirst().compactMap { index -> (OutcomeClass, Double)? in
                    stateCounts[state][index] > 0 && all > 0 ? (classes[index], Double(stateCounts[state][index]) / Double(all)) : nil
                }
                var factor: Double?
                if state != healthy, let healthyMedian, healthyMedian > 0, stateTokens[state].count >= latencySamples {
                    factor = stateTokens[state].seconds(atPercentile: 50) / healthyMedian
                }
                let retryAfters = stateRetryAfters[state].sorted()
                return State(
                    name: names[state]!, errors: errors, attempts: all, stretches: stateStretches[state], latencyFactor: factor,
                    retryAfterSeconds: retryAfters.isEmpty ? nil : retryAfters[retryAfters.count / 2])
            }
            // Adjacent segments of one state are one stretch.
            var stretches: [Stretch] = []
            var index = 0
            while index < segments.count {
                var end = index
                while end + 1 < segments.count && grouping[end + 1] == grouping[index] { end += 1 }
                let state = grouping[index]
                // Bins in which nothing ended (nothing was sent: the upstream not needed, or a
                // breaker open) say nothing of its health: a stretch begins and ends with evidence.
                var low = segments[index].lowerBound, high = segments[end].upperBound
                while low < high && counts[low].reduce(0, +) == 0 { low += 1 }
                while high > low && counts[high - 1].reduce(0, +) == 0 { high -= 1 }
                if state != healthy && low < high {
                    let bins = low..<high
                    stretches.append(
                        Stretch(
                            fromSeconds: Double(bins.lowerBound) * bin, toSeconds: Double(bins.upperBound) * bin, state: names[state]!,
                            comment: describe(rows[bins], counts: Array(counts[bins]), bin: bin)))
                }
                index = end + 1
            }
            return Provider(name: name, states: states, stretches: stretches)
        }
    }

    /// "bins 4–9: 412 attempts, 38.1% overloaded_529, 2.2% server_error_5xx; first token p50 1.2 s; breakers open in 3 of 6 bins".
    static func describe(_ rows: ArraySlice<RecordedIncident.TimelineRow>, counts: [[Int]], bin: Double) -> String {
        let total = counts.joined().reduce(0, +)
        var text = "\(total) attempts ended"
        for index in classes.indices.dropFirst() {
            let count = counts.reduce(0) { $0 + $1[index] }
            if count > 0, total > 0 { text += ", " + String(format: "%.1f%% ", 100 * Double(count) / Double(total)) + classes[index].rawValue }
        }
        var tokens = LatencyHistogram()
        for row in rows { tokens.merge(row.firstTokens) }
        if tokens.count > 0 { text += String(format: "; first token p50 %.2f s", tokens.seconds(atPercentile: 50)) }
        let open = rows.filter { $0.breakersOpen > 0 }.count
        if open > 0 { text += "; breakers open in \(open) of \(rows.count) bins" }
        return text
    }

    /// A provider's `states:` block for the catalog.
    public static func statesBlock(_ provider: Provider) -> String {
        var text = "    states:\n"
        for state in provider.states {
            let errors = state.errors.map { "\($0.0.rawValue): \(CSVTable.number($0.1))" }.joined(separator: ", ")
            var fields = ["errors: {\(errors)}"]
            if let factor = state.latencyFactor { fields.append("latency_x: \(CSVTable.number(factor))") }
            if let retryAfter = state.retryAfterSeconds, state.name != "healthy" { fields.append("retry_after_s: \(CSVTable.number(retryAfter))") }
            text +=
                "      \(state.name): {\(fields.joined(separator: ", "))}"
                + "    # \(state.attempts) attempts that ended, in \(state.stretches) stretch\(state.stretches == 1 ? "" : "es")\n"
        }
        return text
    }

    /// The experiment spec of the incident (and the arrival files it reads, relative to it).
    /// `document`: the resolved spec the gateway ran; `catalog`: the fitted providers.
    public static func spec(
        _ incident: RecordedIncident, providers: [Provider], catalog: String, document: SpecValue, spec: ExperimentSpec, sources: [String],
        replications: Int
    ) -> (spec: String, arrivals: [(file: String, csv: String)]) {
        let length = Double(incident.lengthNanoseconds) / 1e9
        // The window's start as the run's time of day (UTC, to the second): its clock reads as
        // the recording's, and its budgets' days turn when theirs did.
        let startSecond = Int((incident.startUnixNanoseconds / 1_000_000_000) % 86_400 + 86_400) % 86_400
        let timeOfDay = String(format: "%02d:%02d:%02d", startSecond / 3_600, startSecond / 60 % 60, startSecond % 60)
        let from = Incident.timestamp(incident.startUnixNanoseconds),
            to = Incident.timestamp(incident.startUnixNanoseconds + incident.lengthNanoseconds)
        var text = """
            # The incident recorded in \(sources.joined(separator: ", "))
            # over [\(from), \(to)), as a scenario: written by brownout fit --timeline.
            # Each provider's outcome mix per \(CSVTable.number(Double(incident.binNanoseconds) / 1e9)) s was cut where it changed
            # (optimal partitioning of the multinomial counts, BIC penalty), stretches that a
            # likelihood-ratio test (p > \(significance)) could not tell apart are one state, the state with
            # the fewest failures is each provider's healthy one, and every other stretch is an entry of
            # the script below. Routing, teams and pools are those of \(spec.name)'s spec; the teams'
            # arrivals are the recorded requests (arrivals/).
            name: \(spec.name)-incident
            description: "\(spec.name) as recorded from \(from) to \(to)"
            run: {duration_s: \(CSVTable.number(length)), warmup_s: 0, replications: \(replications), seed: \(spec.seed), bucket_s: \(CSVTable.number(spec.world.bucketSeconds)), start_time: "\(timeOfDay)"}

            """
        text += catalog
        // Providers the fit left out (too few answers) keep the spec's model.
        if case .map(let sections, _) = document, let original = sections.first(where: { $0.key == "providers" })?.value,
            case .map(let models, _) = original
        {
            for model in models where model.key != "" && !catalog.contains("\n  \(model.key):\n") {
                text += "  # \(model.key): the spec's model (too few answers in the traces to fit one)\n"
                text += "  \"\(model.key)\":" + model.value.yaml(indent: 4)
            }
        }
        var arrivals: [(file: String, csv: String)] = []
        var resolved = document
        for (index, team) in spec.world.teams.enumerated() {
            let times = incident.arrivals[index]
            let arrivalsYAML: String
            if times.isEmpty {
                arrivalsYAML = "{diurnal: {segments: [{duration_s: \(CSVTable.number(length)), rate_per_s: 0}]}}"
            } else {
                let file = "arrivals/" + String(team.name.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" ? $0 : "_" }) + ".csv"
                var csv = CSVTable(header: ["timestamp_s"])
                for time in times { csv.append([CSVTable.number(Double(time) / 1e9)]) }
                arrivals.append((file, csv.text))
                arrivalsYAML = "{replay: {file: \"\(file)\"}}"
            }
            // (Text this function wrote: it parses.)
            guard let value = try? SpecValue.parse(yaml: arrivalsYAML, file: "brownout fit --timeline") else { continue }
            resolved = resolved.setting(["teams", team.name, "arrivals"][...], to: value)
        }
        if case .map(let sections, _) = resolved {
            for section in ["pools", "routes", "gateway", "teams", "deployment"] {
                guard let value = sections.first(where: { $0.key == section })?.value else { continue }
                text += "\(section):" + value.yaml(indent: 2)
            }
        }
        text += "degradation:\n"
        let entries = providers.flatMap { provider in provider.stretches.map { (provider.name, $0) } }.sorted {
            ($0.1.fromSeconds, $0.0) < ($1.1.fromSeconds, $1.0)
        }
        if entries.isEmpty {
            text += "  []    # every provider stayed in one state\n"
        } else {
            text += "  - name: observed\n    script:\n"
            for (provider, stretch) in entries {
                text +=
                    "      - {provider: \"\(provider)\", from: \(CSVTable.number(stretch.fromSeconds)), to: \(CSVTable.number(stretch.toSeconds)), state: \(stretch.state)}"
                    + "    # \(stretch.comment)\n"
            }
        }
        return (text, arrivals)
    }
}
