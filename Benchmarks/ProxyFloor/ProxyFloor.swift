import AsyncHTTPClient
import Foundation
import Hummingbird
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// The floor under brownout-gateway's added latency, for `Benchmarks/gateway`: the same
/// server (Hummingbird 2), the same upstream client (AsyncHTTPClient) on the same executor
/// (NIO's event loops), forwarding a chat completion unchanged and doing nothing else — no
/// keys, no routing, no JSON, no metrics, no headers of its own. An answer the upstream
/// streams (`text/event-stream`) is streamed on as its parts arrive, head first.
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
            let forwarder = Forwarder()
            let task = client.execute(request: outgoing, delegate: forwarder)
            let answer = try await withTaskCancellationHandler {
                try await forwarder.answer()
            } onCancel: {
                task.cancel()
            }
            switch answer {
            case .whole(let status, let body):
                return Response(status: .init(code: status), headers: [.contentType: "application/json"], body: .init(byteBuffer: body))
            case .stream(let parts):
                return Response(
                    status: .ok, headers: [.contentType: "text/event-stream"],
                    body: ResponseBody { writer in
                        for await part in parts { try await writer.write(part) }
                        try await writer.finish(nil)
                    })
            }
        }
        let app = Application(
            router: router, configuration: .init(address: .hostname("127.0.0.1", port: port), serverName: "proxy-floor"),
            onServerRunning: { channel in FileHandle.standardOutput.write(Data("listening on 127.0.0.1:\(channel.localAddress?.port ?? 0)\n".utf8)) })
        try await app.runService()
        try await client.shutdown()
    }
}

/// Forwards the upstream's answer as it comes, on the event loop: a streamed one part by part
/// from its head on, any other gathered whole.
final class Forwarder: HTTPClientResponseDelegate, Sendable {
    typealias Response = Void

    enum Answer: Sendable {
        case whole(status: Int, body: ByteBuffer)
        case stream(AsyncStream<ByteBuffer>)
    }

    private struct State {
        var status = 0
        var body = ByteBuffer()
        var parts: AsyncStream<ByteBuffer>.Continuation?
        var answer: Result<Answer, any Error>?
        var waiter: CheckedContinuation<Answer, any Error>?
    }

    private let state = Mutex(State())

    func answer() async throws -> Answer {
        try await withCheckedThrowingContinuation { waiter in
            let ready = state.withLock { state -> Result<Answer, any Error>? in
                if state.answer == nil { state.waiter = waiter }
                return state.answer
            }
            if let ready { waiter.resume(with: ready) }
        }
    }

    private func settle(_ answer: Result<Answer, any Error>) {
        state.withLock { state -> CheckedContinuation<Answer, any Error>? in
            guard state.answer == nil else { return nil }
            state.answer = answer
            defer { state.waiter = nil }
            return state.waiter
        }?.resume(with: answer)
    }

    func didReceiveHead(task: HTTPClient.Task<Void>, _ head: HTTPResponseHead) -> EventLoopFuture<Void> {
        if head.status == .ok, head.headers.first(name: "content-type")?.hasPrefix("text/event-stream") == true {
            let (parts, continuation) = AsyncStream.makeStream(of: ByteBuffer.self)
            state.withLock { $0.parts = continuation }
            settle(.success(.stream(parts)))
        } else {
            state.withLock { $0.status = Int(head.status.code) }
        }
        return task.eventLoop.makeSucceededVoidFuture()
    }

    func didReceiveBodyPart(task: HTTPClient.Task<Void>, _ buffer: ByteBuffer) -> EventLoopFuture<Void> {
        state.withLock { state in
            if let parts = state.parts {
                parts.yield(buffer)
            } else {
                var part = buffer
                state.body.writeBuffer(&part)
            }
        }
        return task.eventLoop.makeSucceededVoidFuture()
    }

    func didFinishRequest(task: HTTPClient.Task<Void>) throws {
        let (status, body, parts) = state.withLock { ($0.status, $0.body, $0.parts) }
        parts?.finish()
        settle(.success(.whole(status: status, body: body)))
    }

    func didReceiveError(task: HTTPClient.Task<Void>, _ error: any Error) {
        state.withLock { $0.parts }?.finish()
        settle(.failure(error))
    }
}
