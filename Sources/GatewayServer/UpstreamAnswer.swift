import NIOCore
import NIOHTTP1

/// What an attempt keeps of an upstream's answer as it arrives: the status, the `Retry-After`
/// of an error, and the body gathered up to a limit — a whole answer's up to
/// ``answerLimit``, an error's up to ``errorBodyLimit`` (read for its reason).
struct UpstreamAnswer {
    /// The longest answer taken (a longer one fails the attempt, as a connection error).
    static let answerLimit = 64 << 20
    /// The longest error body read for its reason (a longer one is dropped, not an error).
    static let errorBodyLimit = 1 << 20

    private(set) var status = 0
    private(set) var retryAfterSeconds: Double?
    private var bytes: ByteBuffer?
    /// The body grew past its limit, and was dropped.
    private(set) var overflowed = false

    var isSuccess: Bool { status == 200 }

    /// The body; nil once it grew past its limit.
    var body: ByteBuffer? { overflowed ? nil : (bytes ?? ByteBuffer()) }

    mutating func take(_ head: HTTPResponseHead) {
        status = Int(head.status.code)
        retryAfterSeconds = head.status == .ok ? nil : head.headers.first(name: "retry-after").flatMap(Double.init)
    }

    /// Adds a part of the body; false when the body has grown past its limit (it is dropped).
    mutating func gather(_ buffer: ByteBuffer) -> Bool {
        guard !overflowed else { return false }
        guard (bytes?.readableBytes ?? 0) + buffer.readableBytes <= (isSuccess ? Self.answerLimit : Self.errorBodyLimit) else {
            bytes = nil
            overflowed = true
            return false
        }
        if bytes == nil {
            bytes = buffer
        } else {
            var part = buffer
            bytes!.writeBuffer(&part)
        }
        return true
    }
}
