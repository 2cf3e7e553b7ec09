import SimulationKernel

/// What happened on a given day, layered on any degradation process: during each scripted
/// window the target is forced into the window's state; outside every window the base
/// process decides. Where windows overlap, the one that started last wins (ties: the
/// later in the list).
public struct ScriptedTimeline<Base: DegradationProcess>: DegradationProcess {
    /// "From `start` to `end`, target `target` is in state `state`."
    public struct Window: Sendable, Equatable {
        public let startSeconds: Double
        public let endSeconds: Double
        public let target: Int
        public let state: Int

        public init(startSeconds: Double, endSeconds: Double, target: Int, state: Int) {
            self.startSeconds = startSeconds
            self.endSeconds = endSeconds
            self.target = target
            self.state = state
        }
    }

    public let windows: [Window]
    public private(set) var initialStates: [Int]
    private var base: Base
    private var baseStates: [Int]
    private var effective: [Int]
    private var lookahead: HealthChange?
    /// Window starts and ends in time order: (time, window index, isStart).
    private var boundaries: [(time: Int64, window: Int, isStart: Bool)]
    private var nextBoundary = 0
    private var active: [Set<Int>]
    private let starts: [Int64]
    private var pending: [HealthChange] = []

    public var targetCount: Int { base.targetCount }

    public init(base: Base, windows: [Window]) throws(StochasticsError) {
        var boundaries: [(time: Int64, window: Int, isStart: Bool)] = []
        var starts: [Int64] = []
        for (index, window) in windows.enumerated() {
            guard window.startSeconds.isFinite, window.startSeconds >= 0, window.endSeconds.isFinite, window.endSeconds > window.startSeconds else {
                throw StochasticsError(
                    "scripted timeline: window \(index + 1) needs 0 ≤ start < end, got start \(window.startSeconds) s, end \(window.endSeconds) s")
            }
            guard (0..<base.targetCount).contains(window.target) else {
                throw StochasticsError("scripted timeline: window \(index + 1) names target \(window.target); targets are 0..<\(base.targetCount)")
            }
            guard window.state >= 0 else {
                throw StochasticsError("scripted timeline: window \(index + 1) has state \(window.state); states are ≥ 0")
            }
            let start = SimulationInstant.nanoseconds(fromSeconds: window.startSeconds)
            starts.append(start)
            boundaries.append((start, index, true))
            boundaries.append((SimulationInstant.nanoseconds(fromSeconds: window.endSeconds), index, false))
        }
        // Ends before starts at the same instant, so back-to-back windows hand over cleanly.
        boundaries.sort { ($0.time, $0.isStart ? 1 : 0, $0.window) < ($1.time, $1.isStart ? 1 : 0, $1.window) }
        self.windows = windows
        self.base = base
        self.baseStates = base.initialStates
        self.boundaries = boundaries
        self.starts = starts
        self.active = Array(repeating: [], count: base.targetCount)
        self.effective = base.initialStates
        self.initialStates = base.initialStates
        // Windows that start at time zero shape the initial states.
        while nextBoundary < boundaries.count, boundaries[nextBoundary].time == 0 {
            apply(boundaries[nextBoundary])
            nextBoundary += 1
        }
        for target in 0..<base.targetCount {
            effective[target] = state(of: target)
        }
        self.initialStates = effective
    }

    public mutating func nextChange() -> HealthChange? {
        while pending.isEmpty {
            if lookahead == nil { lookahead = base.nextChange() }
            let boundaryTime = nextBoundary < boundaries.count ? boundaries[nextBoundary].time : nil
            let time: Int64
            if let change = lookahead, boundaryTime.map({ change.time < $0 }) ?? true {
                time = change.time
                while let change = lookahead, change.time == time {
                    baseStates[change.target] = change.state
                    lookahead = base.nextChange()
                }
            } else if let boundaryTime {
                time = boundaryTime
                while nextBoundary < boundaries.count, boundaries[nextBoundary].time == time {
                    apply(boundaries[nextBoundary])
                    nextBoundary += 1
                }
            } else {
                return nil
            }
            for target in 0..<targetCount {
                let now = state(of: target)
                if now != effective[target] {
                    effective[target] = now
                    pending.append(HealthChange(time: time, target: target, state: now))
                }
            }
        }
        return pending.removeFirst()
    }

    private mutating func apply(_ boundary: (time: Int64, window: Int, isStart: Bool)) {
        let target = windows[boundary.window].target
        if boundary.isStart {
            active[target].insert(boundary.window)
        } else {
            active[target].remove(boundary.window)
        }
    }

    private func state(of target: Int) -> Int {
        guard let winner = active[target].max(by: { (starts[$0], $0) < (starts[$1], $1) }) else {
            return baseStates[target]
        }
        return windows[winner].state
    }
}

/// A degradation process that never changes: every target healthy (state 0). The base
/// for a purely scripted timeline.
public struct SteadyHealth: DegradationProcess {
    public let targetCount: Int
    public var initialStates: [Int] { Array(repeating: 0, count: targetCount) }

    public init(targetCount: Int) throws(StochasticsError) {
        guard targetCount >= 1 else {
            throw StochasticsError("steady health: needs at least one target")
        }
        self.targetCount = targetCount
    }

    public func nextChange() -> HealthChange? { nil }
}
