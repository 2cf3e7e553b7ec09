import ChildProcesses
import Foundation
import LiveGatewaySupport
import ProcessTestSupport
import Testing

/// The official Python SDKs, pinned in `clients/requirements.txt` and installed in
/// `.venv-clients/` by `make clients-env` (which `make test` runs first), as the clients:
/// OpenAI's against the gateway in front of an Anthropic Messages upstream, Anthropic's against
/// the gateway's own Messages API, and Anthropic's against the mock's Messages API, whose shapes
/// the gateway's translation is tested on
/// (`clients/sdk_checks.py` says what each checks).
@Suite("brownout-gateway: the official OpenAI and Anthropic SDKs as clients", .serialized, .timeLimit(.minutes(5)))
struct OfficialClientTests {
    static let python = BuiltProducts.checkout.appendingPathComponent(".venv-clients/bin/python")
    static let checks = BuiltProducts.checkout.appendingPathComponent("clients/sdk_checks.py")

    static func run(_ arguments: [String]) async throws -> ChildOutput {
        guard FileManager.default.isExecutableFile(atPath: python.path) else {
            throw ChildProcessFailure("\(python.path) is missing: `make clients-env` makes it (make test does)")
        }
        return try await ChildProcess.run(python, [checks.path] + arguments, within: .seconds(120))
    }

    @Test("OpenAI's SDK through the gateway to an Anthropic upstream: answers, streams, usage, failover and errors as the SDK's own")
    func openAIThroughGateway() async throws {
        let gateway = try await LiveGateway(mocks: ["claude": ["--context-window-tokens", "50"], "gpt": []], spec: AnthropicUpstreamTests.spec)
        try await gateway.use { gateway in
            let output = try await Self.run([
                "openai-via-gateway", String(gateway.gateway!.port), String(gateway.mocks["claude"]!.port), LiveGateway.searchKey,
            ])
            #expect(output.status == 0, "\(output.stdout)\(output.stderr)")
            #expect(output.stdout.split(separator: "\n").count == 5, "\(output.stdout)")
        }
    }

    @Test("Anthropic's SDK through the gateway's Messages API: passed through, translated after a failover, errors and retries as its own")
    func anthropicThroughGateway() async throws {
        let gateway = try await LiveGateway(mocks: ["claude": ["--context-window-tokens", "50"], "gpt": []], spec: AnthropicUpstreamTests.spec)
        try await gateway.use { gateway in
            let output = try await Self.run([
                "anthropic-via-gateway", String(gateway.gateway!.port), String(gateway.mocks["claude"]!.port), LiveGateway.searchKey,
            ])
            #expect(output.status == 0, "\(output.stdout)\(output.stderr)")
            #expect(output.stdout.split(separator: "\n").count == 5, "\(output.stdout)")
            // On a fresh gateway (the router has learnt nothing of the upstream yet).
            await gateway.stopGateway()
            try await gateway.startGateway()
            let overloaded = try await Self.run([
                "anthropic-overloaded", String(gateway.gateway!.port), String(gateway.mocks["claude"]!.port), LiveGateway.searchKey,
            ])
            #expect(overloaded.status == 0, "\(overloaded.stdout)\(overloaded.stderr)")
        }
    }

    @Test("Anthropic's SDK reads the mock's Messages answers, streams, 529 and error events as Anthropic's own")
    func anthropicAgainstMock() async throws {
        let gateway = try await LiveGateway(mocks: ["claude": ["--context-window-tokens", "50"], "gpt": []], spec: AnthropicUpstreamTests.spec)
        try await gateway.use { gateway in
            let output = try await Self.run(["anthropic-against-mock", String(gateway.mocks["claude"]!.port)])
            #expect(output.status == 0, "\(output.stdout)\(output.stderr)")
            #expect(output.stdout.split(separator: "\n").count == 4, "\(output.stdout)")
        }
    }
}
