/// Envoy-style outlier ejection settings: a target with `consecutiveFailures` target
/// failures in a row is ejected for `baseEjectionSeconds × (times ejected)`, as long as no
/// more than `maxEjectionPercent` of the router's targets (its "cluster") are ejected at
/// once. Envoy's defaults: consecutive_5xx 5, base_ejection_time 30 s, max_ejection_percent 10.
///
/// The allowance is at least one target, so a small cluster can still eject its one bad member.
public struct OutlierDetectionConfig: Sendable, Equatable {
    public var consecutiveFailures: Int
    public var baseEjectionSeconds: Double
    public var maxEjectionPercent: Double

    public init(consecutiveFailures: Int = 5, baseEjectionSeconds: Double = 30, maxEjectionPercent: Double = 10) {
        self.consecutiveFailures = consecutiveFailures
        self.baseEjectionSeconds = baseEjectionSeconds
        self.maxEjectionPercent = maxEjectionPercent
    }

    /// How many of `count` targets may be ejected at once.
    public func maxEjected(of count: Int) -> Int {
        max(1, Int((Double(count) * maxEjectionPercent / 100).rounded(.down)))
    }
}
