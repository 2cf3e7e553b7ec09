/// What became of one attempt, as a gateway sees it.
public enum OutcomeClass: String, Codable, Sendable, CaseIterable {
    case success
    /// 429 from the provider's RPM/TPM limits; may carry Retry-After.
    case rateLimited = "rate_limited_429"
    /// 529 overloaded (the provider is overloaded for everyone).
    case overloaded = "overloaded_529"
    /// Any other 5xx.
    case serverError = "server_error_5xx"
    /// The per-try or overall timeout fired.
    case timeout
    /// The connection failed before a response.
    case connectionError = "connection_error"
    /// The stream broke (or its attempt's time ran out) after the first byte reached the
    /// client: tokens were spent, the answer is lost, and nothing is retried.
    case failedAfterFirstByte = "failed_after_first_byte"
    /// A 4xx other than 429: the request itself is wrong; never retried.
    case clientError = "client_error_4xx"
    /// 429 because the organisation's spend limit is reached; never retried.
    case spendLimit = "spend_limit_429"
    /// The gateway cancelled the attempt (a hedge race was decided); says nothing of the target.
    case cancelled

    /// Every class that is a failure (all but success and cancelled): what `retry_on` and a
    /// health state's error mix may name.
    public static let failures: [OutcomeClass] = allCases.filter { $0 != .success && $0 != .cancelled }

    /// Whether the target is to blame (feeds breakers and outlier detection).
    @inlinable
    public var countsAsTargetFailure: Bool {
        switch self {
        case .success, .clientError, .spendLimit, .rateLimited, .cancelled: return false
        case .overloaded, .serverError, .timeout, .connectionError, .failedAfterFirstByte: return true
        }
    }
}
