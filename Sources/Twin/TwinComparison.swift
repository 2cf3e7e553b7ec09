import Experiments
import GatewaySim
import Stochastics

/// The simulator's prediction next to the live measurement, per team and metric.
public struct TwinComparison: Sendable {
    public struct Row: Sendable {
        public let team: String
        public let metric: TwinMetric
        /// Where one run's value falls, from the simulator's replications (95%).
        public let simulated: PredictionInterval
        /// The live value; latencies net of the twin's transport (``TwinTiming``), and spend net of
        /// the GPU time that transport added to the local pools' answers.
        public let live: Double
        /// The live value as measured at the client.
        public let liveRaw: Double

        public var inside: Bool { simulated.contains(live) }
    }

    public let rows: [Row]

    /// One team's measurements in a run: its metrics and its spend in USD.
    public typealias TeamRun = (metrics: TeamMetrics, spendUSD: Double)

    /// Compares `live` (one run, a team per spec team, in the spec's order; `liveRaw` the same
    /// with latencies as measured) with the simulator's `replications` (each the same
    /// teams); "all" adds every team together.
    public init(teams: [String], replications: [[TeamRun]], live: [TeamRun], liveRaw: [TeamRun]) {
        func total(_ run: [TeamRun]) -> TeamRun {
            var all = TeamMetrics(name: "all")
            for team in run { all.absorb(team.metrics) }
            return (all, run.reduce(0) { $0 + $1.spendUSD })
        }
        var rows: [Row] = []
        for (index, team) in (teams + ["all"]).enumerated() {
            let pick: ([TeamRun]) -> TeamRun = { run in index < teams.count ? run[index] : total(run) }
            for metric in TwinMetric.allCases {
                let values = replications.map { run in
                    let team = pick(run); return metric.value(team.metrics, spendUSD: team.spendUSD)
                }
                let liveTeam = pick(live), rawTeam = pick(liveRaw)
                rows.append(
                    Row(
                        team: team, metric: metric, simulated: PredictionInterval(values, range: metric.range, step: metric.step(liveTeam.metrics)),
                        live: metric.value(liveTeam.metrics, spendUSD: liveTeam.spendUSD),
                        liveRaw: metric.value(rawTeam.metrics, spendUSD: rawTeam.spendUSD)))
            }
        }
        self.rows = rows
    }

    public static let header = [
        "team", "metric", "simulated_mean", "simulated_low_95", "simulated_high_95", "live", "live_inside", "live_with_transport",
    ]

    /// `twin.csv`: one row per team and metric.
    public var csv: String {
        var table = CSVTable(header: Self.header)
        for row in rows {
            table.append([
                row.team, row.metric.rawValue, CSVTable.number(row.simulated.mean), CSVTable.number(row.simulated.lower),
                CSVTable.number(row.simulated.upper), CSVTable.number(row.live), row.inside ? "true" : "false", CSVTable.number(row.liveRaw),
            ])
        }
        return table.text
    }
}
