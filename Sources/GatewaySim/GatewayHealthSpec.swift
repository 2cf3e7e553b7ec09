/// The gateway's own health in one state: added latency and a probability of failing a
/// request outright (1: down). Bypass routes skip the gateway and so its degradation.
public struct GatewayHealthSpec: Sendable {
    public var name: String
    public var addedLatencySeconds: Double
    public var errorProbability: Double

    public init(name: String, addedLatencySeconds: Double = 0, errorProbability: Double = 0) {
        self.name = name
        self.addedLatencySeconds = addedLatencySeconds
        self.errorProbability = errorProbability
    }

    public static let healthy = GatewayHealthSpec(name: "healthy")
}
