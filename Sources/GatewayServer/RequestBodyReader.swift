import ConfigSchema
import Hummingbird
import NIOCore
import NIOPosix
import RoutingCore
import Synchronization

/// Reads a client's request body within the deployment's bounds (``DeploymentConfig/RequestBodies``):
/// its size, the time it may take, and the bytes of bodies the gateway holds at once. With a
/// `Content-Length`, it returns as soon as that many bytes are in, without waiting for the
/// request's end marker: Hummingbird reads every request's unread parts after its response is
/// written, so the marker is taken off the critical path.
enum RequestBodyReader {
    /// Why a body was not taken, each with its own status.
    enum Failure: Error, Equatable {
        /// Larger than `max_bytes` (413).
        case tooLarge(limit: Int)
        /// Not all of it arrived within `read_timeout_s` (408).
        case tooSlow(seconds: Double)
        /// The gateway already holds `held_max_bytes` of bodies (503).
        case gatewayFull
        /// Broken on the way: a malformed chunk, a connection reset (400).
        case malformed(String)

        var reason: GatewayMetrics.BodyRefusal {
            switch self {
            case .tooLarge: .tooLarge
            case .tooSlow: .tooSlow
            case .gatewayFull: .gatewayFull
            case .malformed: .malformed
            }
        }

        var error: GatewayError {
            switch self {
            case .tooLarge(let limit):
                GatewayError(
                    status: 413, message: "the request body is larger than " + (limit % (1 << 20) == 0 ? "\(limit >> 20) MiB" : "\(limit) bytes"),
                    type: "invalid_request_error", code: "request_too_large")
            case .tooSlow(let seconds):
                GatewayError(
                    status: 408, message: "the request body did not arrive within \(seconds) s", type: "invalid_request_error",
                    code: "request_timeout")
            case .gatewayFull:
                GatewayError(
                    status: 503, message: "the gateway holds as many request bodies as it may; retry later", type: "overloaded_error",
                    code: "gateway_full")
            case .malformed(let detail):
                GatewayError(
                    status: 400, message: "the request body could not be read: \(detail)", type: "invalid_request_error", code: "malformed_body")
            }
        }
    }

    /// The body, held against `allowance` (given back when `hold` is released), read within
    /// the deployment's time limit.
    static func body(
        of request: Request, bounds: DeploymentConfig.RequestBodies, allowance: BodyAllowance
    ) async throws(Failure) -> (ByteBuffer, BodyHold) {
        let hold = BodyHold(allowance: allowance)
        let declared = request.headers[.contentLength].flatMap { Int($0) }
        if let declared {
            guard declared <= bounds.maxBytes else { throw .tooLarge(limit: bounds.maxBytes) }
            guard hold.take(declared) else { throw .gatewayFull }
        }
        let limit = bounds.maxBytes
        // The read runs in a task of its own, started at once (a body already in needs no
        // hop), which an event-loop timer cancels when the time limit passes first; whichever
        // ends first settles the answer. A task group racing `Task.sleep` would cost about
        // 70 µs of CPU a request (BENCHMARKS.md, "what the request body's time limit costs").
        let loop = MultiThreadedEventLoopGroup.currentEventLoop ?? MultiThreadedEventLoopGroup.singleton.any()
        let answer = loop.makePromise(of: ByteBuffer.self)
        let settled = FirstSettlement()
        let reader = Task.immediate {
            do {
                var parts = request.body.makeAsyncIterator()
                var body = try await parts.next() ?? ByteBuffer()
                if declared == nil { guard hold.take(body.readableBytes) else { throw Failure.gatewayFull } }
                while declared.map({ body.readableBytes < $0 }) ?? true, var part = try await parts.next() {
                    guard body.readableBytes + part.readableBytes <= limit else { throw Failure.tooLarge(limit: limit) }
                    if declared == nil { guard hold.take(part.readableBytes) else { throw Failure.gatewayFull } }
                    body.writeBuffer(&part)
                }
                guard body.readableBytes <= limit else { throw Failure.tooLarge(limit: limit) }
                if settled.first() { answer.succeed(body) }
            } catch {
                if settled.first() { answer.fail(error) }
            }
        }
        let timer = loop.scheduleTask(in: .nanoseconds(Seconds.nanoseconds(bounds.readTimeoutSeconds))) {
            if settled.first() { answer.fail(Failure.tooSlow(seconds: bounds.readTimeoutSeconds)) }
            reader.cancel()
        }
        defer { timer.cancel() }
        do {
            return (try await answer.futureResult.get(), hold)
        } catch let failure as Failure {
            throw failure
        } catch {
            throw .malformed(String(describing: error))
        }
    }
}

/// Lets exactly one of several parties settle an answer: the first to ask.
final class FirstSettlement: Sendable {
    private let settled = Atomic<Bool>(false)

    func first() -> Bool { !settled.exchange(true, ordering: .acquiringAndReleasing) }
}
