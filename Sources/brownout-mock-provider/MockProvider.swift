import ArgumentParser
import MockUpstream
import NIOCore
import RoutingCore
import NIOPosix

/// An LLM upstream with injected faults, for the gateway's tests, its benchmark and the parity
/// runs (it links no simulator; the twin's upstreams are `brownout-twin upstreams`): OpenAI's
/// `POST /v1/chat/completions` and Anthropic's `POST /v1/messages` (whole or SSE streaming),
/// `GET /v1/models`, and `POST /mock/faults`, `GET /mock/stats`, `POST /mock/reset` to steer it.
@main
struct MockProvider: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "brownout-mock-provider",
        abstract: "A mock LLM upstream, OpenAI-compatible and Anthropic Messages, that injects faults on request.",
        discussion:
            "Prints 'listening on HOST:PORT' on stdout once it accepts connections. Faults: \(MockFault.allCases.map(\.rawValue).joined(separator: ", "))."
    )

    @Option(help: "Address to listen on (loopback by default).")
    var host = "127.0.0.1"

    @Option(help: "Port (0: any free port, printed on start).")
    var port = 0

    @Option(help: "Seconds before the first token (or the whole answer); with --first-token-sigma, the median.")
    var firstTokenSeconds = 0.0

    @Option(help: "Draw each answer's first-token time from a lognormal with median --first-token-seconds and this sigma (0: always the median).")
    var firstTokenSigma = 0.0

    @Option(help: "Seed of the mock's draws (first-token times).")
    var seed: UInt64 = 1

    @Option(help: "Output tokens per second while streaming (0: all at once).")
    var tokensPerSecond = 0.0

    @Option(help: "Output tokens per answer (capped by the request's max_tokens).")
    var outputTokens = 16

    @Option(help: "The fault for every request not scheduled otherwise.")
    var fault: String = MockFault.none.rawValue

    @Option(help: "The Retry-After the 429 and 529 faults send, in seconds.")
    var retryAfterSeconds = 1.0

    @Option(help: "How long slow_first_token waits before the first token, in seconds.")
    var slowFirstTokenSeconds = 5.0

    @Option(help: "How long hang and stream_stall keep a request open, in seconds.")
    var hangSeconds = 600.0

    @Option(help: "Refuse (400 context_length_exceeded) a request whose prompt is over this many tokens (4 characters a token; 0: no limit).")
    var contextWindowTokens = 0

    /// Swift concurrency's jobs run on NIO's event loops, as in the gateway: a request's
    /// handler, its timers and its I/O stay on one thread instead of hopping between NIO's
    /// threads and the default executor's (which cost the mock half its CPU in context
    /// switches under a twin's load). Installed before the command starts any task.
    static func main() async {
        NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
        await main(nil)
    }

    func validate() throws {
        guard MockFault(rawValue: fault) != nil else {
            throw ValidationError("--fault '\(fault)' is not one of \(MockFault.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        guard (0...65_535).contains(port) else { throw ValidationError("--port must be 0…65535, got \(port)") }
        guard contextWindowTokens >= 0 else { throw ValidationError("--context-window-tokens must be ≥ 0, got \(contextWindowTokens)") }
        guard outputTokens >= 1 else { throw ValidationError("--output-tokens must be ≥ 1, got \(outputTokens)") }
        for (name, value) in [
            ("--first-token-seconds", firstTokenSeconds), ("--tokens-per-second", tokensPerSecond), ("--retry-after-seconds", retryAfterSeconds),
            ("--slow-first-token-seconds", slowFirstTokenSeconds), ("--hang-seconds", hangSeconds),
            ("--first-token-sigma", firstTokenSigma),
        ] where !(value.isFinite && value >= 0) {
            throw ValidationError("\(name) must be a number ≥ 0, got \(value)")
        }
    }

    func run() async throws {
        let state = MockState(defaultFault: MockFault(rawValue: fault)!, seed: seed)
        let behaviour = MockBehaviour(
            firstTokenSeconds: firstTokenSeconds, firstTokenSigma: firstTokenSigma, tokensPerSecond: tokensPerSecond,
            outputTokens: outputTokens, retryAfterSeconds: retryAfterSeconds, slowFirstTokenSeconds: slowFirstTokenSeconds,
            hangSeconds: hangSeconds, contextWindowTokens: contextWindowTokens)
        try await MockServer.run(
            host: host, port: port, serverName: "brownout-mock-provider", state: state,
            respond: { request, context, state in try await behaviour.respond(to: request, context: context, state: state) },
            respondMessages: { request, context, state in try await behaviour.respond(to: request, context: context, state: state, api: .anthropic) }
        )
    }
}
