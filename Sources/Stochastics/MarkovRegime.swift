/// A K-state Markov regime and the targets it modulates.
///
/// With one target and the identity mapping this is a K-state health chain (Gilbert–Elliott
/// for K = 2). With several targets it is a **shared regime**: one chain (say normal /
/// capacity squeeze) sets the state of every target through its own mapping, so the
/// targets degrade together — the correlation is explicit in the mapping, never implied.
public struct MarkovRegime: DegradationProcess {
    public let chain: MarkovChain
    /// `stateMaps[target][regime]`: the target's state while the chain is in `regime`.
    public let stateMaps: [[Int]]
    public let initialStates: [Int]
    private let stream: RandomStream
    public private(set) var regime: Int
    private var time: Int64 = 0
    private var pending: [HealthChange] = []

    public var targetCount: Int { stateMaps.count }

    /// - Parameters:
    ///   - chain: the regime process.
    ///   - stateMaps: per target, its state in each regime (values ≥ 0).
    ///   - initialRegime: the regime at time zero; nil draws it from the stationary distribution.
    public init(chain: MarkovChain, stateMaps: [[Int]], initialRegime: Int? = nil, stream: RandomStream) throws(StochasticsError) {
        guard !stateMaps.isEmpty else {
            throw StochasticsError("markov regime: needs at least one target")
        }
        for (target, map) in stateMaps.enumerated() {
            guard map.count == chain.stateCount else {
                throw StochasticsError("markov regime: target \(target) maps \(map.count) regimes, the chain has \(chain.stateCount)")
            }
            if let bad = map.first(where: { $0 < 0 }) {
                throw StochasticsError("markov regime: target \(target) maps a regime to state \(bad); states are ≥ 0")
            }
        }
        if let initialRegime, !(0..<chain.stateCount).contains(initialRegime) {
            throw StochasticsError("markov regime: initial regime \(initialRegime) is not a state (0..<\(chain.stateCount))")
        }
        self.chain = chain
        self.stateMaps = stateMaps
        self.stream = stream
        let start = initialRegime ?? chain.stationaryState(stream: stream)
        self.regime = start
        self.initialStates = stateMaps.map { $0[start] }
    }

    /// A single target whose state is the regime itself.
    public init(chain: MarkovChain, initialRegime: Int? = nil, stream: RandomStream) throws(StochasticsError) {
        try self.init(chain: chain, stateMaps: [Array(0..<chain.stateCount)], initialRegime: initialRegime, stream: stream)
    }

    public mutating func nextChange() -> HealthChange? {
        while pending.isEmpty {
            guard chain.exitRates[regime] > 0 else { return nil }
            time += chain.sojournNanoseconds(in: regime, stream: stream)
            let next = chain.nextState(from: regime, stream: stream)
            for (target, map) in stateMaps.enumerated() where map[next] != map[regime] {
                pending.append(HealthChange(time: time, target: target, state: map[next]))
            }
            regime = next
        }
        return pending.removeFirst()
    }
}
