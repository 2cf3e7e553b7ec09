import Experiments
import GatewaySim
import RoutingCore

/// Every upstream of a spec, served live by name, with the providers following one
/// replication's health history (``HealthTimeline``) in the twin's scaled time.
public final class TwinUpstreams: Sendable {
    /// By target name (the model name a twin's gateway sends upstream).
    public let byName: [String: LiveUpstream]
    /// In the spec's order: providers, then pools.
    public let all: [LiveUpstream]
    public let timeline: HealthTimeline
    private let providers: [LiveUpstream]

    public init(_ spec: ExperimentSpec, clock: ScaledClock, healthReplication: Int) throws(WorldError) {
        let world = spec.world
        try World.validate(world, seed: spec.seed)
        if let binding = world.degradation.first(where: { $0.targets.contains(.gateway) }) {
            throw WorldError(
                "degradation '\(binding.name)' degrades the gateway itself; a live twin runs the real gateway, whose health it cannot set")
        }
        timeline = try HealthTimeline.play(world, seed: spec.seed, replication: healthReplication)
        providers = world.providers.map { LiveUpstream(.provider($0), clock: clock, seed: spec.seed, replication: healthReplication) }
        let pools = world.pools.map { LiveUpstream(.pool($0), clock: clock, seed: spec.seed, replication: healthReplication) }
        all = providers + pools
        byName = Dictionary(uniqueKeysWithValues: all.map { ($0.name, $0) })
    }

    /// Plays the health history until it ends (or the task is cancelled).
    public func followHealth() async {
        await withTaskGroup(of: Void.self) { group in
            for (provider, changes) in zip(providers, timeline.providers) {
                group.addTask {
                    for change in changes {
                        if change.nanoseconds > 0 {
                            do { try await provider.clock.sleep(until: change.nanoseconds) } catch { return }
                        }
                        provider.setHealth(change.state)
                    }
                }
            }
        }
    }
}
