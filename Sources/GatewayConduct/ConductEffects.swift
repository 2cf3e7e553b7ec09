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
    /// optional ending just to find it empty.
    public internal(set) var endsRequest = false
    /// Nothing is out any more: the driver may drop the conduct.
    public internal(set) var forget = false

    public init() {}

    /// Attempts to cancel, with where they went (attempt numbers start at 1: 0 marks a free place).
    public struct Cancellations: Sendable, Equatable {
        private var firstAttempt: Int32 = 0
        private var firstTarget: TargetID?
        private var secondAttempt: Int32 = 0
        private var secondTarget: TargetID?

        public var count: Int { (firstAttempt == 0 ? 0 : 1) + (secondAttempt == 0 ? 0 : 1) }

        mutating func append(attempt: Int32, target: TargetID) {
            precondition(attempt > 0 && secondAttempt == 0, "ConductEffects: at most two attempts, numbered from 1, are cancelled at once")
            if firstAttempt == 0 { (firstAttempt, firstTarget) = (attempt, target) } else { (secondAttempt, secondTarget) = (attempt, target) }
        }

        public func forEach(_ body: (_ attempt: Int32, _ target: TargetID) -> Void) {
            if let firstTarget { body(firstAttempt, firstTarget) }
            if let secondTarget { body(secondAttempt, secondTarget) }
        }

        public func contains(_ attempt: Int32) -> Bool { attempt != 0 && (firstAttempt == attempt || secondAttempt == attempt) }
    }
}
