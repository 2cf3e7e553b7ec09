import Experiments
import RoutingCore
import Testing

/// The sizing search's two parts, without a simulation: the sequential test's looks and the
/// walk over sizes, the latter against random monotone worlds.
@Suite("Fallback sizing: sequential looks and the size search")
struct SizeSearchTests {
    @Test("the spec's 8 replications, doubling to 32: 98.75%, 98.75%, 97.5%, spending 5% in all")
    func looksOfTheFlagship() {
        let looks = SequentialLooks(first: 8, confidence: 0.95).looks
        #expect(looks.map(\.replications) == [8, 16, 32])
        #expect(looks.map(\.confidence) == [0.9875, 0.9875, 0.975])
    }

    @Test("the looks spend exactly the error rate, each at least as strict as the stated confidence", arguments: 0..<200)
    func looksSpendTheErrorRate(seed: UInt64) {
        var random = SplitMix64(seed: seed)
        let first = 1 + Int(random.next() % 40), growth = 1 + Int(random.next() % 8)
        let confidence = 0.5 + Double(random.next() % 4_999) / 10_000
        let looks = SequentialLooks(first: first, growth: growth, confidence: confidence).looks
        #expect(looks.first?.replications == first)
        #expect(zip(looks, looks.dropFirst()).allSatisfy { $1.replications == 2 * $0.replications })
        #expect(looks.last!.replications <= first * growth && looks.last!.replications * 2 > first * growth)
        // Tolerance: 1 − α·share, rounded; a lone look's share is 1 and it comes back to the
        // stated confidence within an ulp or two.
        #expect(looks.allSatisfy { $0.confidence >= confidence - 1e-12 && $0.confidence < 1 })
        #expect(abs(looks.reduce(0) { $0 + (1 - $1.confidence) } - (1 - confidence)) < 1e-12)
    }

    /// A world where every size from `threshold` on meets the SLOs: a first look shows it for a
    /// size that meets them with probability `shown`, or shows a miss for one below with the
    /// same chance; otherwise it leaves the size open. A thorough judgement is always right.
    struct World {
        let threshold: Int
        let limit: Int
        var random: SplitMix64
        let shown: UInt64
        /// The smallest size the search may consider (0: no pool at all, judged only thoroughly).
        var lowest = 1
        var first: [Int: Bool?] = [:]
        var thorough: [Int] = []

        mutating func judge(_ size: Int, _ isThorough: Bool) -> Bool? {
            #expect((lowest...limit).contains(size), "size \(size) outside \(lowest)...\(limit)")
            #expect(size > 0 || isThorough, "size 0 on a first look")
            if isThorough {
                thorough.append(size)
                return size >= threshold
            }
            if let known = first[size] { return known }
            let verdict: Bool? = random.next() % 100 < shown ? size >= threshold : nil
            first[size] = verdict
            return verdict
        }
    }

    @Test(
        "the smallest size that meets the SLOs, whatever the first looks show, each size judged thoroughly at most once, and no more thorough judgements than a bisection needs",
        arguments: 0..<500)
    func searchFindsTheThreshold(seed: UInt64) {
        var random = SplitMix64(seed: seed)
        // Half the cases may consider no pool at all (size 0), as when the pool is only a fallback.
        let lowest = Int(random.next() % 2)
        let limit = 1 + Int(random.next() % 64)
        let threshold = lowest + Int(random.next() % UInt64(limit + 2 - lowest))  // limit + 1: no size meets them
        let start = 1 + Int(random.next() % UInt64(limit))
        var world = World(threshold: threshold, limit: limit, random: random, shown: random.next() % 101, lowest: lowest)
        let answer = SizeSearch.smallest(start: start, lowest: lowest, limit: limit) { size, thorough in world.judge(size, thorough) }
        #expect(answer == (threshold <= limit ? threshold : nil), "limit \(limit), threshold \(threshold), start \(start), lowest \(lowest)")
        #expect(Set(world.thorough).count == world.thorough.count, "\(world.thorough)")
        var bisection = 1
        while 1 << bisection < limit + 1 - lowest { bisection += 1 }
        #expect(world.thorough.count <= bisection + 1, "\(world.thorough) for limit \(limit)")
        if threshold > 1 { #expect(!world.thorough.contains(0), "0 judged though 1 misses") }
    }

    @Test("when the first looks show every size that meets the SLOs, only sizes below the first shown are judged thoroughly")
    func thoroughOnlyBelowTheBracket() {
        var world = World(threshold: 5, limit: 16, random: SplitMix64(seed: 1), shown: 100)
        let answer = SizeSearch.smallest(start: 2, limit: 16) { size, thorough in world.judge(size, thorough) }
        // First looks: 2 (missed), 4 (missed), 8 (met); bisecting (4, 8): 6 then 5, thoroughly.
        #expect(answer == 5)
        #expect(world.first.keys.sorted() == [2, 4, 8])
        #expect(world.thorough == [6, 5])
    }
}
