import SimulationKernel

/// A stream of arrival instants in nanoseconds of simulated time.
///
/// `nextArrival(after:)` returns the next arrival, never before the previous one; a
/// process that has run out (a finite replay, a rate that stays zero) returns nil.
public protocol ArrivalProcess {
    /// The next arrival at or after `time` (the previous arrival, or the start), drawing from
    /// `stream`; nil when no further arrival will ever come.
    mutating func nextArrival(after time: Int64, stream: RandomStream) -> Int64?

    /// Long-run mean arrivals per second.
    var meanRatePerSecond: Double { get }
}

/// Poisson arrivals: exponential gaps with mean 1/rate.
public struct PoissonArrivals: ArrivalProcess, Sendable, Equatable {
    public let ratePerSecond: Double

    public init(ratePerSecond: Double) throws(StochasticsError) {
        try StochasticsError.requirePositive(ratePerSecond, "poisson arrivals: rate per second")
        self.ratePerSecond = ratePerSecond
    }

    public var meanRatePerSecond: Double { ratePerSecond }

    @inlinable
    public mutating func nextArrival(after time: Int64, stream: RandomStream) -> Int64? {
        time + Swift.max(1, SimulationInstant.nanoseconds(fromSeconds: stream.exponential(mean: 1 / ratePerSecond)))
    }
}

/// A non-homogeneous Poisson process whose rate is constant within each segment
/// (a diurnal profile: night, morning ramp, peak, …), optionally repeating.
///
/// Sampled exactly by inversion: an Exp(1) draw is spent against the integrated rate,
/// segment by segment, so no thinning bound is needed.
public struct PiecewiseConstantArrivals: ArrivalProcess, Sendable, Equatable {
    /// One segment: `rate` arrivals per second for `seconds` seconds.
    public struct Segment: Sendable, Equatable {
        public let seconds: Double
        public let ratePerSecond: Double

        public init(seconds: Double, ratePerSecond: Double) {
            self.seconds = seconds
            self.ratePerSecond = ratePerSecond
        }
    }

    public let segments: [Segment]
    /// Whether the profile starts over after its last segment (a daily cycle).
    public let repeats: Bool
    private let boundaries: [Int64]
    private let period: Int64

    public init(segments: [Segment], repeats: Bool) throws(StochasticsError) {
        guard !segments.isEmpty else {
            throw StochasticsError("piecewise arrivals: needs at least one segment")
        }
        var boundaries: [Int64] = []
        var end: Int64 = 0
        for (index, segment) in segments.enumerated() {
            try StochasticsError.requirePositive(segment.seconds, "piecewise arrivals: segment \(index + 1) duration (seconds)")
            guard segment.ratePerSecond.isFinite, segment.ratePerSecond >= 0 else {
                throw StochasticsError("piecewise arrivals: segment \(index + 1) rate must be a finite number ≥ 0, got \(segment.ratePerSecond)")
            }
            end += Swift.max(1, SimulationInstant.nanoseconds(fromSeconds: segment.seconds))
            boundaries.append(end)
        }
        guard segments.contains(where: { $0.ratePerSecond > 0 }) else {
            throw StochasticsError("piecewise arrivals: every segment has rate 0; at least one must be > 0")
        }
        self.segments = segments
        self.repeats = repeats
        self.boundaries = boundaries
        self.period = end
    }

    public var meanRatePerSecond: Double {
        let total = segments.reduce(0) { $0 + $1.seconds * $1.ratePerSecond }
        return total / segments.reduce(0) { $0 + $1.seconds }
    }

    /// The rate in force at `time`.
    public func rate(at time: Int64) -> Double {
        guard repeats || time < period else { return 0 }
        let phase = time % period
        let index = boundaries.firstIndex(where: { phase < $0 })!
        return segments[index].ratePerSecond
    }

    public mutating func nextArrival(after time: Int64, stream: RandomStream) -> Int64? {
        var budget = stream.exponential(mean: 1)
        var now = time
        while true {
            guard repeats || now < period else { return nil }
            let cycleStart = now - now % period
            let phase = now - cycleStart
            let index = boundaries.firstIndex(where: { phase < $0 })!
            let segmentEnd = cycleStart + boundaries[index]
            let rate = segments[index].ratePerSecond
            let available = rate * Double(segmentEnd - now) / 1e9
            if rate > 0 && budget <= available {
                return Swift.max(time + 1, now + Swift.max(1, SimulationInstant.nanoseconds(fromSeconds: budget / rate)))
            }
            budget -= available
            now = segmentEnd
        }
    }
}

/// A Markov-modulated Poisson process: a continuous-time Markov chain over K phases
/// (quiet, busy, batch job, …), each with its own Poisson rate.
public struct MarkovModulatedArrivals: ArrivalProcess, Sendable, Equatable {
    public let ratesPerSecond: [Double]
    public let chain: MarkovChain
    public private(set) var phase: Int
    private var phaseEnds: Int64?

    /// - Parameters:
    ///   - ratesPerSecond: arrival rate in each phase.
    ///   - chain: the phase process; its state count must equal the number of rates.
    ///   - initialPhase: the phase at time zero.
    public init(ratesPerSecond: [Double], chain: MarkovChain, initialPhase: Int = 0) throws(StochasticsError) {
        guard ratesPerSecond.count == chain.stateCount else {
            throw StochasticsError(
                "markov-modulated arrivals: \(ratesPerSecond.count) rates for a chain of \(chain.stateCount) states; give one rate per state")
        }
        for (index, rate) in ratesPerSecond.enumerated() where !(rate.isFinite && rate >= 0) {
            throw StochasticsError("markov-modulated arrivals: rate of state \(index) must be a finite number ≥ 0, got \(rate)")
        }
        guard ratesPerSecond.contains(where: { $0 > 0 }) else {
            throw StochasticsError("markov-modulated arrivals: every state has rate 0; at least one must be > 0")
        }
        guard (0..<chain.stateCount).contains(initialPhase) else {
            throw StochasticsError("markov-modulated arrivals: initial phase \(initialPhase) is not a state (0..<\(chain.stateCount))")
        }
        self.ratesPerSecond = ratesPerSecond
        self.chain = chain
        self.phase = initialPhase
    }

    public var meanRatePerSecond: Double {
        zip(chain.stationaryDistribution, ratesPerSecond).reduce(0) { $0 + $1.0 * $1.1 }
    }

    public mutating func nextArrival(after time: Int64, stream: RandomStream) -> Int64? {
        var now = time
        while true {
            let ends: Int64
            if let phaseEnds {
                ends = phaseEnds
            } else {
                ends = now + chain.sojournNanoseconds(in: phase, stream: stream)
                phaseEnds = ends
            }
            let rate = ratesPerSecond[phase]
            if rate > 0 {
                let candidate = now + Swift.max(1, SimulationInstant.nanoseconds(fromSeconds: stream.exponential(mean: 1 / rate)))
                // Memorylessness: a gap that outlasts the phase is discarded at the switch.
                if candidate < ends { return candidate }
            }
            now = ends
            phase = chain.nextState(from: phase, stream: stream)
            phaseEnds = nil
        }
    }
}

/// Replays recorded arrival instants (e.g. a production trace), in order, once.
public struct ReplayArrivals: ArrivalProcess, Sendable, Equatable {
    public let instants: [Int64]
    private var position = 0

    /// - Parameter seconds: arrival times in seconds from the start; must be ≥ 0 and
    ///   non-decreasing.
    public init(seconds: [Double]) throws(StochasticsError) {
        guard !seconds.isEmpty else {
            throw StochasticsError("replay arrivals: needs at least one timestamp")
        }
        var previous = -Double.infinity
        for (index, value) in seconds.enumerated() {
            guard value.isFinite, value >= 0 else {
                throw StochasticsError("replay arrivals: timestamp \(index + 1) must be a finite number of seconds ≥ 0, got \(value)")
            }
            guard value >= previous else {
                throw StochasticsError("replay arrivals: timestamps must not decrease; timestamp \(index + 1) (\(value)) comes before \(previous)")
            }
            previous = value
        }
        self.instants = seconds.map { SimulationInstant.nanoseconds(fromSeconds: $0) }
    }

    /// Timestamps in seconds from column `column` of a CSV file.
    public init(csvFile path: String, column: String) throws(StochasticsError) {
        try self.init(seconds: try CSVColumn.read(path: path, column: column))
    }

    public var meanRatePerSecond: Double {
        guard let last = instants.last, last > 0 else { return 0 }
        return Double(instants.count) / (Double(last) / 1e9)
    }

    public mutating func nextArrival(after time: Int64, stream: RandomStream) -> Int64? {
        guard position < instants.count else { return nil }
        defer { position += 1 }
        return Swift.max(instants[position], time)
    }
}
