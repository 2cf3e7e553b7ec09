import Testing
@testable import Stochastics

@Suite("Arrival processes")
struct ArrivalProcessTests {
    /// Counts arrivals of `process` in consecutive windows of `windowSeconds` over `windows` windows.
    func windowCounts(_ process: some ArrivalProcess, windowSeconds: Double, windows: Int, stream: RandomStream) -> [Double] {
        var process = process
        var counts = Array(repeating: 0.0, count: windows)
        let window = Int64(windowSeconds * 1e9)
        var time: Int64 = 0
        while let next = process.nextArrival(after: time, stream: stream) {
            let index = Int(next / window)
            if index >= windows { break }
            counts[index] += 1
            time = next
        }
        return counts
    }

    // 20,000 windows of λT = 50: counts must have mean and variance λT (Poisson), each
    // within 5 standard errors of the estimate.
    @Test("Poisson counts in a window have mean and variance λT")
    func poissonCounts() throws {
        let counts = windowCounts(try PoissonArrivals(ratePerSecond: 100), windowSeconds: 0.5, windows: 20_000, stream: testStream("poisson"))
        let moments = SampleMoments(counts)
        #expect(abs(moments.mean - 50) <= 5 * moments.meanError)
        #expect(abs(moments.variance - 50) <= 5 * moments.varianceError)
    }

    // A two-segment daily profile repeated 2,000 times: each segment's count is Poisson with
    // mean rate × duration; the total over 2,000 cycles has a standard error of √(mean).
    @Test("a piecewise-constant profile delivers each segment's rate")
    func piecewiseProfile() throws {
        let profile = try PiecewiseConstantArrivals(
            segments: [.init(seconds: 6, ratePerSecond: 2), .init(seconds: 4, ratePerSecond: 20)],
            repeats: true
        )
        #expect(abs(profile.meanRatePerSecond - 9.2) < 1e-12)
        let counts = windowCounts(profile, windowSeconds: 2, windows: 10_000, stream: testStream("piecewise"))
        // Windows 0,1,2 of each 5-window cycle fall in the quiet segment, 3 and 4 in the busy one.
        let quiet = counts.enumerated().filter { $0.offset % 5 < 3 }.map(\.element).reduce(0, +)
        let busy = counts.enumerated().filter { $0.offset % 5 >= 3 }.map(\.element).reduce(0, +)
        let expectedQuiet = 2.0 * 6 * 2_000
        let expectedBusy = 20.0 * 4 * 2_000
        #expect(abs(quiet - expectedQuiet) <= 5 * expectedQuiet.squareRoot())
        #expect(abs(busy - expectedBusy) <= 5 * expectedBusy.squareRoot())
    }

    @Test("a profile that does not repeat ends")
    func piecewiseEnds() throws {
        var profile = try PiecewiseConstantArrivals(segments: [.init(seconds: 1, ratePerSecond: 50)], repeats: false)
        let stream = testStream("piecewise-end")
        var time: Int64 = 0
        var count = 0
        while let next = profile.nextArrival(after: time, stream: stream) {
            #expect(next < 1_000_000_000)
            time = next
            count += 1
        }
        #expect(count > 10)
    }

    // The long-run rate of an MMPP is Σ πᵢλᵢ. 200 independent replications of 2,000 s; the
    // tolerance is 5 standard errors of the mean over replications.
    @Test("a Markov-modulated Poisson process has long-run rate Σ πᵢλᵢ")
    func markovModulatedRate() throws {
        let chain = try MarkovChain(meanSojournSeconds: [30, 10])
        #expect(chain.stationaryDistribution.map { ($0 * 1e12).rounded() / 1e12 } == [0.75, 0.25])
        let process = try MarkovModulatedArrivals(ratesPerSecond: [5, 45], chain: chain)
        #expect(abs(process.meanRatePerSecond - 15) < 1e-9)
        let rates = (0..<200).map { replication in
            windowCounts(process, windowSeconds: 2_000, windows: 1, stream: testStream("mmpp", replication: replication))[0] / 2_000
        }
        let moments = SampleMoments(rates)
        #expect(abs(moments.mean - 15) <= 5 * moments.meanError)
    }

    @Test("a replay returns the recorded instants in order, then ends")
    func replay() throws {
        var replay = try ReplayArrivals(seconds: [0.5, 1, 1, 2.25])
        let stream = testStream("replay")
        var time: Int64 = 0
        var seen: [Int64] = []
        while let next = replay.nextArrival(after: time, stream: stream) {
            seen.append(next)
            time = next
        }
        #expect(seen == [500_000_000, 1_000_000_000, 1_000_000_000, 2_250_000_000])
        #expect(throws: StochasticsError("replay arrivals: timestamps must not decrease; timestamp 2 (1.0) comes before 2.0")) {
            try ReplayArrivals(seconds: [2, 1])
        }
    }

    @Test("bad arrival parameters get a clear message")
    func invalidParameters() {
        #expect(throws: StochasticsError("poisson arrivals: rate per second must be a finite number > 0, got 0.0")) {
            try PoissonArrivals(ratePerSecond: 0)
        }
        #expect(throws: StochasticsError("piecewise arrivals: every segment has rate 0; at least one must be > 0")) {
            try PiecewiseConstantArrivals(segments: [.init(seconds: 1, ratePerSecond: 0)], repeats: true)
        }
        #expect(throws: StochasticsError("markov chain: state 1 has no way out (all its rates are 0); every state needs a rate > 0 to another")) {
            try MarkovChain(ratesPerSecond: [[0, 1], [0, 0]])
        }
    }
}
