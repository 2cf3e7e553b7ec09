import Stochastics

/// The distributions the flagship (`experiments/april-correlated-529.yaml`) draws from, for
/// the toy model's `--draws flagship`: its busiest team's request sizes and its three
/// providers' service (`models/providers.yaml`).
enum FlagshipDraws {
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

    /// The `search` team: input lognormal(median 1500, p99 12000), output (350, 2000).
    static var team: Sizes {
        // Valid constants: a failure here is a typo in this file.
        try! Sizes(input: .lognormal(median: 1500, p99: 12000), output: .lognormal(median: 350, p99: 2000))
    }

    /// Provider `index` of the toy's three, in the flagship's chain order: anthropic, openai,
    /// google.
    static func provider(_ index: Int) -> Service {
        let (medianTTFT, p99TTFT, rate, spread) = [(0.74, 4.0, 104.0, 15.0), (0.45, 3.0, 131.0, 20.0), (0.5, 3.0, 200.0, 30.0)][index % 3]
        return try! Service(
            timeToFirstToken: .lognormal(median: medianTTFT, p99: p99TTFT),
            outputTokensPerSecond: .normal(mean: rate, standardDeviation: spread, lower: 20))
    }
}
