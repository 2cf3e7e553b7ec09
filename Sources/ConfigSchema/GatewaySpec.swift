import RoutingCore

/// What a production gateway reads from the spec a team simulated: the routing and the
/// `deployment` section. The simulator's own keys are accepted without being read; any other
/// unknown key, bad value or inconsistency is an error located as `brownout validate` locates it.
public struct GatewaySpec: Sendable {
    public var router: RouterConfig
    public var deployment: DeploymentConfig
    /// The spec as read, its `--set` overrides applied: what `--record` keeps beside the trace,
    /// so that `brownout replay`, `incident` and `fit --timeline` read the spec the gateway ran.
    public var document: SpecValue

    /// With `environment` (the gateway's own, at start), every upstream's `api_key_env` must
    /// name a variable set there, not empty: a key that is not there would send requests
    /// without one. `brownout validate` passes none: it checks a spec, not a machine.
    public static func load(path: String, overrides: [String] = [], environment: [String: String]? = nil) throws(SpecError) -> GatewaySpec {
        let document = try SpecDocument.load(path: path, overrides: overrides)
        let decoder = SpecDecoder(document)
        var router = try decoder.decode(RouterConfig.self)
        let section = try decoder.decode(DeploymentSection.self)
        SimulatorKeys.accept(in: decoder)
        try decoder.checkUnknownKeys()
        if let first = router.validate().errors.first { throw decoder.error(first) }
        guard let deployment = section.deployment else {
            throw SpecError(
                document.location, "deployment",
                "missing: a gateway needs its deployment section (listen, upstreams, keys); see the README's \"Run the gateway\"")
        }
        if let first = deployment.findings(for: router).first { throw decoder.error(first) }
        if router.health.breakerScope == .shared, case .sqlite = deployment.state {
            throw decoder.error(
                ConfigFinding(
                    path: "gateway.breaker_scope",
                    message: "shared needs deployment.state: {postgres: {url_env: …}}: the replicas share their breakers through the database"))
        }
        if let environment {
            if case .postgres(let state) = deployment.state, environment[state.urlEnvironmentVariable]?.isEmpty ?? true {
                let variable = state.urlEnvironmentVariable
                throw decoder.error(
                    ConfigFinding(
                        path: "deployment.state.postgres.url_env",
                        message:
                            "the environment variable '\(variable)' is \(environment[variable] == nil ? "not set" : "empty"); export the database's URL in it (postgres://user:password@host:5432/database)"
                    ))
            }
            for upstream in deployment.upstreams {
                guard let variable = upstream.apiKeyEnvironmentVariable, environment[variable]?.isEmpty ?? true else { continue }
                throw decoder.error(
                    ConfigFinding(
                        path: "deployment.upstreams.\(upstream.target).api_key_env",
                        message:
                            "the environment variable '\(variable)' is \(environment[variable] == nil ? "not set" : "empty"); export the upstream's API key in it, or remove api_key_env for an upstream that needs none"
                    ))
            }
        }
        deployment.setTargetProtocols(of: &router)
        return GatewaySpec(router: router, deployment: deployment, document: document)
    }
}
