import Experiments
import Stochastics

/// Where the work went, simulated and live: the attempts each upstream was sent after the
/// warm-up. When every team's metrics move together (a breaker that kept two providers off
/// longer sends their traffic to the next tier, which is cheaper and faster), this shows it.
public struct TwinUpstreamComparison: Sendable {
    public struct Row: Sendable {
        public let upstream: String
        /// Where one run's count falls, from the simulator's replications (95%).
        public let simulated: PredictionInterval
        public let live: Double

        public var inside: Bool { simulated.contains(live) }
    }

    public let rows: [Row]

    /// `replications`: per simulated replication, the attempts of each upstream (in
    /// `upstreams`' order); `live` the same for the live run.
    public init(upstreams: [String], replications: [[Double]], live: [Double]) {
        rows = upstreams.indices.map { index in
            // A count: half a request's continuity step, as for the teams' counts.
            Row(
                upstream: upstreams[index], simulated: PredictionInterval(replications.map { $0[index] }, range: 0...Double.infinity, step: 1),
                live: live[index])
        }
    }

    public static let header = ["upstream", "metric", "simulated_mean", "simulated_low_95", "simulated_high_95", "live", "live_inside"]

    /// `twin-upstreams.csv`: one row per upstream.
    public var csv: String {
        var table = CSVTable(header: Self.header)
        for row in rows {
            table.append([
                row.upstream, "attempts", CSVTable.number(row.simulated.mean), CSVTable.number(row.simulated.lower),
                CSVTable.number(row.simulated.upper), CSVTable.number(row.live), row.inside ? "true" : "false",
            ])
        }
        return table.text
    }
}
