/// The router's memory of one in-flight request. The gateway keeps it (one value per
/// request in flight) and hands it back with every event, so the router itself holds
/// nothing per request and forgets the request when it ends.
public struct RequestState: Sendable {
    @usableFromInline
    struct InFlight: Sendable {
        @usableFromInline var attempt: Int32
        @usableFromInline var target: TargetID
        var reservedUSD: Double
        var isHedge: Bool
        @usableFromInline var startedAt: Int64
    }

    public let request: RoutingRequest
    /// The route in force (a budget in degrade mode may have switched it).
    public var route: RouteID { RouteID(raw: routeIndex) }
    var routeIndex: Int32
    public internal(set) var startedAt: Int64
    public internal(set) var attemptsSent: Int32 = 0
    public internal(set) var finished = false
    /// An attempt was refused for its context length: further attempts go only to the
    /// route's context-window fallbacks.
    var contextFallbackActive = false
    /// Attempts sent in a row to ``lastTarget`` (a `same_then_next` retry goes back while
    /// this is at most the route's `same_target_retries`). An Int16 beside the flags above,
    /// in what would be padding: the state is copied on every event.
    var attemptsOnLastTarget: Int16 = 0
    @usableFromInline var primary: InFlight?
    @usableFromInline var hedge: InFlight?
    var lastTarget: TargetID?
    var triedMask: UInt64 = 0
    var lastDelay: Int64 = 0
    var hedged = false
    var waitingToRetry = false
    var lastOutcome: OutcomeClass?
    var cancelledAttempts: UInt64 = 0
    var winningUSD = 0.0
    var failedUSD = 0.0
    var cancelledUSD = 0.0
    var gpuSeconds = 0.0
    var gpuUSD = 0.0
    var reasons = ReasonCodes()

    init(request: RoutingRequest, route: Int32, startedAt: Int64) {
        self.request = request
        self.routeIndex = route
        self.startedAt = startedAt
    }

    /// A request's state before it begins (``Router/begin(_:)-(RequestState)``: a caller that
    /// keeps states in place makes one where it keeps them, and the router begins it there).
    public init(unbegun request: RoutingRequest) {
        self.init(request: request, route: request.routeIndex, startedAt: 0)
    }

    var inFlightCount: Int { (primary == nil ? 0 : 1) + (hedge == nil ? 0 : 1) }

    /// What the request's attempts have been charged so far: all of it once the request has
    /// finished, and after that what a late result (a hedge's loser) adds as it is settled.
    public var charges: RequestCharges {
        RequestCharges(winningUSD: winningUSD, failedUSD: failedUSD, cancelledUSD: cancelledUSD, gpuSeconds: gpuSeconds, gpuUSD: gpuUSD)
    }

    /// Attempts sent and not yet reported back.
    public var attemptsInFlight: Int { inFlightCount }

    /// When attempt `attempt` was sent, while it is in flight (nil otherwise). Inlinable, as
    /// the next: the gateways ask on every event, and a call would copy the whole state.
    @inlinable
    public func attemptStartedAt(_ attempt: Int32) -> Int64? {
        if let primary, primary.attempt == attempt { return primary.startedAt }
        if let hedge, hedge.attempt == attempt { return hedge.startedAt }
        return nil
    }

    /// The target attempt `attempt` went to, while it is in flight.
    @inlinable
    public func attemptTarget(_ attempt: Int32) -> TargetID? {
        if let primary, primary.attempt == attempt { return primary.target }
        if let hedge, hedge.attempt == attempt { return hedge.target }
        return nil
    }

    /// The gateway cancelled `attempt`, in flight, because another attempt of the request took
    /// the client: when it reports, its cost is waste (not a retry's) and its outcome says
    /// nothing of its target's health, as for the loser a completion cancels.
    public mutating func markCancelled(_ attempt: Int32) {
        guard attemptTarget(attempt) != nil else { return }
        cancelledAttempts |= 1 << UInt64(min(attempt, 63))
    }
}
