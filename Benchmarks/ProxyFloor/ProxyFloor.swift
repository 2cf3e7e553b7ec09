import AsyncHTTPClient
import Foundation
import Hummingbird
import NIOCore
import NIOHTTP1
import NIOPosix

/// The floor under brownout-gateway's added latency, for `Benchmarks/gateway`: the same
/// server (Hummingbird 2), the same upstream client (AsyncHTTPClient) on the same executor
/// (NIO's event loops), forwarding a whole chat completion unchanged and doing nothing else —
/// no keys, no routing, no JSON, no metrics, no headers of its own.
///
/// `brownout-bench-proxy-floor UPSTREAM_BASE_URL PORT` prints `listening on HOST:PORT`.
@main
enum ProxyFloor {
    static func main() async throws {
        NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
        let arguments = CommandLine.arguments
        guard arguments.count == 3, let port = Int(arguments[2]) else {
            FileHandle.standardError.write(Data("usage: brownout-bench-proxy-floor UPSTREAM_BASE_URL PORT\n".utf8))
            exit(2)
        }
        let upstream = arguments[1] + "/chat/completions"
        var configuration = HTTPClient.Configuration(timeout: .init(connect: .seconds(10)), decompression: .disabled)
        configuration.tracing.tracer = nil
        configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = 4_096  // as the gateway
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        // The request is built once and its body set per request; the answer is gathered on the
        // event loop (AsyncHTTPClient's delegate API), as the gateway gathers a whole answer.
        var request = try HTTPClient.Request(url: upstream, method: .POST)
        request.headers.add(name: "content-type", value: "application/json")
        let template = request
        let router = Router()
        router.post("/v1/chat/completions") { incoming, _ -> Response in
            var outgoing = template
            outgoing.body = .byteBuffer(try await incoming.body.collect(upTo: 16 << 20))
            let task = client.execute(request: outgoing, delegate: ResponseAccumulator(request: outgoing, maxBodySize: 64 << 20))
            let response = try await withTaskCancellationHandler { try await task.futureResult.get() } onCancel: { task.cancel() }
            return Response(status: .init(code: Int(response.status.code)), headers: [.contentType: "application/json"],
                            body: .init(byteBuffer: response.body ?? ByteBuffer()))
        }
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: port), serverName: "proxy-floor"),
                              onServerRunning: { channel in FileHandle.standardOutput.write(Data("listening on 127.0.0.1:\(channel.localAddress?.port ?? 0)\n".utf8)) })
        try await app.runService()
        try await client.shutdown()
    }
}
