/// Rounding to the nearest integer, halves away from zero: `Double.rounded()`'s rule, without
/// its call into the C library (the baseline x86-64 target has no rounding instruction, so
/// `rounded()` is a call to `round` on every time conversion and token count). RoutingCore,
/// which imports nothing, states the same rule in `Seconds.nanoseconds(_:)`; a test holds the
/// two equal to `rounded()`.
public enum NearestInteger {
    /// `Int64(x.rounded())` for finite `x` with |x| < 2⁶³, without a branch on the fraction
    /// (a fraction of a random draw is a coin toss the branch predictor loses): adding the
    /// largest double below ½, with `x`'s sign, carries a fraction of ½ or more over the next
    /// integer and nothing less, and the conversion truncates toward zero. From 2⁵² on, `x`
    /// is whole and the sum rounds back to it.
    @inlinable @inline(__always)
    public static func of(_ x: Double) -> Int64 {
        Int64(x + Double(signOf: x, magnitudeOf: 0.499_999_999_999_999_94))
    }
}
