/// The looks of a sequential test of one pool size against the SLOs: the replication counts at
/// which the intervals are read (the spec's count, then doubling, up to `growth` times it), and
/// the confidence of each look's intervals.
///
/// A size's test stops at the first look whose intervals clear every threshold one way or the
/// other, so reading every look at the stated confidence would give a wrong verdict more often
/// than it says. The error rate α = 1 − confidence is spent over the looks instead, in
/// proportion to the replications each adds (a linear α-spending function, Lan and DeMets):
/// look j reads its intervals at confidence 1 − α·(n_j − n_{j−1})/n_last. The looks' error
/// rates add up to α, so by the union bound the chance that any look declares a wrong verdict,
/// whichever look stops the test, is at most α: the stated confidence holds for the verdict.
public struct SequentialLooks: Sendable, Equatable {
    public struct Look: Sendable, Equatable, Codable {
        /// Replications simulated by this look (the same replications 0..<n at every size).
        public let replications: Int
        /// The confidence its intervals are read at.
        public let confidence: Double
    }

    public let looks: [Look]

    /// Looks at `first`, 2·`first`, … up to `growth`·`first` replications for a verdict at
    /// `confidence`.
    public init(first: Int, growth: Int = 4, confidence: Double) {
        precondition(first >= 1 && growth >= 1 && confidence > 0 && confidence < 1)
        var counts = [first]
        while counts.last! * 2 <= first * growth { counts.append(counts.last! * 2) }
        let alpha = 1 - confidence, last = Double(counts.last!)
        var previous = 0
        looks = counts.map { count in
            defer { previous = count }
            return Look(replications: count, confidence: 1 - alpha * Double(count - previous) / last)
        }
    }
}
