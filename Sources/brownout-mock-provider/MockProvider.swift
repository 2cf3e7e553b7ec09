import ArgumentParser
import Foundation
import Hummingbird
import Logging
import NIOCore
import NIOPosix
import RoutingCore
import Twin

/// An OpenAI-compatible upstream with injected faults, for the gateway's tests, its
/// benchmark and the parity runs: `POST /v1/chat/completions` (whole or SSE streaming),
/// `GET /v1/models`, and `POST /mock/faults`, `GET /mock/stats`, `POST /mock/reset` to steer it.
@main
struct MockProvider: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "brownout-mock-provider",
        abstract: "An OpenAI-compatible mock LLM upstream that injects faults on request.",
        discussion: "Prints 'listening on HOST:PORT' on stdout once it accepts connections. Faults: \(MockFault.allCases.map(\.rawValue).joined(separator: ", ")).")

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

    @Option(help: ArgumentHelp("Twin mode: serve the upstreams of this spec (the request's model names one) as its models say, its degradation included, in scaled time (see 'brownout twin').", valueName: "SPEC"))
    var twin: String?

    @Option(name: .customLong("set"), help: "Twin mode: override a value of the spec, path=value (repeatable).")
    var overrides: [String] = []

    @Option(help: "Twin mode: model time runs N times faster than real time.")
    var scale: Int64 = 1

    @Option(help: "Twin mode: the replication whose health history (and random streams) the upstreams follow.")
    var replication = 0

    @Option(help: "Twin mode: the wall-clock instant model time reads zero, in Unix nanoseconds (default: now).")
    var startUnixNs: Int64?

    /// Swift concurrency's jobs run on NIO's event loops, as in the gateway: a request's
    /// handler, its timers and its I/O stay on one thread instead of hopping between NIO's
    /// threads and the default executor's (which cost the mock half its CPU in context
    /// switches under a twin's load). Installed before the command starts any task.
    static func main() async {
        NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
        await main(nil)
    }

    func validate() throws {
        guard scale >= 1 else { throw ValidationError("--scale must be an integer ≥ 1, got \(scale)") }
        guard replication >= 0 else { throw ValidationError("--replication must be ≥ 0, got \(replication)") }
        guard MockFault(rawValue: fault) != nil else {
            throw ValidationError("--fault '\(fault)' is not one of \(MockFault.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        guard (0...65_535).contains(port) else { throw ValidationError("--port must be 0…65535, got \(port)") }
        guard contextWindowTokens >= 0 else { throw ValidationError("--context-window-tokens must be ≥ 0, got \(contextWindowTokens)") }
        guard outputTokens >= 1 else { throw ValidationError("--output-tokens must be ≥ 1, got \(outputTokens)") }
        for (name, value) in [("--first-token-seconds", firstTokenSeconds), ("--tokens-per-second", tokensPerSecond), ("--retry-after-seconds", retryAfterSeconds),
                              ("--slow-first-token-seconds", slowFirstTokenSeconds), ("--hang-seconds", hangSeconds),
                              ("--first-token-sigma", firstTokenSigma)] where !(value.isFinite && value >= 0) {
            throw ValidationError("\(name) must be a number ≥ 0, got \(value)")
        }
    }

    func run() async throws {
        let state = MockState(defaultFault: MockFault(rawValue: fault)!, seed: seed)
        let behaviour = MockBehaviour(firstTokenSeconds: firstTokenSeconds, firstTokenSigma: firstTokenSigma, tokensPerSecond: tokensPerSecond, outputTokens: outputTokens,
                                      retryAfterSeconds: retryAfterSeconds, slowFirstTokenSeconds: slowFirstTokenSeconds, hangSeconds: hangSeconds,
                                      contextWindowTokens: contextWindowTokens)
        let twinResponder = try twin.map { path in try TwinResponder.load(path: path, overrides: overrides, scale: scale, replication: replication, startUnixNanoseconds: startUnixNs) }
        let router = Router(context: MockRequestContext.self)
        router.post("/v1/chat/completions") { request, context in
            await state.handlerStarted()
            do {
                let response = if let twinResponder {
                    try await twinResponder.respond(to: request, context: context, state: state)
                } else {
                    try await behaviour.respond(to: request, context: context, state: state)
                }
                await state.handlerEnded()
                return response
            } catch {
                await state.handlerEnded()
                throw error
            }
        }
        router.get("/v1/models") { _, _ in
            Response(status: .ok, headers: [.contentType: "application/json"],
                     body: .init(byteBuffer: ByteBuffer(string: #"{"object":"list","data":[{"id":"mock","object":"model","created":1795737600,"owned_by":"brownout"}]}"#)))
        }
        router.post("/mock/faults") { request, context in
            let order = try await request.decode(as: FaultOrder.self, context: context)
            if let fault = order.fault { await state.schedule(fault, count: max(1, order.count ?? 1)) }
            if let fault = order.defaultFault { await state.setDefault(fault) }
            if let random = order.random {
                guard (0...1).contains(random.probability) else { throw HTTPError(.badRequest, message: "random.probability must be in [0, 1]") }
                await state.setRandom(random.probability > 0 ? random : nil)
            }
            return Response(status: .noContent)
        }
        router.get("/mock/stats") { _, _ in
            let encoder = JSONEncoder()
            encoder.outputFormatting = .sortedKeys
            let data = try encoder.encode(await state.stats)
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
        }
        router.post("/mock/reset") { _, _ in
            await state.reset()
            return Response(status: .noContent)
        }
        var logger = Logger(label: "brownout-mock-provider")
        logger.logLevel = .warning
        let app = Application(router: router, configuration: .init(address: .hostname(host, port: port), serverName: "brownout-mock-provider"),
                              onServerRunning: { channel in
                                  let port = channel.localAddress?.port ?? 0
                                  FileHandle.standardOutput.write(Data("listening on \(host):\(port)\n".utf8))
                              }, logger: logger)
        let health = Task { await twinResponder?.upstreams.followHealth() }
        defer { health.cancel() }
        try await app.runService()
    }
}

/// `POST /mock/faults`: `{"fault": NAME, "count": N}` schedules a fault for the next N
/// requests; `{"default": NAME}` sets the fault for all others; `{"random": {"probability": P,
/// "faults": [NAME…], "seed": S}}` gives each request not scheduled otherwise a fault drawn at
/// random (all faults when `faults` is absent; probability 0 stops).
struct FaultOrder: Decodable {
    var fault: MockFault?
    var count: Int?
    var defaultFault: MockFault?
    var random: MockState.RandomFaults?

    enum CodingKeys: String, CodingKey {
        case fault, count, random
        case defaultFault = "default"
    }
}

/// The request context: Hummingbird's, plus the connection (the `reset` fault closes it).
struct MockRequestContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    let channel: any Channel

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        channel = source.channel
    }
}
