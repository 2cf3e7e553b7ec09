/// Two counters (say calls and failures, or requests and retries) summed over a sliding
/// window of whole seconds, kept as a ring of per-second slots with running totals: constant
/// memory, O(1) per update and per read (plus the slots a jump in time clears).
struct SlidingWindowCounter: Sendable {
    private var first: [Double]
    private var second: [Double]
    private var firstTotal = 0.0
    private var secondTotal = 0.0
    private var currentSecond: Int64 = 0

    init(windowSeconds: Double) {
        let slots = max(1, Int(windowSeconds.rounded(.up)))
        first = Array(repeating: 0, count: slots)
        second = Array(repeating: 0, count: slots)
    }

    mutating func add(first a: Double, second b: Double, at now: RoutingInstant) {
        advance(to: now)
        let slot = Int(currentSecond % Int64(first.count))
        first[slot] += a
        second[slot] += b
        firstTotal += a
        secondTotal += b
    }

    /// Both sums over the window ending now.
    mutating func totals(at now: RoutingInstant) -> (first: Double, second: Double) {
        advance(to: now)
        return (firstTotal, secondTotal)
    }

    mutating func reset() {
        for index in first.indices {
            first[index] = 0
            second[index] = 0
        }
        firstTotal = 0
        secondTotal = 0
    }

    private mutating func advance(to now: RoutingInstant) {
        let target = now.nanoseconds / 1_000_000_000
        guard target > currentSecond else { return }
        let slots = Int64(first.count)
        if target - currentSecond >= slots {
            reset()
        } else {
            var s = currentSecond + 1
            while s <= target {
                let slot = Int(s % slots)
                firstTotal -= first[slot]
                secondTotal -= second[slot]
                first[slot] = 0
                second[slot] = 0
                s += 1
            }
        }
        currentSecond = target
    }
}
