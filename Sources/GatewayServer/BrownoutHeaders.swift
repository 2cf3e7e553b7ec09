import HTTPTypes

/// The headers that explain every answer and error (README "Run the gateway"), named once.
extension HTTPField.Name {
    static let brownoutRequestID = HTTPField.Name("x-brownout-request-id")!
    static let brownoutAttempts = HTTPField.Name("x-brownout-attempts")!
    static let brownoutOverheadMilliseconds = HTTPField.Name("x-brownout-overhead-ms")!
    static let brownoutUpstream = HTTPField.Name("x-brownout-upstream")!
    static let brownoutDegraded = HTTPField.Name("x-brownout-degraded")!
}
