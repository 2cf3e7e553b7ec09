import GatewaySim
import Stochastics

/// The distributions a world's requests draw from, for the toy model's `--draws flagship`
/// (read from the flagship's spec, so the floor follows its model): its first team's request
/// sizes, and each provider's service, in the spec's order (the toy's providers take them in
/// turn).
struct FlagshipDraws: Sendable {
    /// A team's input and output tokens per request.
    struct Sizes: Sendable {
        let input: Distribution
        let output: Distribution
    }

    /// A provider's time to first token and output rate.
    struct Service: Sendable {
        let timeToFirstToken: Distribution
        let outputTokensPerSecond: Distribution
    }

    let sizes: Sizes
    let services: [Service]

    /// Nil when the world has no team or no provider.
    init?(_ world: WorldSpec) {
        guard let team = world.teams.first, !world.providers.isEmpty else { return nil }
        sizes = Sizes(input: team.inputTokens, output: team.outputTokens)
        services = world.providers.map { Service(timeToFirstToken: $0.timeToFirstTokenSeconds, outputTokensPerSecond: $0.outputTokensPerSecond) }
    }

    /// The service of the toy's provider `index`.
    func service(_ index: Int) -> Service { services[index % services.count] }
}
