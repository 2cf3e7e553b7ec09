/// When a streamed answer's first bytes go to the client: at once (the default, a pass-through
/// stream), or once `afterTokens` tokens or `afterSeconds` since the first token have arrived,
/// whichever comes first, or once the answer is complete. Until then the answer is held: a
/// cut, a stall, a malformed event or an error before the commit fails over as a failure before
/// the first byte does (the held bytes are dropped; the next attempt starts from the original
/// request). Holding costs the client first-token latency, the held interval, nothing more.
/// At most `maxHeldBytes` are held for one request: past that the answer commits then (counted),
/// so a long answer cannot make the gateway hold it whole in memory.
public struct StreamCommit: Sendable, Equatable {
    /// 1 MiB: some thousands of frames, minutes of a typical answer.
    public static let defaultMaxHeldBytes = 1 << 20

    public var afterTokens: Int?
    public var afterSeconds: Double?
    public var complete: Bool
    public var maxHeldBytes: Int

    public init(afterTokens: Int? = nil, afterSeconds: Double? = nil, complete: Bool = false, maxHeldBytes: Int = StreamCommit.defaultMaxHeldBytes) {
        self.afterTokens = afterTokens
        self.afterSeconds = afterSeconds
        self.complete = complete
        self.maxHeldBytes = maxHeldBytes
    }

    /// The pass-through stream: the first token goes to the client as it comes.
    public static let firstByte = StreamCommit()

    /// Whether the answer is held at all.
    public var holds: Bool { complete || (afterTokens ?? 1) > 1 || afterSeconds != nil }

    /// Whether an answer held with `tokens` content frames come, the first `sinceFirstToken`
    /// nanoseconds ago, goes to the client now (a complete answer goes when it completes).
    public func releases(tokens: Int, sinceFirstTokenNanoseconds sinceFirstToken: Int64) -> Bool {
        if complete { return false }
        if tokens >= (afterTokens ?? (afterSeconds == nil ? 1 : Int.max)) { return true }
        if let afterSeconds, sinceFirstToken >= Seconds.nanoseconds(afterSeconds) { return true }
        return false
    }

    /// When a stream whose first token comes at `firstToken`, its `tokens` tokens evenly until
    /// `lastToken` (seconds from any origin), commits: nil when it does not before its last
    /// token (a complete answer commits at its end, which its driver knows).
    public func commitSeconds(firstToken: Double, lastToken: Double, tokens: Int) -> Double? {
        guard holds else { return firstToken }
        if complete { return nil }
        var at = Double.infinity
        if let afterTokens, afterTokens <= tokens {
            at = tokens > 1 ? firstToken + (lastToken - firstToken) * Double(afterTokens - 1) / Double(tokens - 1) : firstToken
        }
        if let afterSeconds { at = min(at, firstToken + afterSeconds) }
        return at <= lastToken ? at : nil
    }

    /// The policy as `brownout validate` shows it: "at once", "after 20 tokens or 2 s",
    /// "when complete".
    public var summary: String {
        if complete { return "when complete" }
        guard holds else { return "at once" }
        let parts = [afterTokens.map { "\($0) tokens" }, afterSeconds.map { ConfigNumber.text($0) + " s" }].compactMap { $0 }
        return "after " + parts.joined(separator: " or ")
    }
}
