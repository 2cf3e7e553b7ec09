import SimulationKernel

/// A continuous-time Markov chain over a few states, given by its transition rates:
/// the shared regime (normal / capacity squeeze), Gilbert–Elliott good/bad channels,
/// K-state provider health, or the phases of modulated arrivals.
public struct MarkovChain: Sendable, Equatable {
    /// `rates[i][j]`: transitions per second from state i to state j (i ≠ j); the diagonal is ignored.
    public let rates: [[Double]]
    /// Total rate of leaving each state.
    public let exitRates: [Double]

    public var stateCount: Int { rates.count }

    /// A chain from its transition rates per second.
    public init(ratesPerSecond rates: [[Double]]) throws(StochasticsError) {
        guard !rates.isEmpty else {
            throw StochasticsError("markov chain: needs at least one state")
        }
        let k = rates.count
        var exits: [Double] = []
        for (i, row) in rates.enumerated() {
            guard row.count == k else {
                throw StochasticsError("markov chain: row \(i) of the rate matrix has \(row.count) entries, expected \(k)")
            }
            var exit = 0.0
            for (j, rate) in row.enumerated() where i != j {
                guard rate.isFinite, rate >= 0 else {
                    throw StochasticsError("markov chain: rate from state \(i) to state \(j) must be a finite number ≥ 0, got \(rate)")
                }
                exit += rate
            }
            if k > 1 && exit <= 0 {
                throw StochasticsError("markov chain: state \(i) has no way out (all its rates are 0); every state needs a rate > 0 to another")
            }
            exits.append(exit)
        }
        self.rates = rates
        self.exitRates = exits
        if k > 1 {
            for start in 0..<k where reachable(from: start).count < k {
                throw StochasticsError("markov chain: not every state can be reached from state \(start); the chain must be irreducible")
            }
        }
    }

    /// A chain from the mean time spent in each state and where it goes on leaving.
    ///
    /// - Parameters:
    ///   - meanSojournSeconds: mean stay in each state.
    ///   - jumpProbabilities: `[i][j]`, the probability that leaving i leads to j; each
    ///     row sums to 1 over j ≠ i. For two states it may be omitted.
    public init(meanSojournSeconds: [Double], jumpProbabilities: [[Double]]? = nil) throws(StochasticsError) {
        let k = meanSojournSeconds.count
        guard k >= 1 else {
            throw StochasticsError("markov chain: needs at least one state")
        }
        let jumps: [[Double]]
        if let jumpProbabilities {
            jumps = jumpProbabilities
        } else if k <= 2 {
            jumps = k == 1 ? [[0]] : [[0, 1], [1, 0]]
        } else {
            throw StochasticsError("markov chain: with \(k) states, give jump probabilities (where each state goes on leaving)")
        }
        guard jumps.count == k else {
            throw StochasticsError("markov chain: \(jumps.count) rows of jump probabilities for \(k) states")
        }
        var rates: [[Double]] = []
        for i in 0..<k {
            try StochasticsError.requirePositive(meanSojournSeconds[i], "markov chain: mean sojourn of state \(i) (seconds)")
            guard jumps[i].count == k else {
                throw StochasticsError("markov chain: jump probabilities of state \(i) have \(jumps[i].count) entries, expected \(k)")
            }
            var sum = 0.0
            for j in 0..<k where j != i {
                try StochasticsError.requireProbability(jumps[i][j], "markov chain: jump probability from state \(i) to state \(j)")
                sum += jumps[i][j]
            }
            if k > 1 && abs(sum - 1) > 1e-9 {
                throw StochasticsError("markov chain: jump probabilities leaving state \(i) sum to \(sum), must sum to 1")
            }
            rates.append((0..<k).map { j in j == i ? 0 : jumps[i][j] / meanSojournSeconds[i] })
        }
        try self.init(ratesPerSecond: rates)
    }

    /// A time in `state` before the next jump, in nanoseconds (effectively forever for a
    /// one-state chain).
    public func sojournNanoseconds(in state: Int, stream: RandomStream) -> Int64 {
        guard exitRates[state] > 0 else { return Int64.max / 2 }
        return Swift.max(1, SimulationInstant.nanoseconds(fromSeconds: stream.exponential(mean: 1 / exitRates[state])))
    }

    /// The state entered on leaving `state`.
    public func nextState(from state: Int, stream: RandomStream) -> Int {
        guard exitRates[state] > 0 else { return state }
        var u = stream.uniform() * exitRates[state]
        var last = state
        for (j, rate) in rates[state].enumerated() where j != state && rate > 0 {
            last = j
            if u < rate { return j }
            u -= rate
        }
        return last
    }

    /// The long-run fraction of time in each state (solves πQ = 0, Σπ = 1).
    public var stationaryDistribution: [Double] {
        let k = stateCount
        guard k > 1 else { return [1] }
        // Rows of Qᵀ with the last equation replaced by Σπ = 1; Gaussian elimination with
        // partial pivoting (k is small).
        var a = (0..<k).map { i in (0..<k).map { j in i == j ? -exitRates[i] : rates[j][i] } + [0.0] }
        a[k - 1] = Array(repeating: 1.0, count: k) + [1.0]
        for column in 0..<k {
            let pivot = (column..<k).max { abs(a[$0][column]) < abs(a[$1][column]) }!
            a.swapAt(column, pivot)
            for row in 0..<k where row != column {
                let factor = a[row][column] / a[column][column]
                if factor != 0 {
                    for c in column...k { a[row][c] -= factor * a[column][c] }
                }
            }
        }
        return (0..<k).map { a[$0][k] / a[$0][$0] }
    }

    /// A state drawn from the stationary distribution (to start a chain in equilibrium).
    public func stationaryState(stream: RandomStream) -> Int {
        var u = stream.uniform()
        let pi = stationaryDistribution
        for (state, p) in pi.enumerated() {
            if u < p { return state }
            u -= p
        }
        return stateCount - 1
    }

    private func reachable(from start: Int) -> Set<Int> {
        var seen: Set<Int> = [start]
        var frontier = [start]
        while let state = frontier.popLast() {
            for (j, rate) in rates[state].enumerated() where rate > 0 && !seen.contains(j) {
                seen.insert(j)
                frontier.append(j)
            }
        }
        return seen
    }
}
