import HTTPTypes
import RoutingCore

/// The headers that explain every answer and error (README "Run the gateway"), named once.
extension HTTPField.Name {
    static let brownoutRequestID = HTTPField.Name("x-brownout-request-id")!
    static let brownoutAttempts = HTTPField.Name("x-brownout-attempts")!
    static let brownoutOverheadMilliseconds = HTTPField.Name("x-brownout-overhead-ms")!
    static let brownoutUpstream = HTTPField.Name("x-brownout-upstream")!
    static let brownoutDegraded = HTTPField.Name("x-brownout-degraded")!
    /// On a request the router failed or refused: its ``RoutingCore/Decision/failureLabel``,
    /// the simulator's name for the same ending.
    static let brownoutFailure = HTTPField.Name("x-brownout-failure")!
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

    init(config: RouterConfig) {
        upstreams = config.targets.map { target in
            (HTTPField(name: .brownoutUpstream, value: target.name), HTTPField(name: .brownoutDegraded, value: target.kind == .local ? "true" : "false"))
        }
    }

    /// `answeredBy`: the target whose answer the client gets (none for an error); `failure`:
    /// how the router failed or refused the request.
    func fields(requestID: UInt64, attempts: Int32, overhead: Duration, answeredBy target: TargetID?, contentType: HTTPField,
                cacheControl: HTTPField? = nil, failure: String? = nil) -> HTTPFields {
        var fields = HTTPFields()
        fields.reserveCapacity(7)
        fields.append(HTTPField(name: .brownoutRequestID, value: String(requestID)))
        fields.append(HTTPField(name: .brownoutAttempts, value: String(attempts)))
        fields.append(HTTPField(name: .brownoutOverheadMilliseconds, value: BusyClock.milliseconds(overhead)))
        if let target {
            fields.append(upstreams[target.index].name)
            fields.append(upstreams[target.index].degraded)
        }
        fields.append(contentType)
        if let cacheControl { fields.append(cacheControl) }
        if let failure { fields.append(HTTPField(name: .brownoutFailure, value: failure)) }
        return fields
    }
}
