import RoutingCore

/// What a production gateway reads from the spec a team simulated: the routing and the
/// `deployment` section. The simulator's own keys are accepted without being read; any other
/// unknown key, bad value or inconsistency is an error located as `brownout validate` locates it.
public struct GatewaySpec: Sendable {
    public var router: RouterConfig
    public var deployment: DeploymentConfig

    public static func load(path: String, overrides: [String] = []) throws(SpecError) -> GatewaySpec {
        let document = try SpecDocument.load(path: path, overrides: overrides)
        let decoder = SpecDecoder(document)
        let router = try decoder.decode(RouterConfig.self)
        let section = try decoder.decode(DeploymentSection.self)
        SimulatorKeys.accept(in: decoder)
        try decoder.checkUnknownKeys()
        if let first = router.validate().errors.first { throw decoder.error(first) }
        guard let deployment = section.deployment else {
            throw SpecError(document.location, "deployment", "missing: a gateway needs its deployment section (listen, upstreams, keys); see the README's \"Run the gateway\"")
        }
        if let first = deployment.findings(for: router).first { throw decoder.error(first) }
        return GatewaySpec(router: router, deployment: deployment)
    }
}
