import Stochastics

/// What a degradation process drives.
public enum HealthTarget: Sendable, Equatable {
    /// A provider, by its index in the world's providers.
    case provider(Int)
    /// The gateway itself.
    case gateway
}

/// A degradation process wired to the world: the process's targets become providers (or
/// the gateway), and each process state becomes one of the target's health states.
///
/// States are ordered from healthy (0) to worst; when several processes drive the same
/// target, the worst state any of them asks for is the one in force.
public struct DegradationBinding: Sendable {
    /// Names the process's random stream (`degradation.NAME`): the same name draws the same
    /// health history in every policy variant (common random numbers).
    public var name: String
    /// Builds the process for one replication from its stream.
    public var makeProcess: @Sendable (RandomStream) throws(StochasticsError) -> any DegradationProcess
    public var targets: [HealthTarget]
    /// `stateMaps[i][s]`: the health state of `targets[i]` while the process says state `s`
    /// (missing entries map state s to health state s).
    public var stateMaps: [[Int]]

    public init(
        name: String, targets: [HealthTarget], stateMaps: [[Int]] = [],
        makeProcess: @escaping @Sendable (RandomStream) throws(StochasticsError) -> any DegradationProcess
    ) {
        self.name = name
        self.makeProcess = makeProcess
        self.targets = targets
        self.stateMaps = stateMaps
    }

    /// The process for `replication` under `seed`.
    func process(seed: UInt64, replication: Int) throws(StochasticsError) -> any DegradationProcess {
        try makeProcess(RandomStream(name: "degradation.\(name)", seed: seed, replication: replication))
    }

    func healthState(target: Int, processState: Int) -> Int {
        guard target < stateMaps.count, processState < stateMaps[target].count else { return processState }
        return stateMaps[target][processState]
    }
}
