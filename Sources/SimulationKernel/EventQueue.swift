/// A binary min-heap of ``Event`` values ordered by (time, insertion sequence).
///
/// The sequence makes the order total, so events at equal times leave in the order they
/// were inserted (FIFO) — a plain heap would release them in an arbitrary order.
/// Storage is one contiguous array of plain structs: no allocation per event once the
/// array has grown to the simulation's peak number of pending events.
public struct EventQueue: Sendable {
    @usableFromInline
    internal var heap: ContiguousArray<Event> = []

    public init() {}

    /// Number of pending events.
    @inlinable
    public var count: Int { heap.count }

    @inlinable
    public var isEmpty: Bool { heap.isEmpty }

    /// The next event to be delivered, without removing it.
    @inlinable
    public var first: Event? { heap.first }

    /// Adds an event; O(log n).
    @inlinable
    public mutating func insert(_ event: Event) {
        heap.append(event)
        siftUp(from: heap.count - 1)
    }

    /// Removes and returns the earliest event (ties: first inserted); O(log n).
    @inlinable
    public mutating func popFirst() -> Event? {
        guard !heap.isEmpty else { return nil }
        let last = heap.removeLast()
        guard !heap.isEmpty else { return last }
        let top = heap[0]
        heap[0] = last
        siftDown(from: 0)
        return top
    }

    @inlinable
    internal mutating func siftUp(from start: Int) {
        heap.withUnsafeMutableBufferPointer { buffer in
            var child = start
            let moving = buffer[child]
            while child > 0 {
                let parent = (child - 1) >> 1
                if !moving.precedes(buffer[parent]) { break }
                buffer[child] = buffer[parent]
                child = parent
            }
            buffer[child] = moving
        }
    }

    @inlinable
    internal mutating func siftDown(from start: Int) {
        heap.withUnsafeMutableBufferPointer { buffer in
            let count = buffer.count
            var parent = start
            let moving = buffer[parent]
            while true {
                var child = 2 * parent + 1
                if child >= count { break }
                if child + 1 < count && buffer[child + 1].precedes(buffer[child]) { child += 1 }
                if !buffer[child].precedes(moving) { break }
                buffer[parent] = buffer[child]
                parent = child
            }
            buffer[parent] = moving
        }
    }
}
