/// What each degradation binding asks of each of its targets, and the state in force: the
/// worst any binding asks. Shared by the simulation's ``HealthDriver`` and the live twin's
/// ``HealthTimeline``, so that both resolve overlapping processes by one rule.
struct HealthRequests {
    private let bindings: [DegradationBinding]
    /// requested[binding][target]: the state each binding asks for each of its targets.
    private var requested: [[Int]]

    init(bindings: [DegradationBinding], initialStates: [[Int]]) {
        self.bindings = bindings
        requested = zip(bindings, initialStates).map { binding, states in
            binding.targets.indices.map { binding.healthState(target: $0, processState: states[$0]) }
        }
    }

    /// Binding `index`'s process moved its target `target` to `processState`.
    mutating func set(binding index: Int, target: Int, processState: Int) {
        requested[index][target] = bindings[index].healthState(target: target, processState: processState)
    }

    /// Whether binding `index` asks any of its targets for something worse than healthy:
    /// after the horizon, its changes are played only while this holds.
    func asksForDegradation(binding index: Int) -> Bool {
        requested[index].contains { $0 != 0 }
    }

    /// The state in force for `target`: the worst any binding asks for it.
    func worst(for target: HealthTarget) -> Int {
        var worst = 0
        for (b, binding) in bindings.enumerated() {
            for (t, bound) in binding.targets.enumerated() where bound == target {
                worst = max(worst, requested[b][t])
            }
        }
        return worst
    }
}
