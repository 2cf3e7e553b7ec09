/// A change of one target's health state (a provider, a gateway, a pool), at an instant.
public struct HealthChange: Sendable, Equatable, CustomStringConvertible {
    /// When, in nanoseconds of simulated time.
    public let time: Int64
    /// Which target, an index into the process's targets.
    public let target: Int
    /// The new state: 0 is healthy; what other values mean is the profile's choice
    /// (for outage processes 1 is "out", for a regime it is the regime's state).
    public let state: Int

    public init(time: Int64, target: Int, state: Int) {
        self.time = time
        self.target = target
        self.state = state
    }

    public var description: String { "t=\(time)ns target \(target) → state \(state)" }
}

/// A seeded process that drives the health states of one or more targets over time.
///
/// Changes come in order of time; changes at the same time come in order of target.
/// A change is only reported when a target's state actually changes.
public protocol DegradationProcess {
    /// Number of targets the process drives.
    var targetCount: Int { get }
    /// Each target's state at time zero.
    var initialStates: [Int] { get }
    /// The next change, or nil when no further change will happen.
    mutating func nextChange() -> HealthChange?
}

/// Per-target "out until" bookkeeping shared by the processes in which overlapping
/// incidents extend an outage (common shock, Hawkes): a target is out while any incident
/// covering it lasts.
struct OutageOverlay {
    private var outUntil: [Int64]
    private var recoveries: [(time: Int64, target: Int)] = []
    private(set) var pending: [HealthChange] = []

    init(targetCount: Int) {
        outUntil = Array(repeating: -1, count: targetCount)
    }

    /// The earliest pending recovery time, if any.
    var nextRecoveryTime: Int64? { recoveries.first?.time }

    /// Targets `targets` go out at `time` for `duration` nanoseconds.
    mutating func incident(at time: Int64, duration: Int64, targets: [Int]) {
        for target in targets {
            let wasOut = outUntil[target] > time
            let until = time + Swift.max(1, duration)
            if !wasOut {
                pending.append(HealthChange(time: time, target: target, state: 1))
            }
            if until > outUntil[target] {
                outUntil[target] = until
                insertRecovery(time: until, target: target)
            }
        }
    }

    /// Processes the earliest recovery: the target comes back unless a later incident
    /// extended its outage.
    mutating func recover() {
        let recovery = recoveries.removeFirst()
        if outUntil[recovery.target] == recovery.time {
            pending.append(HealthChange(time: recovery.time, target: recovery.target, state: 0))
        }
    }

    mutating func takePending() -> HealthChange? {
        pending.isEmpty ? nil : pending.removeFirst()
    }

    private mutating func insertRecovery(time: Int64, target: Int) {
        let index = recoveries.firstIndex { ($0.time, $0.target) > (time, target) } ?? recoveries.endIndex
        recoveries.insert((time, target), at: index)
    }
}
