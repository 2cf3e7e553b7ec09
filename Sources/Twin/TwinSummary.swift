import Foundation
import SimulationKernel
import Stochastics

/// What `brownout twin` prints: the comparison as a table, how many live values lie inside
/// the simulator's intervals, and whether the machine kept up with the scaled load.
public enum TwinSummary {
    public static func text(_ outcome: TwinRun.Outcome, scale: Int64, directory: String) -> String {
        let rows = outcome.comparison.rows
        var lines = ["team             metric                  simulated (95% for one run)          live   inside"]
        for row in rows {
            let interval = "\(format(row.simulated.mean)) [\(format(row.simulated.lower)), \(format(row.simulated.upper))]"
            lines.append(
                pad(row.team, 16) + " " + pad(row.metric.rawValue, 22) + "  " + pad(interval, 36) + " " + pad(format(row.live), 10, right: true)
                    + "   " + (row.inside ? "yes" : "NO"))
        }
        let inside = rows.filter(\.inside).count
        lines.append("")
        lines.append(
            "\(inside) of \(rows.count) live values inside the simulator's intervals (\(outcome.simulatedReplications) replications, the same health history)."
        )
        let p99 = outcome.lateness.seconds(atPercentile: 99) * 1_000, worst = outcome.lateness.seconds(atPercentile: 100) * 1_000
        lines.append(
            String(
                format: "Live run: %.0f s at %lld× real time; arrivals sent late by p99 %.1f ms, at most %.1f ms (%.2f s and %.2f s of model time).",
                outcome.liveSeconds, scale, p99, worst, p99 * Double(scale) / 1_000, worst * Double(scale) / 1_000))
        for team in outcome.failures where !team.live.isEmpty || !team.simulated.isEmpty {
            let live = team.live.map { "\($0.0) \($0.1)" }.joined(separator: ", ")
            let simulated = team.simulated.map { String(format: "%@ %.2f", $0.0, $0.1) }.joined(separator: ", ")
            lines.append(
                "Failures of \(team.team): live \(live.isEmpty ? "none" : live); simulated, per run \(simulated.isEmpty ? "none" : simulated).")
        }
        let attempts = outcome.upstreams.rows.map { row in
            "\(row.upstream) \(format(row.live)) (\(format(row.simulated.mean)) [\(format(row.simulated.lower)), \(format(row.simulated.upper))]\(row.inside ? "" : ", outside"))"
        }
        lines.append("Attempts by upstream after the warm-up, live (simulated, 95% for one run): " + attempts.joined(separator: ", ") + ".")
        lines.append(
            String(
                format:
                    "Transport (client to mock and back, through the gateway), taken out of the live latencies: median %.1f ms real, %.3f s of model time.",
                outcome.transport.seconds(atPercentile: 50) * 1_000 / Double(scale), outcome.transport.seconds(atPercentile: 50)))
        lines.append(
            "Wrote \(directory)/twin.csv, twin-upstreams.csv and live-failures.csv (and the gateway's spec, its metrics, traces and the servers' logs beside them; with replicas, their spend ledger, ledger.csv)."
        )
        return lines.joined(separator: "\n")
    }

    private static func format(_ value: Double) -> String {
        if value == value.rounded() && abs(value) < 1e9 { return String(Int64(value)) }
        return String(format: abs(value) >= 100 ? "%.1f" : abs(value) >= 1 ? "%.3f" : "%.4f", value)
    }

    private static func pad(_ text: String, _ width: Int, right: Bool = false) -> String {
        let gap = String(repeating: " ", count: max(0, width - text.count))
        return right ? gap + text : text + gap
    }
}
