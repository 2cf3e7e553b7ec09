/// The times of a successful streaming try, for the transport the twin adds: the mock stamps
/// every frame with when the request reached it and when, by its plan, the frame was due
/// (`twin-ARRIVAL-DUE`, model nanoseconds, in the answer's id — `chatcmpl-twin-…`,
/// `msg_twin-…` — and after its last token, where a translated stream keeps it).
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

    private static let marker = Array("twin-".utf8)

    /// The stamp of a frame due at `due` of a request that reached the mock at `arrival`.
    static func stamp(arrival: Int64, due: Int64) -> String { "twin-\(arrival)-\(due)" }

    /// The two stamps of the first frame in `bytes` that has them.
    static func stamps(in bytes: some Collection<UInt8>) -> (arrival: Int64, due: Int64)? {
        let bytes = Array(bytes)
        var from = 0
        while let end = markerEnd(in: bytes, from: from) {
            if let stamps = stamps(in: bytes, at: end) { return stamps }
            from = end
        }
        return nil
    }

    /// The stamps in `bytes` due last (frames are due in order, but a translated stream's
    /// later frames may repeat its first frame's id).
    static func latestStamps(in bytes: some Collection<UInt8>) -> (arrival: Int64, due: Int64)? {
        let bytes = Array(bytes)
        var latest: (arrival: Int64, due: Int64)?
        var from = 0
        while let end = markerEnd(in: bytes, from: from) {
            from = end
            guard let stamps = stamps(in: bytes, at: end) else { continue }
            if latest == nil || stamps.due > latest!.due { latest = stamps }
        }
        return latest
    }

    /// Where the first `twin-` at or after `from` ends. A plain scan: the standard library's
    /// generic `ranges(of:)` on bytes, which this replaced, cost the load generator half its CPU
    /// (unspecialized, a metadata lookup per step) and the twin its margin at 20–30×.
    private static func markerEnd(in bytes: [UInt8], from: Int) -> Int? {
        let first = marker[0], count = marker.count
        var index = from
        while index + count <= bytes.count {
            if bytes[index] == first {
                var matched = 1
                while matched < count && bytes[index + matched] == marker[matched] { matched += 1 }
                if matched == count { return index + count }
            }
            index += 1
        }
        return nil
    }

    /// `ARRIVAL-DUE` at `start`, or nil when what follows the marker is not a stamp (a model
    /// named `twin-…`, say).
    private static func stamps(in bytes: [UInt8], at start: Int) -> (arrival: Int64, due: Int64)? {
        var index = start
        func number() -> Int64? {
            var value: Int64 = 0
            let first = index
            while index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) {
                guard index - first < 18 else { return nil }
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
