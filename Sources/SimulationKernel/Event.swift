/// Identifies the component an event is delivered to: an index into the simulation's
/// handler table, handed out by ``Simulation/register(_:)``.
public struct HandlerID: Hashable, Sendable {
    public let rawValue: Int32

    @inlinable
    public init(rawValue: Int32) {
        self.rawValue = rawValue
    }
}

/// A scheduled occurrence: a plain value, so the event queue stores no closures and
/// allocates nothing per event.
///
/// `kind` and `payload` mean whatever the receiving handler says they mean (for example
/// "attempt finished" and a request slot). The struct is 32 bytes: the heap moves it often.
public struct Event: Sendable {
    /// When the event happens, in nanoseconds of simulated time.
    public var time: Int64
    /// Insertion order; breaks ties between events at the same time (FIFO).
    public var sequence: UInt64
    /// The component that handles the event.
    public var target: HandlerID
    /// What happened, in the receiving handler's vocabulary.
    public var kind: Int32
    /// The argument, in the receiving handler's vocabulary.
    public var payload: Int64

    @inlinable
    public init(time: Int64, sequence: UInt64, target: HandlerID, kind: Int32, payload: Int64) {
        self.time = time
        self.sequence = sequence
        self.target = target
        self.kind = kind
        self.payload = payload
    }

    /// Strict order of delivery: earlier time first, then earlier insertion.
    @inlinable
    public func precedes(_ other: Event) -> Bool {
        time < other.time || (time == other.time && sequence < other.sequence)
    }
}
