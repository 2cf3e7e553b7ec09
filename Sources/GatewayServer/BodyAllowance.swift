import Synchronization

/// The bytes of request bodies the gateway may hold at once (`request_bodies.held_max_bytes`):
/// a request takes its body's bytes as they arrive and gives them back when it ends.
final class BodyAllowance: Sendable {
    let maxBytes: Int
    private let held = Atomic<Int>(0)
    private let metrics: GatewayMetrics

    init(maxBytes: Int, metrics: GatewayMetrics) {
        self.maxBytes = maxBytes
        self.metrics = metrics
    }

    /// Takes `bytes` if they fit under the bound.
    func take(_ bytes: Int) -> Bool {
        var current = held.load(ordering: .relaxed)
        while true {
            guard current + bytes <= maxBytes else { return false }
            let (exchanged, original) = held.compareExchange(expected: current, desired: current + bytes, ordering: .relaxed)
            if exchanged { break }
            current = original
        }
        metrics.bodyBytesHeld(changedBy: bytes)
        return true
    }

    func give(_ bytes: Int) {
        guard bytes > 0 else { return }
        held.subtract(bytes, ordering: .relaxed)
        metrics.bodyBytesHeld(changedBy: -bytes)
    }
}

/// One request's share of the ``BodyAllowance``, given back when the request lets go of it
/// (its answer written, or the request refused).
final class BodyHold: Sendable {
    private let allowance: BodyAllowance
    private let bytes = Atomic<Int>(0)

    init(allowance: BodyAllowance) {
        self.allowance = allowance
    }

    func take(_ count: Int) -> Bool {
        guard allowance.take(count) else { return false }
        bytes.add(count, ordering: .relaxed)
        return true
    }

    deinit {
        allowance.give(bytes.load(ordering: .relaxed))
    }
}
