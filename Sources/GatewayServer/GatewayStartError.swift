/// A reason the gateway cannot start.
public struct GatewayStartError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
