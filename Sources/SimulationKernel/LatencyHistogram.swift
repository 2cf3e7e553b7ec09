import Histogram

/// Latency percentiles with bounded memory: an HdrHistogram of nanoseconds at three
/// significant digits (relative error ≤ 0.1%), from 1 µs to one day.
public struct LatencyHistogram: Sendable {
    private var histogram = Histogram<UInt64>(
        lowestDiscernibleValue: 1_000,
        highestTrackableValue: 86_400_000_000_000,
        numberOfSignificantValueDigits: .three
    )

    public init() {}

    /// Records a latency in nanoseconds; values outside the trackable range are clamped.
    public mutating func record(nanoseconds: Int64) {
        let clamped = Swift.min(Swift.max(nanoseconds, 1_000), 86_400_000_000_000)
        _ = histogram.record(UInt64(clamped))
    }

    public var count: UInt64 { histogram.totalCount }

    /// The latency at `percentile` (0–100) in seconds; zero when empty.
    public func seconds(atPercentile percentile: Double) -> Double {
        guard histogram.totalCount > 0 else { return 0 }
        return Double(histogram.valueAtPercentile(percentile)) / 1e9
    }

    /// Mean latency in seconds; zero when empty.
    public var meanSeconds: Double {
        histogram.totalCount > 0 ? histogram.mean / 1e9 : 0
    }

    /// Adds another histogram's observations.
    public mutating func merge(_ other: LatencyHistogram) {
        histogram.add(other.histogram)
    }
}
