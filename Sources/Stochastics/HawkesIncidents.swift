import Foundation
import SimulationKernel

/// Self-exciting incidents: a Hawkes process with exponential kernel,
/// λ(t) = μ + Σ α·e^{−β(t − tᵢ)} over past incidents tᵢ (rates per second).
/// Each incident puts every target out (state 1) for a repair time; overlaps extend.
///
/// Stationary only when the branching ratio α/β < 1; its long-run incident rate is then
/// μ/(1 − α/β). Simulated exactly by Ogata's thinning (the intensity only decays between
/// incidents, so its current value bounds it until the next one).
public struct HawkesIncidents: DegradationProcess {
    public let baseRatePerSecond: Double
    public let excitation: Double
    public let decayPerSecond: Double
    public let repairSeconds: Distribution
    public let targetCount: Int
    public var initialStates: [Int] { Array(repeating: 0, count: targetCount) }
    private let stream: RandomStream
    private var time: Int64 = 0
    /// Σ α·e^{−β(time − tᵢ)} at `time`.
    private var excited: Double = 0
    private var nextIncident: Int64?
    private var overlay: OutageOverlay

    /// - Parameters:
    ///   - baseRatePerSecond: μ > 0.
    ///   - excitation: α ≥ 0, the jump of the intensity per incident.
    ///   - decayPerSecond: β > 0; α/β must be < 1.
    ///   - repairSeconds: how long targets stay out per incident.
    ///   - targetCount: how many targets each incident hits (all of them).
    public init(
        baseRatePerSecond: Double, excitation: Double, decayPerSecond: Double, repairSeconds: Distribution, targetCount: Int = 1, stream: RandomStream
    ) throws(StochasticsError) {
        try StochasticsError.requirePositive(baseRatePerSecond, "hawkes: base rate mu (per second)")
        guard excitation.isFinite, excitation >= 0 else {
            throw StochasticsError("hawkes: excitation alpha must be a finite number ≥ 0, got \(excitation)")
        }
        try StochasticsError.requirePositive(decayPerSecond, "hawkes: decay beta (per second)")
        guard excitation / decayPerSecond < 1 else {
            throw StochasticsError(
                "hawkes: alpha/beta = \(excitation / decayPerSecond) makes the process explode; it must be < 1 (lower alpha or raise beta)")
        }
        guard targetCount >= 1 else {
            throw StochasticsError("hawkes: needs at least one target")
        }
        self.baseRatePerSecond = baseRatePerSecond
        self.excitation = excitation
        self.decayPerSecond = decayPerSecond
        self.repairSeconds = repairSeconds
        self.targetCount = targetCount
        self.stream = stream
        self.overlay = OutageOverlay(targetCount: targetCount)
    }

    /// Long-run incidents per second, μ/(1 − α/β).
    public var stationaryRatePerSecond: Double {
        baseRatePerSecond / (1 - excitation / decayPerSecond)
    }

    /// The next incident instant (advances the process).
    public mutating func nextIncidentTime() -> Int64 {
        while true {
            let bound = baseRatePerSecond + excited
            let gap = stream.exponential(mean: 1 / bound)
            let decayed = excited * exp(-decayPerSecond * gap)
            time += Swift.max(1, SimulationInstant.nanoseconds(fromSeconds: gap))
            excited = decayed
            if stream.uniform() * bound <= baseRatePerSecond + decayed {
                excited += excitation
                return time
            }
        }
    }

    public mutating func nextChange() -> HealthChange? {
        while true {
            if let change = overlay.takePending() { return change }
            let incident: Int64
            if let pending = nextIncident {
                incident = pending
            } else {
                incident = nextIncidentTime()
                nextIncident = incident
            }
            if let recovery = overlay.nextRecoveryTime, recovery <= incident {
                overlay.recover()
                continue
            }
            nextIncident = nil
            overlay.incident(at: incident, duration: repairSeconds.sampleNanoseconds(stream), targets: Array(0..<targetCount))
        }
    }
}
