import RoutingCore
import Stochastics

/// One replication's health history, played ahead of time: each provider's state from time
/// zero on, as the simulation's ``HealthDriver`` would set it. The live twin's mock providers
/// follow it in scaled real time, so the live system lives through the very incident the
/// simulator's replications are conditioned on (``WorldSpec/healthReplication``).
public struct HealthTimeline: Sendable, Equatable {
    /// One state change: from `nanoseconds` on, the target is in `state`.
    public struct Change: Sendable, Equatable {
        public let nanoseconds: Int64
        public let state: Int
    }

    /// `providers[i]`: provider i's changes in time order, the first at 0.
    public let providers: [[Change]]
    /// The gateway's own changes (a spec may degrade the gateway itself).
    public let gateway: [Change]

    /// The history `spec`'s degradation plays in `replication` under `seed` (the spec must be
    /// valid: ``World/validate(_:seed:)``). Changes after the horizon are kept by the
    /// simulation's rule: a process goes on only while it holds a target degraded.
    public static func play(_ spec: WorldSpec, seed: UInt64, replication: Int) throws(WorldError) -> HealthTimeline {
        let horizon = Seconds.nanoseconds(spec.durationSeconds)
        var processes: [any DegradationProcess] = []
        for binding in spec.degradation {
            do {
                processes.append(try binding.process(seed: seed, replication: replication))
            } catch {
                throw WorldError("degradation '\(binding.name)': \(error)")
            }
        }
        var requests = HealthRequests(bindings: spec.degradation, initialStates: processes.map(\.initialStates))
        // Each binding's changes, by the driver's rule (a binding's rule looks only at itself).
        var changes: [(time: Int64, binding: Int, change: HealthChange)] = []
        var own = requests
        for index in processes.indices {
            while let next = processes[index].nextChange(), next.time < horizon || own.asksForDegradation(binding: index) {
                own.set(binding: index, target: next.target, processState: next.state)
                changes.append((next.time, index, next))
            }
        }
        // In time order; at one time, by binding (the order the driver started them in).
        changes.sort { ($0.time, $0.binding) < ($1.time, $1.binding) }
        var providers = spec.providers.indices.map { [Change(nanoseconds: 0, state: requests.worst(for: .provider($0)))] }
        var gateway = [Change(nanoseconds: 0, state: requests.worst(for: .gateway))]
        for (time, binding, change) in changes {
            requests.set(binding: binding, target: change.target, processState: change.state)
            let target = spec.degradation[binding].targets[change.target]
            let state = requests.worst(for: target)
            switch target {
            case .provider(let index):
                Self.append(Change(nanoseconds: time, state: state), to: &providers[index])
            case .gateway:
                Self.append(Change(nanoseconds: time, state: state), to: &gateway)
            }
        }
        return HealthTimeline(providers: providers, gateway: gateway)
    }

    /// Appends a change of state; a change at the same instant as the last replaces it.
    private static func append(_ change: Change, to list: inout [Change]) {
        guard let last = list.last, last.state != change.state else { return }
        if last.nanoseconds == change.nanoseconds { list.removeLast() }
        if let previous = list.last, previous.state == change.state { return }
        list.append(change)
    }
}
