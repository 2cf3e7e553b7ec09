import Foundation
import Hummingbird
import Logging
import NIOCore

/// A mock upstream's HTTP server: `POST /v1/chat/completions`, answered by `respond` (and
/// Anthropic's `POST /v1/messages`, by `respondMessages`);
/// `GET /v1/models`; and `POST /mock/faults`, `GET /mock/stats`, `POST /mock/reset` to steer
/// it. Prints `listening on HOST:PORT` on stdout once it accepts connections, and runs until
/// the process is asked to stop. The fault-injecting mock (`brownout-mock-provider`) and the
/// twin's upstreams (`brownout-twin upstreams`) are this server with different answers.
public enum MockServer {
    public typealias Respond = @Sendable (Request, MockRequestContext, MockState) async throws -> Response

    /// `respondMessages`, when given, answers Anthropic's `POST /v1/messages` too.
    public static func run(
        host: String, port: Int, serverName: String, state: MockState, respond: @escaping Respond, respondMessages: Respond? = nil
    ) async throws {
        let router = Router(context: MockRequestContext.self)
        for (path, answer) in [("/v1/chat/completions", respond), ("/v1/messages", respondMessages)] {
            guard let answer else { continue }
            router.post(RouterPath(path)) { request, context in
                await state.handlerStarted()
                do {
                    let response = try await answer(request, context, state)
                    await state.handlerEnded()
                    return response
                } catch {
                    await state.handlerEnded()
                    throw error
                }
            }
        }
        router.get("/v1/models") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "application/json"],
                body: .init(
                    byteBuffer: ByteBuffer(
                        string: #"{"object":"list","data":[{"id":"mock","object":"model","created":1795737600,"owned_by":"brownout"}]}"#)))
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
        var logger = Logger(label: serverName)
        logger.logLevel = .warning
        let app = Application(
            router: router, configuration: .init(address: .hostname(host, port: port), serverName: serverName),
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? 0
                FileHandle.standardOutput.write(Data("listening on \(host):\(port)\n".utf8))
            }, logger: logger)
        try await app.runService()
    }
}
