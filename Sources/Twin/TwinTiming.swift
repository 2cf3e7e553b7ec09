/// The times of a successful streaming try, for the transport the twin adds: the mock stamps
/// every frame with when the request reached it and when, by its plan, the frame was due
/// (`chatcmpl-twin-ARRIVAL-DUE`, model nanoseconds).
struct TwinTiming: Sendable {
    let sentAt: Int64
    var firstTokenAt: Int64 = 0
    var upstreamArrival: Int64?
    var firstTokenDue: Int64?
    var endDue: Int64?

    /// The time between the client and the mock (model nanoseconds), to the first token and
    /// to the end: on the way up, from the send to the mock (when the gateway made one
    /// attempt; after several, as long as the way down), and on the way down, from when the
    /// frame was due at the mock to its arrival here, the mock's own timer lateness included.
    /// When the route `held` the stream (a commit policy), the first frame waited at the gateway
    /// for the commit by the conduct, not in transport: the way down is then the lesser of the
    /// first frame's and the last frame's lateness (the frames released together at the commit
    /// are late by the hold plus the way down; the last one, due at or after the commit, by the
    /// way down alone). Nil when the frames carry no stamps.
    func transport(attempts: Int, end: Int64, held: Bool = false) -> (firstToken: Int64, total: Int64)? {
        guard let arrival = upstreamArrival, let firstDue = firstTokenDue, let endDue else { return nil }
        let downEnd = max(0, end - endDue)
        let downFirst = held ? min(max(0, firstTokenAt - firstDue), downEnd) : max(0, firstTokenAt - firstDue)
        let up = attempts == 1 ? max(0, arrival - sentAt) : downFirst
        return (up + downFirst, up + downEnd)
    }

    /// How long the mock served the answer by its plan: from the request's arrival there to
    /// its last frame's due time (model nanoseconds).
    var plannedNanoseconds: Int64? {
        guard let upstreamArrival, let endDue else { return nil }
        return endDue - upstreamArrival
    }

    private static let marker = Array("chatcmpl-twin-".utf8)

    /// The two stamps of the first frame in `bytes` that has them.
    static func stamps(in bytes: some Collection<UInt8>) -> (arrival: Int64, due: Int64)? {
        stamps(in: Array(bytes), last: false)
    }

    static func stamps(in bytes: [UInt8], last: Bool) -> (arrival: Int64, due: Int64)? {
        let found = last ? bytes.ranges(of: marker).last : bytes.firstRange(of: marker)
        guard var index = found?.upperBound else { return nil }
        func number() -> Int64? {
            var value: Int64 = 0
            let first = index
            while index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) {
                value = value * 10 + Int64(bytes[index] - UInt8(ascii: "0"))
                index += 1
            }
            return index > first ? value : nil
        }
        guard let arrival = number(), index < bytes.count, bytes[index] == UInt8(ascii: "-") else { return nil }
        index += 1
        guard let due = number() else { return nil }
        return (arrival, due)
    }
}
