import ConfigSchema
import GatewaySim
import Testing

@testable import Experiments

/// The simulator routes `cross_protocol: false` as the gateway does: a team's requests (`api`)
/// go only to targets that speak its API (`deployment.upstreams.NAME.protocol`).
@Suite("Simulation: cross_protocol")
struct CrossProtocolSimulationTests {
    static func spec(crossProtocol: Bool, api: String = "anthropic") -> String {
        """
        name: faithful
        run: {duration_s: 120, replications: 1, seed: 4}
        providers:
          claude:
            concurrency: 10
            ttft_s: 0.2
            output_tokens_per_s: 100
            input_usd_per_mtok: 3
            output_usd_per_mtok: 15
            states:
              down: {errors: {overloaded_529: 1}}
          gpt: {concurrency: 10, ttft_s: 0.2, output_tokens_per_s: 100, input_usd_per_mtok: 1, output_usd_per_mtok: 5}
        routes:
          faithful: {chain: [claude, gpt], cross_protocol: \(crossProtocol), retry: {backoff: {kind: none}}}
        teams:
          writers: {route: faithful, api: \(api), arrivals: {poisson: {rate_per_s: 5}}, input_tokens: 100, output_tokens: 10}
        degradation:
          - name: outage
            script: [{provider: claude, from: 0, to: 120, state: down}]
        deployment:
          listen: 127.0.0.1:0
          upstreams:
            claude: {base_url: "http://127.0.0.1:9001/v1", protocol: anthropic, model: c}
            gpt: {base_url: "http://127.0.0.1:9001/v1", model: g}
        """
    }

    static func run(_ text: String) throws -> (claude: Int, gpt: Int, availability: Double) {
        let directory = try specDirectory(["spec.yaml": text])
        let spec = try ExperimentSpec(decoding: try SpecDocument.load(path: directory + "/spec.yaml"))
        let result = try Experiment.simulate([spec], jobs: 1, progress: nil)[0][0]
        return (result.upstreams[0].offered, result.upstreams[1].offered, result.teams[0].availability)
    }

    @Test(
        "an Anthropic team on a faithful route never fails over to the OpenAI-compatible target while its own is down; with translation allowed it does"
    )
    func faithfulRoute() throws {
        let faithful = try Self.run(Self.spec(crossProtocol: false))
        #expect(faithful.claude > 0 && faithful.gpt == 0 && faithful.availability == 0, "\(faithful)")
        let translated = try Self.run(Self.spec(crossProtocol: true))
        #expect(translated.gpt > 0 && translated.availability > 0.99, "\(translated)")
        // An OpenAI team on the faithful route skips the Anthropic target altogether.
        let chats = try Self.run(Self.spec(crossProtocol: false, api: "openai"))
        #expect(chats.claude == 0 && chats.gpt > 0 && chats.availability > 0.99, "\(chats)")
    }

    @Test("a team's api must be one the gateway speaks: located")
    func unknownAPI() throws {
        let directory = try specDirectory(["spec.yaml": Self.spec(crossProtocol: false, api: "grpc")])
        #expect {
            _ = try ExperimentSpec(decoding: try SpecDocument.load(path: directory + "/spec.yaml"))
        } throws: { error in
            "\(error)".contains("teams.writers.api") && "\(error)".contains("must be one of openai, anthropic")
        }
    }
}
