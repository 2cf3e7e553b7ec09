/// How long to wait before retry n (n = 1 for the first retry).
///
/// Semantics follow Brooker's "Exponential Backoff and Jitter" (AWS Architecture Blog):
/// exponential min(cap, base·2ⁿ⁻¹); full jitter U(0, that); equal jitter half fixed, half
/// random; decorrelated min(cap, U(base, 3·previous)).
public enum Backoff: Sendable, Equatable {
    /// The kinds by name, as a config writes them.
    public enum Kind: String, CaseIterable, Sendable {
        case none, exponential
        case fullJitter = "full_jitter", equalJitter = "equal_jitter", decorrelatedJitter = "decorrelated_jitter"
    }

    case none
    case exponential(baseSeconds: Double, capSeconds: Double)
    case fullJitter(baseSeconds: Double, capSeconds: Double)
    case equalJitter(baseSeconds: Double, capSeconds: Double)
    case decorrelatedJitter(baseSeconds: Double, capSeconds: Double)

    /// The delay in nanoseconds before retry `retry` (≥ 1); `previous` is the last delay
    /// (decorrelated jitter grows from it).
    @inlinable
    public func delay(retry: Int, previous: Int64, using generator: inout some RandomNumberGenerator) -> Int64 {
        switch self {
        case .none:
            return 0
        case .exponential(let base, let cap):
            return Seconds.nanoseconds(Backoff.ceiling(base, cap, retry))
        case .fullJitter(let base, let cap):
            return Seconds.nanoseconds(generator.unitIntervalDraw() * Backoff.ceiling(base, cap, retry))
        case .equalJitter(let base, let cap):
            let half = Backoff.ceiling(base, cap, retry) / 2
            return Seconds.nanoseconds(half + generator.unitIntervalDraw() * half)
        case .decorrelatedJitter(let base, let cap):
            let last = max(Seconds.seconds(previous), base)
            return Seconds.nanoseconds(min(cap, base + generator.unitIntervalDraw() * (3 * last - base)))
        }
    }

    @inlinable
    static func ceiling(_ base: Double, _ cap: Double, _ retry: Int) -> Double {
        min(cap, base * Double(1 << min(max(retry - 1, 0), 52)))
    }

    /// The largest delay this backoff can produce, in seconds.
    public var capSeconds: Double {
        switch self {
        case .none: return 0
        case .exponential(_, let cap), .fullJitter(_, let cap), .equalJitter(_, let cap), .decorrelatedJitter(_, let cap): return cap
        }
    }

    var parameters: (base: Double, cap: Double)? {
        switch self {
        case .none: return nil
        case .exponential(let base, let cap), .fullJitter(let base, let cap), .equalJitter(let base, let cap), .decorrelatedJitter(let base, let cap):
            return (base, cap)
        }
    }
}
