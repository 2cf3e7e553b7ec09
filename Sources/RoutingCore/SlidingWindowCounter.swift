/// Two counters (say calls and failures, or requests and retries) summed over a sliding
/// window of whole seconds, kept as a ring of per-second slots with running totals: constant
/// memory, O(1) per update and per read (plus the slots a jump in time clears).
struct SlidingWindowCounter: Sendable {
    /// Per second of the window: the two counts (one array, so an update checks one buffer).
    private var slots: [(first: Double, second: Double)]
    private var firstTotal = 0.0
    private var secondTotal = 0.0
    private var currentSecond: Int64 = 0

    init(windowSeconds: Double) {
        slots = Array(repeating: (0, 0), count: max(1, Int(windowSeconds.rounded(.up))))
    }

    mutating func add(first a: Double, second b: Double, at now: RoutingInstant) {
        advance(to: now)
        let slot = Int(currentSecond % Int64(slots.count))
        slots[slot].first += a
        slots[slot].second += b
        firstTotal += a
        secondTotal += b
    }

    /// Both sums over the window ending now.
    mutating func totals(at now: RoutingInstant) -> (first: Double, second: Double) {
        advance(to: now)
        return (firstTotal, secondTotal)
    }

    mutating func reset() {
        for index in slots.indices { slots[index] = (0, 0) }
        firstTotal = 0
        secondTotal = 0
    }

    private mutating func advance(to now: RoutingInstant) {
        let target = now.nanoseconds / 1_000_000_000
        guard target > currentSecond else { return }
        let count = Int64(slots.count)
        if target - currentSecond >= count {
            reset()
        } else {
            var s = currentSecond + 1
            while s <= target {
                let slot = Int(s % count)
                firstTotal -= slots[slot].first
                secondTotal -= slots[slot].second
                slots[slot] = (0, 0)
                s += 1
            }
        }
        currentSecond = target
    }
}
