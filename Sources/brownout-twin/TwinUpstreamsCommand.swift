import ArgumentParser
import CommandLineSupport
import MockUpstream
import RoutingCore
import Twin

/// `brownout-twin upstreams SPEC`: the spec's upstreams served as its models say, in scaled
/// time, for a twin run (`brownout twin` starts it; see docs/parity.md).
struct TwinUpstreamsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "upstreams",
        abstract:
            "Serve the spec's upstreams (the request's model names one) as its models say, its degradation included, in scaled time, over chat completions and Anthropic's Messages API.",
        discussion:
            "Prints 'listening on HOST:PORT' on stdout once it accepts connections. brownout twin starts it with the clock it shares with the gateway."
    )

    @Argument(help: "The experiment spec (YAML).")
    var spec: String

    @Option(name: .customLong("set"), help: "Override a value of the spec, path=value (repeatable).")
    var overrides: [String] = []

    @Option(help: "Address to listen on (loopback by default).")
    var host = "127.0.0.1"

    @Option(help: "Port (0: any free port, printed on start).")
    var port = 0

    @Option(help: "Model time runs N times faster than real time.")
    var scale: Int64 = 1

    @Option(help: "The replication whose health history (and random streams) the upstreams follow.")
    var replication = 0

    @Option(help: "The wall-clock instant model time reads zero, in Unix nanoseconds (default: now).")
    var startUnixNs: Int64?

    func validate() throws {
        guard scale >= 1 else { throw ValidationError("--scale must be an integer ≥ 1, got \(scale)") }
        guard replication >= 0 else { throw ValidationError("--replication must be ≥ 0, got \(replication)") }
        guard (0...65_535).contains(port) else { throw ValidationError("--port must be 0…65535, got \(port)") }
    }

    func run() async throws {
        let responder: TwinResponder
        do {
            responder = try TwinResponder.load(
                path: spec, overrides: overrides, scale: scale, replication: replication, startUnixNanoseconds: startUnixNs)
        } catch {
            throw CommandError("\(error)")
        }
        let health = Task { await responder.upstreams.followHealth() }
        defer { health.cancel() }
        let state = MockState(defaultFault: .none, seed: 1)
        try await MockServer.run(
            host: host, port: port, serverName: "brownout-twin upstreams", state: state,
            respond: { request, context, state in try await responder.respond(to: request, context: context, state: state, api: .openai) },
            respondMessages: { request, context, state in
                try await responder.respond(to: request, context: context, state: state, api: .anthropic)
            })
    }
}
