import ConfigSchema
import Foundation
import Testing
@testable import Experiments
import GatewaySim
import RoutingCore

/// Writes `files` (name → YAML) into a fresh directory and returns its path.
func specDirectory(_ files: [String: String]) throws -> String {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("brownout-spec-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    for (name, text) in files {
        let url = directory.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try text.write(to: url, atomically: true, encoding: .utf8)
    }
    return directory.path
}

let minimalProvider = """
    providers:
      alpha:
        concurrency: 10
        ttft_s: {constant: 0.5}
        output_tokens_per_s: {constant: 100}
        input_usd_per_mtok: 3
        output_usd_per_mtok: 15
        states:
          down: {errors: {server_error_5xx: 1}}
    """

let minimalSpec = """
    name: tiny
    include: [models/alpha.yaml]
    run: {duration_s: 60, replications: 2, seed: 4}
    routes:
      chat: {chain: [[alpha]], retry: {max_attempts: 2}}
    teams:
      app:
        route: chat
        arrivals: {poisson: {rate_per_s: 2}}
        input_tokens: {constant: 100}
        output_tokens: {constant: 50}
    """

@Suite("Experiment specs")
struct SpecTests {
    func load(_ spec: String, overrides: [String] = []) throws -> ExperimentSpec {
        let directory = try specDirectory(["models/alpha.yaml": minimalProvider, "spec.yaml": spec])
        return try ExperimentSpec(decoding: try SpecDocument.load(path: directory + "/spec.yaml", overrides: overrides))
    }

    func error(_ spec: String, overrides: [String] = []) throws -> String {
        let directory = try specDirectory(["models/alpha.yaml": minimalProvider, "spec.yaml": spec])
        do {
            _ = try ExperimentSpec(decoding: try SpecDocument.load(path: directory + "/spec.yaml", overrides: overrides))
            return "no error"
        } catch {
            return error.description.replacingOccurrences(of: directory + "/", with: "")
        }
    }

    @Test("a spec with includes builds the world it describes")
    func minimal() throws {
        let spec = try load(minimalSpec)
        #expect(spec.world.providers.map(\.name) == ["alpha"])
        #expect(spec.world.providers[0].states.map(\.name) == ["healthy", "down"])
        #expect(spec.world.router.routes[0].retry.maxAttempts == 2)
        #expect(spec.replications == 2 && spec.seed == 4)
    }

    @Test("an unknown key names file:line:column, the key path, the closest valid key and the valid keys")
    func unknownKey() throws {
        let message = try error(minimalSpec.replacingOccurrences(of: "retry: {max_attempts: 2}", with: "retry: {max_attempt: 2}"))
        #expect(
            message
                == "spec.yaml:5:36: routes.chat.retry.max_attempt: unknown key 'max_attempt'; did you mean 'max_attempts'? Valid keys: backoff, honour_retry_after, max_attempts, retry_after_cap_s, retry_on, same_target_retries, target"
        )
    }

    @Test("retry_on may not name a stream that broke after its first byte: failover stops there")
    func retryAfterFirstByte() throws {
        let message = try error(
            minimalSpec.replacingOccurrences(
                of: "retry: {max_attempts: 2}", with: "retry: {max_attempts: 2, retry_on: [timeout, failed_after_first_byte]}"))
        #expect(message.hasPrefix("spec.yaml:5:"), "\(message)")
        #expect(message.contains("routes.chat.retry.retry_on"), "\(message)")
        #expect(message.contains("'failed_after_first_byte' is never retried: the client already has the answer's first bytes"), "\(message)")
    }

    @Test("an impossible value says what would be valid")
    func badValue() throws {
        #expect(
            try error(minimalSpec.replacingOccurrences(of: "rate_per_s: 2", with: "rate_per_s: -2"))
                == "spec.yaml:9:38: teams.app.arrivals.poisson.rate_per_s: must be > 0, got -2")
        #expect(
            try error(
                minimalSpec.replacingOccurrences(of: "input_tokens: {constant: 100}", with: "input_tokens: {lognormal: {median: 100, p99: 50}}"))
                == "spec.yaml:10:19: teams.app.input_tokens: lognormal: p99 must be > median, got median 100.0, p99 50.0")
        #expect(
            try error(minimalSpec.replacingOccurrences(of: "chain: [[alpha]]", with: "chain: [[alpah]]"))
                == "spec.yaml:5:18: routes.chat.chain[0]: unknown target 'alpah'; did you mean 'alpha'? providers and pools: alpha")
    }

    @Test("missing files: the spec itself, and an include, are reported where they are named")
    func missingFiles() throws {
        #expect(throws: SpecError.self) { try SpecDocument.load(path: "/nonexistent/spec.yaml") }
        #expect(
            try error(minimalSpec.replacingOccurrences(of: "models/alpha.yaml", with: "models/beta.yaml")).hasPrefix(
                "spec.yaml:2:10: include: 'models/beta.yaml' not found"))
    }

    @Test("--set overrides any field, and is checked like the file")
    func overrides() throws {
        let spec = try load(minimalSpec, overrides: ["run.replications=7", "teams.app.sdk_retries=3", "providers.alpha.concurrency=4"])
        #expect(spec.replications == 7)
        #expect(spec.world.teams[0].sdkRetries == 3)
        #expect(spec.world.providers[0].concurrency == 4)
        #expect(
            try error(minimalSpec, overrides: ["run.replicas=3"]).hasPrefix(
                "--set run.replicas=3: run.replicas: unknown key 'replicas'; did you mean 'replications'?"))
    }

    @Test("degradation from the spec reaches the providers, scripted by time of day")
    func degradation() throws {
        let spec = try load(
            minimalSpec + """

                degradation:
                  - name: afternoon
                    script: [{provider: alpha, from: "00:00:20", to: 40, state: down}]
                """)
        let run = try World.run(spec.world, seed: 1, replication: 0)
        #expect(run.teams[0].failures["server_error_5xx", default: 0] > 0)
        #expect(run.upstreams[0].timeInState[1] == 20_000_000_000)
        #expect(
            try error(
                minimalSpec + """

                    degradation:
                      - name: x
                        script: [{provider: alpha, from: 0, to: 10, state: melted}]
                    """
            ).hasSuffix("degradation[0].script[0].state: provider 'alpha' has no state 'melted'; its states: healthy, down"))
    }

    @Test("a provider's output-TPM limit answers 429 when max tokens would exceed it")
    func outputTokensPerMinute() throws {
        // 2 req/s × 50 max output tokens = 6,000 output tokens a minute against a limit of 600.
        let spec = try load(minimalSpec, overrides: ["providers.alpha.output_tpm=600"])
        let run = try World.run(spec.world, seed: 1, replication: 0)
        // Each 429 carries the time to refill; the router then keeps off the provider until
        // then, so the limit shows as a few 429s and many requests with no target left.
        #expect(run.upstreams[0].errors[.rateLimited, default: 0] > 5)
        #expect(run.teams[0].availability < 0.5)
        let unlimited = try World.run(try load(minimalSpec).world, seed: 1, replication: 0)
        #expect(unlimited.upstreams[0].errors[.rateLimited, default: 0] == 0)
    }

    @Test(
        "every scenario in experiments/ validates",
        arguments: ["april-correlated-529", "single-provider-outage", "bilateral-degradation", "retry-storm", "gateway-lockstep", "chargeback"])
    func scenarios(name: String) throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../experiments/\(name).yaml").standardized
            .path
        let (_, spec, variants) = try Experiment.load(path: root, overrides: [])
        #expect(spec.name == name)
        #expect(variants.allSatisfy { $0.spec.replications == spec.replications && $0.spec.seed == spec.seed })
    }
}
