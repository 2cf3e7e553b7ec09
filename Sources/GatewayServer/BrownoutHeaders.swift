import HTTPTypes
import RoutingCore

/// The headers that explain every answer and error (README "Run the gateway"), named once.
extension HTTPField.Name {
    static let brownoutRequestID = HTTPField.Name("x-brownout-request-id")!
    static let brownoutAttempts = HTTPField.Name("x-brownout-attempts")!
    static let brownoutOverheadMilliseconds = HTTPField.Name("x-brownout-overhead-ms")!
    static let brownoutUpstream = HTTPField.Name("x-brownout-upstream")!
    static let brownoutDegraded = HTTPField.Name("x-brownout-degraded")!
    /// When a budget in degrade mode switched the request to another route: that route.
    static let brownoutRoute = HTTPField.Name("x-brownout-route")!
    /// On a request the router failed or refused: its ``RoutingCore/Decision/failureLabel``,
    /// the simulator's name for the same ending.
    static let brownoutFailure = HTTPField.Name("x-brownout-failure")!
    /// On a failure: whether the client's SDK may retry it on its own (the OpenAI and Anthropic
    /// SDKs honour it); ``GatewayConduct/RequestEnding/sdkMayRetry``, which the simulated
    /// clients follow too.
    static let shouldRetry = HTTPField.Name("x-should-retry")!
}

/// An answer's explaining headers: the fields that never change (each target's name and
/// whether it is a fallback pool, the content types) are made and checked once, at start; a
/// request makes only its id, attempts and overhead, and appends (setting a field by name
/// searches the list first).
struct ExplainingHeaders: Sendable {
    static let json = HTTPField(name: .contentType, value: "application/json")
    static let eventStream = HTTPField(name: .contentType, value: "text/event-stream")
    static let noCache = HTTPField(name: .cacheControl, value: "no-cache")

    /// By target index: `x-brownout-upstream` and `x-brownout-degraded`.
    private let upstreams: [(name: HTTPField, degraded: HTTPField)]
    /// By route index: `x-brownout-route`.
    private let routes: [HTTPField]

    init(config: RouterConfig) {
        upstreams = config.targets.map { target in
            (
                HTTPField(name: .brownoutUpstream, value: target.name),
                HTTPField(name: .brownoutDegraded, value: target.kind == .local ? "true" : "false")
            )
        }
        routes = config.routes.map { HTTPField(name: .brownoutRoute, value: $0.name) }
    }

    static let shouldRetry = HTTPField(name: .shouldRetry, value: "true")
    static let shouldNotRetry = HTTPField(name: .shouldRetry, value: "false")

    /// `answeredBy`: the target whose answer the client gets (none for an error); `switchedTo`:
    /// the route a budget switched the request to (none when it kept its own); `failure`:
    /// how the router failed or refused the request; `sdkMayRetry`: on a failure, whether the
    /// client's SDK may retry it.
    func fields(
        requestID: UInt64, attempts: Int32, overhead: Duration, answeredBy target: TargetID?, switchedTo route: RouteID? = nil,
        contentType: HTTPField, cacheControl: HTTPField? = nil, failure: String? = nil, sdkMayRetry: Bool? = nil
    ) -> HTTPFields {
        var fields = HTTPFields()
        fields.reserveCapacity(8)
        fields.append(HTTPField(name: .brownoutRequestID, value: String(requestID)))
        fields.append(HTTPField(name: .brownoutAttempts, value: String(attempts)))
        fields.append(HTTPField(name: .brownoutOverheadMilliseconds, value: BusyClock.milliseconds(overhead)))
        if let target {
            fields.append(upstreams[target.index].name)
            fields.append(upstreams[target.index].degraded)
        }
        if let route { fields.append(routes[route.index]) }
        fields.append(contentType)
        if let cacheControl { fields.append(cacheControl) }
        if let failure { fields.append(HTTPField(name: .brownoutFailure, value: failure)) }
        if let sdkMayRetry { fields.append(sdkMayRetry ? Self.shouldRetry : Self.shouldNotRetry) }
        return fields
    }
}
