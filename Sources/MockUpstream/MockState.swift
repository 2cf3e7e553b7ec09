import Foundation
import NIOCore
import RoutingCore

/// What the mock will do next and what it has seen: a queue of scheduled faults (each for a
/// number of requests), faults drawn at random, the fault for everything else, and counters
/// the tests read.
public actor MockState {
    /// Faults at random: each request not otherwise scheduled gets one of `faults` with
    /// `probability`, from a seeded generator.
    public struct RandomFaults: Codable, Sendable {
        var probability: Double
        var faults: [MockFault]?
        var seed: UInt64?
    }

    public struct Stats: Codable, Sendable {
        var requests = 0
        var completed = 0
        /// Responses the client abandoned before their end (its connection went away).
        var cancelled = 0
        /// The most requests being handled at once (a whole answer until it is sent, a stream
        /// until its headers are).
        var maxConcurrent = 0
        /// The client connections requests came on (distinct remote address and port): how
        /// well the client reuses its connections.
        var connections = 0

        enum CodingKeys: String, CodingKey {
            case requests, completed, cancelled, maxConcurrent = "max_concurrent", connections
        }
    }

    private var scheduled: [(fault: MockFault, remaining: Int)] = []
    private(set) var defaultFault: MockFault
    private(set) var stats = Stats()
    private var random: (RandomFaults, generator: SplitMix64)?
    private var handling = 0
    private var connectionsSeen: Set<SocketAddress> = []

    public func handlerStarted() {
        handling += 1
        stats.maxConcurrent = max(stats.maxConcurrent, handling)
    }

    public func handlerEnded() { handling -= 1 }

    /// The mock's own draws (first-token times).
    private var draws: SplitMix64

    public init(defaultFault: MockFault, seed: UInt64) {
        self.defaultFault = defaultFault
        draws = SplitMix64(seed: seed)
    }

    /// A lognormal draw: median · exp(sigma · Z), Z standard normal (Box–Muller).
    func lognormal(median: Double, sigma: Double) -> Double {
        let u1 = Double.random(in: Double.leastNonzeroMagnitude..<1, using: &draws)
        let u2 = Double.random(in: 0..<1, using: &draws)
        let z = (-2 * Foundation.log(u1)).squareRoot() * Foundation.cos(2 * Double.pi * u2)
        return median * Foundation.exp(sigma * z)
    }

    /// The fault for the request that just arrived: the one it asked for itself (header or
    /// model name), else the next scheduled, else one drawn at random, else the default.
    func nextFault(requested: MockFault?, connection: SocketAddress?) -> MockFault {
        stats.requests += 1
        if let connection, connectionsSeen.insert(connection).inserted { stats.connections += 1 }
        if let requested { return requested }
        guard !scheduled.isEmpty else {
            if let (faults, start) = random {
                var generator = start
                defer { random = (faults, generator) }
                if Double.random(in: 0..<1, using: &generator) < faults.probability {
                    let choices = faults.faults ?? MockFault.allCases.filter { $0 != .none }
                    return choices.randomElement(using: &generator) ?? defaultFault
                }
            }
            return defaultFault
        }
        let fault = scheduled[0].fault
        scheduled[0].remaining -= 1
        if scheduled[0].remaining == 0 { scheduled.removeFirst() }
        return fault
    }

    func schedule(_ fault: MockFault, count: Int) {
        scheduled.append((fault, count))
    }

    func setDefault(_ fault: MockFault) {
        defaultFault = fault
    }

    /// Draws faults at random from now on (nil: stops).
    func setRandom(_ faults: RandomFaults?) {
        random = faults.map { ($0, SplitMix64(seed: $0.seed ?? 1)) }
    }

    public func completed() { stats.completed += 1 }
    public func cancelled() { stats.cancelled += 1 }

    func reset() {
        scheduled = []
        random = nil
        stats = Stats()
        connectionsSeen = []
    }
}
