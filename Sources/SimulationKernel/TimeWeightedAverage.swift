/// The time average of a piecewise-constant quantity (queue length, busy servers,
/// a provider's health state): each value weighted by how long it held.
public struct TimeWeightedAverage: Sendable, Equatable {
    private var area: Double = 0
    private var lastChange: Int64
    private var start: Int64
    /// The value now in force.
    public private(set) var current: Double
    public private(set) var maximum: Double

    /// Observes from time 0 with `value`, counting only the time from `start` (nanoseconds) on:
    /// changes before `start` set the value in force but add nothing to the average (a warm-up).
    public init(start: Int64 = 0, value: Double = 0) {
        self.lastChange = min(0, start)
        self.start = start
        self.current = value
        self.maximum = value
    }

    /// The quantity changes to `value` at time `time` (nanoseconds, not before the last change).
    public mutating func update(to value: Double, at time: Int64) {
        precondition(time >= lastChange, "TimeWeightedAverage: time went backwards")
        let from = Swift.max(lastChange, start)
        if time > from { area += current * Double(time - from) }
        lastChange = time
        current = value
        maximum = Swift.max(maximum, value)
    }

    /// The time average over [start, `time`].
    public func average(at time: Int64) -> Double {
        precondition(time >= lastChange, "TimeWeightedAverage: time went backwards")
        let span = Double(time - start)
        guard span > 0 else { return current }
        return (area + current * Double(Swift.max(0, time - Swift.max(lastChange, start)))) / span
    }
}
