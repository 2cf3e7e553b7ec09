import ConfigSchema
import Testing

@testable import Experiments

/// The spec's lint names a route whose targets speak different APIs (`deployment.upstreams.NAME.protocol`):
/// its failovers cross APIs through the gateway's translation.
@Suite("Lint: routes whose targets speak different APIs")
struct ProtocolLintTests {
    static func spec(claudeProtocol: String) -> String {
        """
        name: lint
        run: {duration_s: 60}
        providers:
          claude: {concurrency: 10, ttft_s: 0.5, output_tokens_per_s: 50, input_usd_per_mtok: 3, output_usd_per_mtok: 15}
          gpt: {concurrency: 10, ttft_s: 0.5, output_tokens_per_s: 50, input_usd_per_mtok: 1, output_usd_per_mtok: 5}
        pools:
          local: {replicas: 1, concurrency_per_replica: 4, replica_output_tokens_per_s: 500, ttft_s: 0.2, gpu_usd_per_hour: 2}
        routes:
          mixed: {chain: [claude, gpt]}
          pooled: {chain: [claude], fallback: {pools: [local]}}
          single: {chain: [gpt]}
        teams:
          app: {route: mixed, arrivals: {poisson: {rate_per_s: 1}}, input_tokens: 100, output_tokens: 10}
        deployment:
          listen: 127.0.0.1:0
          upstreams:
            claude: {base_url: "http://127.0.0.1:9001/v1", protocol: \(claudeProtocol), model: c}
            gpt: {base_url: "http://127.0.0.1:9001/v1", model: g}
            local: {base_url: "http://127.0.0.1:9001/v1", model: l}
        """
    }

    static func warnings(claudeProtocol: String) throws -> [String] {
        let directory = try specDirectory(["spec.yaml": spec(claudeProtocol: claudeProtocol)])
        return try ExperimentSpec(decoding: try SpecDocument.load(path: directory + "/spec.yaml")).warnings.filter { $0.contains("different APIs") }
    }

    @Test("a chain or a fallback that mixes APIs is named, with each API's targets; a route of one API is not")
    func mixed() throws {
        let warnings = try Self.warnings(claudeProtocol: "anthropic")
        #expect(warnings.count == 2, "\(warnings)")
        #expect(warnings.contains { $0.hasPrefix("routes.mixed: ") && $0.contains("anthropic: claude; openai: gpt") })
        #expect(warnings.contains { $0.hasPrefix("routes.pooled: ") && $0.contains("anthropic: claude; openai: local") })
        #expect(try Self.warnings(claudeProtocol: "openai").isEmpty)
    }
}
