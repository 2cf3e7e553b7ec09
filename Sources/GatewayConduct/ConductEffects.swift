import RoutingCore

/// What the driver must do after the conduct took an event, in this order: cancel, disarm
/// the hedge timer, start the client's answer (commit), send, arm the hedge timer, start the
/// backoff, end the request for the client, forget it. A value with no arrays: the simulator
/// makes one per event.
public struct ConductEffects: Sendable, Equatable {
    /// Attempts to cancel (at most the two a request has out at once).
    public internal(set) var cancellations = Cancellations()
    public internal(set) var disarmHedgeTimer = false
    /// This attempt's output now goes to the client (the client's answer starts).
    public internal(set) var commit: Int32?
    public internal(set) var send: AttemptOrder?
    /// Arm the hedge timer: call ``RequestConduct/hedgeTimerFired(_:)`` after this long.
    public internal(set) var armHedgeTimerNanoseconds: Int64?
    /// Wait this long, then call ``RequestConduct/backoffEnded(_:)``.
    public internal(set) var backoffNanoseconds: Int64?
    /// The request is over for the client.
    public internal(set) var ending: RequestEnding?
    /// Whether ``ending`` is set: a flag a driver tests on every event without copying the
    /// optional ending (its decision and the arrays it holds) just to find it empty.
    public internal(set) var endsRequest = false
    /// Nothing is out any more: the driver may drop the conduct.
    public internal(set) var forget = false

    public init() {}

    /// Attempts to cancel, with where they went.
    public struct Cancellations: Sendable, Equatable {
        public private(set) var count = 0
        private var first: (attempt: Int32, target: TargetID)?
        private var second: (attempt: Int32, target: TargetID)?

        mutating func append(attempt: Int32, target: TargetID) {
            if first == nil { first = (attempt, target) } else { second = (attempt, target) }
            count += 1
        }

        public func forEach(_ body: (_ attempt: Int32, _ target: TargetID) -> Void) {
            if let first { body(first.attempt, first.target) }
            if let second { body(second.attempt, second.target) }
        }

        public func contains(_ attempt: Int32) -> Bool { first?.attempt == attempt || second?.attempt == attempt }

        public static func == (a: Cancellations, b: Cancellations) -> Bool {
            a.count == b.count && a.first?.attempt == b.first?.attempt && a.first?.target == b.first?.target
                && a.second?.attempt == b.second?.attempt && a.second?.target == b.second?.target
        }
    }
}
