import GatewaySim
import SimulationKernel

/// Runs an experiment's replications on `jobs` threads; results come back in replication
/// order, so everything computed from them is the same whatever `jobs` is.
public enum ExperimentRunner {
    public static func run(_ spec: ExperimentSpec, jobs: Int, progress: (@Sendable (Int, Int) -> Void)? = nil) throws(WorldError) -> [ReplicationResult] {
        let world = spec.world
        let seed = spec.seed
        let outcomes = ReplicationRunner.run(count: spec.replications, jobs: jobs, progress: progress) { replication -> Result<ReplicationResult, WorldError> in
            Result { () throws(WorldError) in try World.run(world, seed: seed, replication: replication) }
        }
        var results: [ReplicationResult] = []
        for outcome in outcomes { results.append(try outcome.get()) }
        return results
    }
}
