import Testing
@testable import Stochastics

@Suite("Named random streams")
struct RandomStreamTests {
    @Test("the seed hash is fixed: the same (master, replication, name) always gives the same seed")
    func seedIsStable() {
        // Pinned values: a change here silently changes every published result.
        #expect(StreamSeed.fnv1a64("") == 0xCBF2_9CE4_8422_2325)
        #expect(StreamSeed.fnv1a64("a") == 0xAF63_DC4C_8601_EC8C)
        #expect(
            StreamSeed.gslSeed(master: 1, replication: 0, name: "client.arrivals")
                == StreamSeed.gslSeed(master: 1, replication: 0, name: "client.arrivals"))
        let first = RandomStream(name: "x", seed: 7, replication: 3)
        let second = RandomStream(name: "x", seed: 7, replication: 3)
        #expect((0..<100).map { _ in first.uniform() } == (0..<100).map { _ in second.uniform() })
    }

    @Test("seeds differ by name, replication and master seed")
    func seedsDiffer() {
        let seeds = [
            StreamSeed.gslSeed(master: 1, replication: 0, name: "a"),
            StreamSeed.gslSeed(master: 1, replication: 0, name: "b"),
            StreamSeed.gslSeed(master: 1, replication: 1, name: "a"),
            StreamSeed.gslSeed(master: 2, replication: 0, name: "a"),
        ]
        #expect(Set(seeds).count == seeds.count)
    }

    @Test("adding a stream leaves another stream's draws unchanged")
    func addingAStreamChangesNoOtherStream() {
        let alone = RandomStream(name: "provider.a.latency", seed: 42, replication: 0)
        let aloneDraws = (0..<50).map { _ in alone.uniform() }

        let newcomer = RandomStream(name: "provider.new.latency", seed: 42, replication: 0)
        let withNeighbour = RandomStream(name: "provider.a.latency", seed: 42, replication: 0)
        var interleaved: [Double] = []
        for _ in 0..<50 {
            _ = newcomer.uniform()
            interleaved.append(withNeighbour.uniform())
        }
        #expect(interleaved == aloneDraws)
    }

    @Test("a stream is a RandomNumberGenerator with 64 random bits per draw")
    func randomNumberGenerator() {
        var stream = testStream("rng")
        let draws = (0..<1000).map { _ in stream.next() }
        // Over 1000 draws every one of the 64 bits is set at least once and cleared at least once.
        let ored = draws.reduce(0, |)
        let anded = draws.reduce(UInt64.max, &)
        #expect(ored == UInt64.max)
        #expect(anded == 0)
        let roll = Int.random(in: 1...6, using: &stream)
        #expect((1...6).contains(roll))
    }
}
