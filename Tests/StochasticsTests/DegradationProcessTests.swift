import Testing
@testable import Stochastics

/// Fraction of [0, horizon) each target spends in a state other than 0.
func degradedFractions(_ process: some DegradationProcess, horizon: Int64) -> [Double] {
    var process = process
    var states = process.initialStates
    var since = Array(repeating: Int64(0), count: states.count)
    var degraded = Array(repeating: Int64(0), count: states.count)
    while let change = process.nextChange(), change.time < horizon {
        if states[change.target] != 0 { degraded[change.target] += change.time - since[change.target] }
        states[change.target] = change.state
        since[change.target] = change.time
    }
    for target in states.indices where states[target] != 0 {
        degraded[target] += horizon - since[target]
    }
    return degraded.map { Double($0) / Double(horizon) }
}

@Suite("Degradation processes")
struct DegradationProcessTests {
    // The OpenAI API figures of provider-facts.md: MTBF 5.64 days, MTTR 2.56 h. 200 replications
    // of one simulated year each; tolerance 5 standard errors of the mean over replications.
    @Test("two-state outages are down MTTR/(MTBF+MTTR) of the time")
    func twoStateFraction() throws {
        let mtbf = 5.64 * 86_400.0
        let mttr = 2.56 * 3_600.0
        let year = Int64(365 * 86_400) * 1_000_000_000
        let fractions = try (0..<200).map { replication in
            try degradedFractions(
                TwoStateOutages(mtbfSeconds: mtbf, mttrSeconds: mttr, stream: testStream("two-state", replication: replication)), horizon: year)[0]
        }
        let moments = SampleMoments(fractions)
        let expected = mttr / (mtbf + mttr)
        #expect(abs(moments.mean - expected) <= 5 * moments.meanError)
        #expect(abs(try TwoStateOutages(mtbfSeconds: mtbf, mttrSeconds: mttr, stream: testStream("a")).availability - mtbf / (mtbf + mttr)) < 1e-15)
    }

    // A shared regime (normal 4 h / squeeze 1 h) drives two providers into state 1 together and
    // leaves a third alone: both follow the regime exactly, so they change at the same instants.
    @Test("a shared regime moves the providers it modulates together, and only those")
    func sharedRegime() throws {
        let chain = try MarkovChain(meanSojournSeconds: [4 * 3_600, 3_600])
        var regime = try MarkovRegime(chain: chain, stateMaps: [[0, 1], [0, 1], [0, 0]], initialRegime: 0, stream: testStream("shared"))
        var changes: [HealthChange] = []
        while let change = regime.nextChange(), changes.count < 400 { changes.append(change) }
        #expect(!changes.contains { $0.target == 2 })
        for pair in stride(from: 0, to: changes.count - 1, by: 2) {
            #expect(changes[pair].time == changes[pair + 1].time)
            #expect(changes[pair].target == 0 && changes[pair + 1].target == 1)
            #expect(changes[pair].state == changes[pair + 1].state)
        }
        // Long-run squeeze fraction 1/5, over 100 replications of 2,000 h, 5 standard errors.
        let fractions = try (0..<100).map { replication in
            try degradedFractions(
                MarkovRegime(chain: chain, stream: testStream("regime", replication: replication)), horizon: 2_000 * 3_600 * 1_000_000_000)[0]
        }
        let moments = SampleMoments(fractions)
        #expect(abs(moments.mean - 0.2) <= 5 * moments.meanError)
    }

    // Marshall–Olkin: the first failure times of two targets have correlation λ₁₂/(λ₁+λ₂+λ₁₂).
    // 20,000 replications; the standard error of a sample correlation is about (1−ρ²)/√n,
    // so 5 of them is ±0.03 here.
    @Test("common shocks give first-failure times the Marshall–Olkin correlation")
    func marshallOlkinCorrelation() throws {
        let (l1, l2, l12) = (1.0 / 3_600, 2.0 / 3_600, 1.5 / 3_600)
        let repair = try Distribution.constant(60)
        var first: [(Double, Double)] = []
        for replication in 0..<20_000 {
            var process = try CommonShockOutages(
                targetCount: 2,
                shocks: [
                    .init(targets: [0], ratePerSecond: l1, repairSeconds: repair),
                    .init(targets: [1], ratePerSecond: l2, repairSeconds: repair),
                    .init(targets: [0, 1], ratePerSecond: l12, repairSeconds: repair),
                ], stream: testStream("marshall-olkin", replication: replication))
            var times: [Double?] = [nil, nil]
            while times.contains(where: { $0 == nil }), let change = process.nextChange() {
                if change.state == 1 && times[change.target] == nil { times[change.target] = Double(change.time) }
            }
            first.append((times[0]!, times[1]!))
        }
        let expected = l12 / (l1 + l2 + l12)
        let correlation = pearson(first)
        #expect(
            abs(correlation - expected) <= 5 * (1 - expected * expected) / Double(first.count).squareRoot(),
            "correlation \(correlation) vs \(expected)")
    }

    @Test("overlapping shocks extend an outage instead of ending it early")
    func overlappingShocks() throws {
        var process = try CommonShockOutages(
            targetCount: 1,
            shocks: [
                .init(targets: [0], ratePerSecond: 1.0 / 60, repairSeconds: try .constant(30))
            ], stream: testStream("overlap"))
        var state = 0
        var last: Int64 = -1
        var downSince: Int64 = 0
        var longest: Int64 = 0
        for _ in 0..<2_000 {
            guard let change = process.nextChange() else { break }
            #expect(change.state != state, "a change must change the state")
            #expect(change.time >= last)
            if change.state == 1 { downSince = change.time } else { longest = max(longest, change.time - downSince) }
            state = change.state
            last = change.time
        }
        // Shocks every 60 s on average with 30 s repairs overlap often (P ≈ 0.39 per outage),
        // so over 1,000 outages some must last longer than a single repair.
        #expect(longest > 30_000_000_000)
    }

    // One-factor Gaussian and t copulas: per-slot marginals pᵢ, and the joint outage
    // probability equal to the numerical integral. 400,000 slots; binomial standard error
    // √(p(1−p)/n), tolerance 5 of them.
    @Test(
        "copula outages have exact marginals and the closed-form joint outage probability",
        arguments: [CopulaOutages.Family.gaussian, .studentT(degreesOfFreedom: 4)])
    func copulaJointOutage(family: CopulaOutages.Family) throws {
        let p = [0.05, 0.1]
        let process = try CopulaOutages(
            outageProbabilities: p, correlation: 0.6, family: family, slotSeconds: 1, stream: testStream("copula.\(family)"))
        let slots = 400_000
        var states = process.initialStates
        var copy = process
        var outCounts = [0.0, 0.0]
        var joint = 0.0
        var slot = 0
        var pending: HealthChange? = copy.nextChange()
        while slot < slots {
            let slotTime = Int64(slot) * 1_000_000_000
            while let change = pending, change.time <= slotTime {
                states[change.target] = change.state
                pending = copy.nextChange()
            }
            if states[0] == 1 { outCounts[0] += 1 }
            if states[1] == 1 { outCounts[1] += 1 }
            if states[0] == 1 && states[1] == 1 { joint += 1 }
            slot += 1
        }
        let n = Double(slots)
        for target in 0..<2 {
            #expect(abs(outCounts[target] / n - p[target]) <= 5 * (p[target] * (1 - p[target]) / n).squareRoot())
        }
        let expected = process.jointOutageProbability(targets: [0, 1])
        #expect(expected > p[0] * p[1] * 2, "ρ = 0.6 must make joint outages far likelier than independence")
        #expect(abs(joint / n - expected) <= 5 * (expected * (1 - expected) / n).squareRoot(), "joint \(joint / n) vs \(expected)")
    }

    // Hawkes with μ = 1/h, α = 0.6/h... in seconds: the long-run rate is μ/(1 − α/β). 200
    // replications of 20,000 h after a 2,000 h warm-up; tolerance 5 standard errors.
    @Test("Hawkes incidents arrive at μ/(1 − α/β) in the long run")
    func hawkesMeanRate() throws {
        let (mu, alpha, beta) = (1.0 / 3_600, 0.5 / 3_600, 1.0 / 3_600)
        let warmUp = Int64(2_000 * 3_600) * 1_000_000_000
        let horizon = warmUp + Int64(20_000 * 3_600) * 1_000_000_000
        let rates = try (0..<200).map { replication in
            var process = try HawkesIncidents(
                baseRatePerSecond: mu, excitation: alpha, decayPerSecond: beta, repairSeconds: try .constant(60),
                stream: testStream("hawkes", replication: replication))
            var count = 0.0
            while true {
                let time = process.nextIncidentTime()
                if time >= horizon { break }
                if time >= warmUp { count += 1 }
            }
            return count / (Double(horizon - warmUp) / 1e9)
        }
        let moments = SampleMoments(rates)
        let expected = mu / (1 - alpha / beta)
        #expect(abs(moments.mean - expected) <= 5 * moments.meanError, "rate \(moments.mean) vs \(expected)")
    }

    @Test("an explosive Hawkes process is rejected")
    func hawkesExplosive() {
        #expect(throws: StochasticsError("hawkes: alpha/beta = 1.0 makes the process explode; it must be < 1 (lower alpha or raise beta)")) {
            try HawkesIncidents(baseRatePerSecond: 1, excitation: 2, decayPerSecond: 2, repairSeconds: try .constant(1), stream: testStream("x"))
        }
    }

    @Test("a scripted window overrides the base process, then hands back to it")
    func scriptedTimeline() throws {
        // "From 13:40 to 16:10 provider 1 is in state 2 (529s)", on a steady base.
        let start = 13 * 3_600.0 + 40 * 60
        let end = 16 * 3_600.0 + 10 * 60
        var timeline = try ScriptedTimeline(
            base: SteadyHealth(targetCount: 2),
            windows: [
                .init(startSeconds: start, endSeconds: end, target: 1, state: 2),
                .init(startSeconds: start + 600, endSeconds: start + 1_200, target: 1, state: 1),
                .init(startSeconds: 0, endSeconds: 60, target: 0, state: 1),
            ])
        #expect(timeline.initialStates == [1, 0])
        var changes: [HealthChange] = []
        while let change = timeline.nextChange() { changes.append(change) }
        let ns: (Double) -> Int64 = { Int64($0 * 1e9) }
        #expect(
            changes == [
                HealthChange(time: ns(60), target: 0, state: 0),
                HealthChange(time: ns(start), target: 1, state: 2),
                HealthChange(time: ns(start + 600), target: 1, state: 1),
                HealthChange(time: ns(start + 1_200), target: 1, state: 2),
                HealthChange(time: ns(end), target: 1, state: 0),
            ])
        #expect(throws: StochasticsError("scripted timeline: window 1 names target 5; targets are 0..<2")) {
            try ScriptedTimeline(base: SteadyHealth(targetCount: 2), windows: [.init(startSeconds: 0, endSeconds: 1, target: 5, state: 1)])
        }
    }

    @Test("a scripted window layered on a random process keeps the base's changes outside the window")
    func scriptedOverRandom() throws {
        var alone = try TwoStateOutages(mtbfSeconds: 600, mttrSeconds: 60, stream: testStream("layer-base"))
        var layered = try ScriptedTimeline(
            base: try TwoStateOutages(mtbfSeconds: 600, mttrSeconds: 60, stream: testStream("layer-base")),
            windows: [.init(startSeconds: 10_000, endSeconds: 20_000, target: 0, state: 3)])
        let windowStart: Int64 = 10_000_000_000_000
        var baseChanges: [HealthChange] = []
        while let change = alone.nextChange(), change.time < windowStart { baseChanges.append(change) }
        var layeredChanges: [HealthChange] = []
        var firstInWindow: HealthChange?
        while let change = layered.nextChange() {
            if change.time >= windowStart { firstInWindow = change; break }
            layeredChanges.append(change)
        }
        #expect(baseChanges.count > 10)
        #expect(layeredChanges == baseChanges)
        #expect(firstInWindow == HealthChange(time: windowStart, target: 0, state: 3))
    }
}

func pearson(_ pairs: [(Double, Double)]) -> Double {
    let n = Double(pairs.count)
    let mx = pairs.reduce(0) { $0 + $1.0 } / n
    let my = pairs.reduce(0) { $0 + $1.1 } / n
    var sxy = 0.0, sxx = 0.0, syy = 0.0
    for (x, y) in pairs {
        sxy += (x - mx) * (y - my)
        sxx += (x - mx) * (x - mx)
        syy += (y - my) * (y - my)
    }
    return sxy / (sxx * syy).squareRoot()
}
