/// What the mock will do next and what it has seen: a queue of scheduled faults (each for a
/// number of requests), the fault for everything else, and counters the tests read.
actor MockState {
    struct Stats: Codable, Sendable {
        var requests = 0
        var completed = 0
        /// Responses the client abandoned before their end (its connection went away).
        var cancelled = 0
    }

    private var scheduled: [(fault: MockFault, remaining: Int)] = []
    private(set) var defaultFault: MockFault
    private(set) var stats = Stats()

    init(defaultFault: MockFault) {
        self.defaultFault = defaultFault
    }

    /// The fault for the request that just arrived.
    func nextFault() -> MockFault {
        stats.requests += 1
        guard !scheduled.isEmpty else { return defaultFault }
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

    func completed() { stats.completed += 1 }
    func cancelled() { stats.cancelled += 1 }

    func reset() {
        scheduled = []
        stats = Stats()
    }
}
