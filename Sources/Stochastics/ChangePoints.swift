import CGSL
import Foundation

/// Change points in a series of categorical counts (per time bin, how many attempts ended in
/// each outcome class), and the few states the stretches between them come from.
///
/// - Segmentation is optimal partitioning (Jackson et al. 2005): the exact minimum over every
///   split of the series of Σ cost(segment) + β per change, where a segment's cost is the
///   multinomial negative log-likelihood of its bins' counts at their pooled proportions, by
///   dynamic programming over prefix sums in O(B²·C) for B bins of C categories. Exact rather
///   than binary segmentation, which can miss a short stretch inside a long one; bins with no
///   counts (nothing was sent: a breaker open) cost nothing in any segment, so they join a
///   neighbour. β is the caller's (BIC: half the parameters a new segment adds times the log of
///   the counts).
/// - States: segments whose mixes a likelihood-ratio test cannot tell apart are one state.
///   Agglomerative: the pair of states with the largest p-value (G statistic, χ² with C − 1
///   degrees of freedom) merges while that p-value is above the significance.
public enum ChangePoints {
    /// The segments (ranges of bin indices, in order, covering every bin) of the least
    /// penalised cost.
    public static func segments(_ bins: [[Int]], penalty: Double) -> [Range<Int>] {
        let count = bins.count
        guard count > 0 else { return [] }
        let categories = bins.map(\.count).max() ?? 0
        // prefix[i][c]: counts of category c in bins 0..<i.
        var prefix = [Array(repeating: 0, count: categories)]
        prefix.reserveCapacity(count + 1)
        for bin in bins {
            var next = prefix[prefix.count - 1]
            for (category, value) in bin.enumerated() { next[category] += value }
            prefix.append(next)
        }
        func cost(_ start: Int, _ end: Int) -> Double {
            negativeLogLikelihood((0..<categories).map { prefix[end][$0] - prefix[start][$0] })
        }
        // best[j]: the least cost of bins 0..<j; last[j]: where its last segment starts.
        var best = Array(repeating: Double.infinity, count: count + 1)
        var last = Array(repeating: 0, count: count + 1)
        best[0] = -penalty
        for end in 1...count {
            for start in 0..<end {
                let candidate = best[start] + penalty + cost(start, end)
                if candidate < best[end] {
                    best[end] = candidate
                    last[end] = start
                }
            }
        }
        var ranges: [Range<Int>] = []
        var end = count
        while end > 0 {
            ranges.append(last[end]..<end)
            end = last[end]
        }
        return ranges.reversed()
    }

    /// For each of `groups` (pooled counts per category, all of one length), the state it
    /// belongs to (0, 1, …, in order of first appearance).
    public static func states(_ groups: [[Int]], significance: Double) -> [Int] {
        var members = groups.indices.map { [$0] }
        var pooled = groups
        while pooled.count > 1 {
            var bestPair: (Int, Int)?
            var bestP = significance
            for a in pooled.indices {
                for b in pooled.indices where b > a {
                    let p = sameMixPValue(pooled[a], pooled[b])
                    if p > bestP {
                        bestP = p
                        bestPair = (a, b)
                    }
                }
            }
            guard let (a, b) = bestPair else { break }
            pooled[a] = zip(pooled[a], pooled[b]).map(+)
            members[a] += members[b]
            pooled.remove(at: b)
            members.remove(at: b)
        }
        var state = Array(repeating: 0, count: groups.count)
        for (index, group) in members.sorted(by: { $0.min()! < $1.min()! }).enumerated() {
            for member in group { state[member] = index }
        }
        return state
    }

    /// The p-value of two count vectors coming from one multinomial: G = 2·(ℓ(separate) −
    /// ℓ(pooled)), χ² with (categories either has) − 1 degrees of freedom. 1 when either is
    /// empty (nothing tells them apart).
    public static func sameMixPValue(_ a: [Int], _ b: [Int]) -> Double {
        let categories = max(a.count, b.count)
        let left = (0..<categories).map { $0 < a.count ? a[$0] : 0 }, right = (0..<categories).map { $0 < b.count ? b[$0] : 0 }
        guard left.reduce(0, +) > 0, right.reduce(0, +) > 0 else { return 1 }
        let seen = (0..<categories).filter { left[$0] + right[$0] > 0 }.count
        guard seen > 1 else { return 1 }
        let g = 2 * (negativeLogLikelihood(zip(left, right).map(+)) - negativeLogLikelihood(left) - negativeLogLikelihood(right))
        return gsl_cdf_chisq_Q(max(0, g), Double(seen - 1))
    }

    /// −Σ n_c·log(n_c / N): counts at their own proportions.
    public static func negativeLogLikelihood(_ counts: [Int]) -> Double {
        let total = Double(counts.reduce(0, +))
        guard total > 0 else { return 0 }
        var sum = 0.0
        for value in counts where value > 0 { sum -= Double(value) * log(Double(value) / total) }
        return sum
    }
}
