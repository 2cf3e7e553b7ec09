import SimulationKernel

/// Marshall–Olkin common shocks: independent Poisson shock streams, each hitting a fixed
/// set of targets at once; every target hit is out (state 1) for a repair time drawn per
/// shock. Overlapping outages extend each other.
///
/// With shocks on {1} at λ₁, {2} at λ₂ and {1, 2} at λ₁₂, the times to first failure have
/// correlation λ₁₂/(λ₁ + λ₂ + λ₁₂).
public struct CommonShockOutages: DegradationProcess {
    /// One shock stream: which targets it hits, how often, how long they stay out.
    public struct Shock: Sendable {
        public let targets: [Int]
        public let ratePerSecond: Double
        public let repairSeconds: Distribution

        public init(targets: [Int], ratePerSecond: Double, repairSeconds: Distribution) {
            self.targets = targets
            self.ratePerSecond = ratePerSecond
            self.repairSeconds = repairSeconds
        }
    }

    public let shocks: [Shock]
    public let targetCount: Int
    public var initialStates: [Int] { Array(repeating: 0, count: targetCount) }
    private let stream: RandomStream
    private var nextShockTimes: [Int64]
    private var overlay: OutageOverlay

    public init(targetCount: Int, shocks: [Shock], stream: RandomStream) throws(StochasticsError) {
        guard targetCount >= 1 else {
            throw StochasticsError("common shock: needs at least one target")
        }
        guard !shocks.isEmpty else {
            throw StochasticsError("common shock: needs at least one shock")
        }
        for (index, shock) in shocks.enumerated() {
            try StochasticsError.requirePositive(shock.ratePerSecond, "common shock: rate of shock \(index + 1) (per second)")
            guard !shock.targets.isEmpty else {
                throw StochasticsError("common shock: shock \(index + 1) hits no target")
            }
            if let bad = shock.targets.first(where: { !(0..<targetCount).contains($0) }) {
                throw StochasticsError("common shock: shock \(index + 1) names target \(bad); targets are 0..<\(targetCount)")
            }
            guard shock.repairSeconds.mean >= 0 else {
                throw StochasticsError("common shock: repair time of shock \(index + 1) must not be negative on average")
            }
        }
        self.targetCount = targetCount
        self.shocks = shocks
        self.stream = stream
        self.overlay = OutageOverlay(targetCount: targetCount)
        self.nextShockTimes = shocks.map { Swift.max(1, SimulationInstant.nanoseconds(fromSeconds: stream.exponential(mean: 1 / $0.ratePerSecond))) }
    }

    public mutating func nextChange() -> HealthChange? {
        while true {
            if let change = overlay.takePending() { return change }
            let shockIndex = nextShockTimes.indices.min { (nextShockTimes[$0], $0) < (nextShockTimes[$1], $1) }!
            let shockTime = nextShockTimes[shockIndex]
            if let recovery = overlay.nextRecoveryTime, recovery <= shockTime {
                overlay.recover()
                continue
            }
            let shock = shocks[shockIndex]
            overlay.incident(at: shockTime, duration: shock.repairSeconds.sampleNanoseconds(stream), targets: shock.targets.sorted())
            nextShockTimes[shockIndex] =
                shockTime + Swift.max(1, SimulationInstant.nanoseconds(fromSeconds: stream.exponential(mean: 1 / shock.ratePerSecond)))
        }
    }
}
