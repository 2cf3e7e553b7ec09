/// Why the router did what it did: a set of reason codes, kept as bits so that recording
/// them costs nothing on the hot path, written as a sorted list of names.
public struct ReasonCodes: OptionSet, Codable, Sendable, Hashable {
    public let rawValue: UInt64

    @inlinable
    public init(rawValue: UInt64) {
        self.rawValue = rawValue
    }

    public static let primary = ReasonCodes(rawValue: 1 << 0)
    public static let retry = ReasonCodes(rawValue: 1 << 1)
    public static let hedge = ReasonCodes(rawValue: 1 << 2)
    public static let fallback = ReasonCodes(rawValue: 1 << 3)
    public static let spillover = ReasonCodes(rawValue: 1 << 4)
    public static let bypass = ReasonCodes(rawValue: 1 << 5)
    public static let success = ReasonCodes(rawValue: 1 << 6)
    public static let breakerOpen = ReasonCodes(rawValue: 1 << 7)
    public static let ejected = ReasonCodes(rawValue: 1 << 8)
    public static let retryAfterCooldown = ReasonCodes(rawValue: 1 << 9)
    public static let providerLimit = ReasonCodes(rawValue: 1 << 10)
    public static let localFull = ReasonCodes(rawValue: 1 << 11)
    public static let budgetExhausted = ReasonCodes(rawValue: 1 << 12)
    public static let budgetDegraded = ReasonCodes(rawValue: 1 << 13)
    public static let budgetAlert = ReasonCodes(rawValue: 1 << 14)
    public static let retryBudgetEmpty = ReasonCodes(rawValue: 1 << 15)
    public static let shed = ReasonCodes(rawValue: 1 << 16)
    public static let rateLimited = ReasonCodes(rawValue: 1 << 17)
    public static let concurrencyLimit = ReasonCodes(rawValue: 1 << 18)
    public static let deadlineExceeded = ReasonCodes(rawValue: 1 << 19)
    public static let maxAttempts = ReasonCodes(rawValue: 1 << 20)
    public static let notRetryable = ReasonCodes(rawValue: 1 << 21)
    public static let throttledLocally = ReasonCodes(rawValue: 1 << 22)
    public static let noTargetAvailable = ReasonCodes(rawValue: 1 << 23)
    public static let cancelled = ReasonCodes(rawValue: 1 << 24)
    public static let retryAfterHonoured = ReasonCodes(rawValue: 1 << 25)
    public static let breakerOpened = ReasonCodes(rawValue: 1 << 26)
    public static let lateResult = ReasonCodes(rawValue: 1 << 27)
    public static let queueTooLong = ReasonCodes(rawValue: 1 << 28)
    /// A send after an attempt was refused for its context length, to a larger-context target.
    public static let contextWindowFallback = ReasonCodes(rawValue: 1 << 29)
    /// A retry that goes back to the target that just failed (`same`, `same_then_next`).
    public static let sameTarget = ReasonCodes(rawValue: 1 << 30)
    /// A target passed over because it speaks another API than the client, on a route with
    /// `cross_protocol: false`.
    public static let otherProtocol = ReasonCodes(rawValue: 1 << 31)

    /// Every code with its written name, in bit order.
    public static let names: [(ReasonCodes, String)] = [
        (.primary, "primary"), (.retry, "retry"), (.hedge, "hedge"), (.fallback, "fallback"),
        (.spillover, "spillover"), (.bypass, "bypass"), (.success, "success"), (.breakerOpen, "breaker_open"),
        (.ejected, "ejected"), (.retryAfterCooldown, "retry_after_cooldown"), (.providerLimit, "provider_limit"),
        (.localFull, "local_full"), (.budgetExhausted, "budget_exhausted"), (.budgetDegraded, "budget_degraded"),
        (.budgetAlert, "budget_alert"), (.retryBudgetEmpty, "retry_budget_empty"), (.shed, "shed"),
        (.rateLimited, "rate_limited"), (.concurrencyLimit, "concurrency_limit"), (.deadlineExceeded, "deadline_exceeded"),
        (.maxAttempts, "max_attempts"), (.notRetryable, "not_retryable"), (.throttledLocally, "throttled_locally"),
        (.noTargetAvailable, "no_target_available"), (.cancelled, "cancelled"), (.retryAfterHonoured, "retry_after_honoured"),
        (.breakerOpened, "breaker_opened"), (.lateResult, "late_result"), (.queueTooLong, "queue_too_long"),
        (.contextWindowFallback, "context_window_fallback"), (.sameTarget, "same_target"), (.otherProtocol, "other_protocol"),
    ]

    /// The names of the codes in this set, in bit order.
    public var labels: [String] {
        ReasonCodes.names.compactMap { contains($0.0) ? $0.1 : nil }
    }

    public init(from decoder: any Decoder) throws {
        let labels = try decoder.singleValueContainer().decode([String].self)
        var codes = ReasonCodes()
        for label in labels {
            guard let code = ReasonCodes.names.first(where: { $0.1 == label }) else {
                throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "unknown reason code '\(label)'"))
            }
            codes.insert(code.0)
        }
        self = codes
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(labels)
    }
}
