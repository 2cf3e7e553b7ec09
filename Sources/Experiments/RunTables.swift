import Stochastics

/// The CSV tables of a run over all its variants, baseline first: the same rows whatever
/// `--jobs` is, since every number comes from results in replication order.
public struct RunTables {
    public let reports: [ExperimentReport]

    public init(reports: [ExperimentReport]) {
        self.reports = reports
    }

    public var summaryCSV: String { table(ExperimentReport.summaryHeader) { $0.summaryRows() } }
    public var perTeamCSV: String { table(ExperimentReport.perTeamHeader) { $0.perTeamRows() } }
    public var perProviderCSV: String { table(ExperimentReport.perProviderHeader) { $0.perProviderRows() } }
    public var timeSeriesCSV: String { table(ExperimentReport.timeSeriesHeader) { $0.timeSeriesRows() } }
    public var providerTimeSeriesCSV: String { table(ExperimentReport.providerTimeSeriesHeader) { $0.providerTimeSeriesRows() } }

    /// Each variant against the baseline, metric by metric: the mean paired difference
    /// (variant − baseline) over replications that shared their random numbers, with its
    /// Student-t 95% interval. Pairing removes the noise both runs share, so the interval is
    /// far narrower than the difference of two independent intervals.
    public var compareCSV: String {
        var table = CSVTable(header: [
            "variant", "baseline", "scope", "metric", "baseline_mean", "variant_mean", "difference_mean",
            "difference_ci95_low", "difference_ci95_high", "n",
        ])
        guard let baseline = reports.first else { return table.text }
        let baseRows = baseline.results.map(baseline.metrics)
        for report in reports.dropFirst() {
            let rows = report.results.map(report.metrics)
            guard let first = rows.first else { continue }
            for index in first.indices {
                let b = baseRows.map { $0[index].2 }
                let v = rows.map { $0[index].2 }
                let difference = MeanInterval(zip(v, b).map { $0 - $1 })
                table.append([
                    report.variant, baseline.variant, first[index].0, first[index].1,
                    CSVTable.number(MeanInterval(b).mean), CSVTable.number(MeanInterval(v).mean),
                    CSVTable.number(difference.mean), CSVTable.number(difference.lower), CSVTable.number(difference.upper),
                    String(difference.count),
                ])
            }
        }
        return table.text
    }

    private func table(_ header: [String], _ rows: (ExperimentReport) -> [[String]]) -> String {
        var table = CSVTable(header: header)
        for report in reports { for row in rows(report) { table.append(row) } }
        return table.text
    }
}
