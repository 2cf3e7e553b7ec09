import NIOCore

/// How a stream ended, from its last bytes: `data: [DONE]`, an error frame (the gateway's
/// word that the answer broke), or neither (the stream was cut).
struct StreamEndScanner {
    enum Ending { case open, done, error }
    /// The last bytes seen: more than an error frame's length.
    private var tail: [UInt8] = []
    private static let kept = 1_024

    private static let done = Array("data: [DONE]".utf8)
    private static let error = Array("data: {\"error\"".utf8)

    mutating func scan(_ chunk: ByteBuffer) {
        tail.append(contentsOf: chunk.readableBytesView.suffix(Self.kept))
        if tail.count > 2 * Self.kept { tail.removeFirst(tail.count - Self.kept) }
    }

    /// The stamps of the last frame the mock stamped (``TwinTiming``).
    var lastStamps: (arrival: Int64, due: Int64)? { TwinTiming.stamps(in: tail, last: true) }

    var ending: Ending {
        if tail.firstRange(of: Self.done) != nil { return .done }
        if tail.firstRange(of: Self.error) != nil { return .error }
        return .open
    }
}
