import Hummingbird
import NIOCore

/// Reads a client's request body. With a `Content-Length`, it returns as soon as that many
/// bytes are in, without waiting for the request's end marker: Hummingbird reads every request's
/// unread parts after its response is written, so the marker is taken off the critical path and
/// the upstream request leaves a few microseconds earlier (at one connection, about 2.4 µs
/// of the time before the upstream send; BENCHMARKS.md, eighth session).
enum RequestBodyReader {
    struct TooLarge: Error {}

    static func body(of request: Request, upTo limit: Int) async throws -> ByteBuffer {
        let declared = request.headers[.contentLength].flatMap { Int($0) }
        if let declared, declared > limit { throw TooLarge() }
        var parts = request.body.makeAsyncIterator()
        guard var body = try await parts.next() else { return ByteBuffer() }
        while declared.map({ body.readableBytes < $0 }) ?? true, var part = try await parts.next() {
            guard body.readableBytes + part.readableBytes <= limit else { throw TooLarge() }
            body.writeBuffer(&part)
        }
        guard body.readableBytes <= limit else { throw TooLarge() }
        return body
    }
}
