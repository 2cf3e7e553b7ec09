import RoutingCore

/// An attempt the driver must send now, with the limits it must enforce.
public struct AttemptOrder: Sendable, Equatable {
    public let attempt: Int32
    public let target: TargetID
    /// The route in force when it was sent (a budget in degrade mode may have switched the
    /// request's route): its stream rules (`on_malformed_event`, `stream_commit`) are the ones
    /// the driver applies to this attempt, on both sides.
    public let route: RouteID
    public let isHedge: Bool
    /// Whether the driver must tell the conduct the moment this attempt's first byte reaches
    /// the client. It must when another attempt may race this one (a hedging route): the first
    /// to answer takes the client and the other is cancelled then. Otherwise it may tell it
    /// late, as long as it does before the attempt's ending (a simulator saves the event). A
    /// whole answer's first byte is its end: the driver tells it with the ending.
    public let watchesFirstByte: Bool
    // The limits as plain numbers, 0 for none (the order is part of every event's effects,
    // copied on every hop); read through the optionals below.
    private let firstTokenLimit: Int64
    private let attemptLimit: Int64
    private let idleLimit: Int64

    /// From the send to the first output, and in total; nil when the route sets none. A whole
    /// answer has only the total: the earlier of the route's two (its first output is its end).
    public var firstTokenLimitNanoseconds: Int64? { firstTokenLimit > 0 ? firstTokenLimit : nil }
    public var attemptLimitNanoseconds: Int64? { attemptLimit > 0 ? attemptLimit : nil }
    /// A stream's longest gap between two frames once its first output came; nil for a whole
    /// answer (nothing of it is seen before its end) or when the route sets none. A gap that
    /// passes it ends the attempt as its total limit does (rule 4 once the client has a byte).
    public var idleLimitNanoseconds: Int64? { idleLimit > 0 ? idleLimit : nil }

    init(
        attempt: Int32, target: TargetID, route: RouteID, isHedge: Bool, firstTokenLimitNanoseconds: Int64?, attemptLimitNanoseconds: Int64?,
        idleLimitNanoseconds: Int64?, watchesFirstByte: Bool
    ) {
        self.attempt = attempt
        self.target = target
        self.route = route
        self.isHedge = isHedge
        self.watchesFirstByte = watchesFirstByte
        firstTokenLimit = firstTokenLimitNanoseconds ?? 0
        attemptLimit = attemptLimitNanoseconds ?? 0
        idleLimit = idleLimitNanoseconds ?? 0
    }
}
