/// Conversions between configured seconds and the router's integer nanoseconds.
public enum Seconds {
    /// Seconds to nanoseconds, rounded to nearest; saturates at ±(2⁶² − 1) ns (about 146
    /// years; NaN counts as +), so that no sum of two converted durations can overflow. The
    /// simulator's kernel has the same rule (`SimulationInstant.nanoseconds(fromSeconds:)`):
    /// RoutingCore and the kernel never import each other; a test holds the two equal.
    @inlinable
    public static func nanoseconds(_ seconds: Double) -> Int64 {
        // Saturation is judged before rounding: at ±4.6e18 a double is a whole number. The
        // rounding is `rounded()`'s (halves away from zero) without its call into the C
        // library or a branch on the fraction: adding the largest double below ½, with the
        // value's sign, carries a fraction of ½ or more over the next integer and nothing
        // less, and the conversion truncates toward zero.
        let ns = seconds * 1e9
        if ns.isNaN || ns >= 4.6e18 { return Int64.max / 2 }
        if ns <= -4.6e18 { return Int64.min / 2 }
        return Int64(ns + Double(signOf: ns, magnitudeOf: 0.499_999_999_999_999_94))
    }

    @inlinable
    public static func seconds(_ nanoseconds: Int64) -> Double {
        Double(nanoseconds) / 1e9
    }

    /// A duration's whole nanoseconds (attoseconds truncated), saturating as above.
    @inlinable
    public static func nanoseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        if seconds >= 4_600_000_000 { return Int64.max / 2 }
        if seconds <= -4_600_000_000 { return Int64.min / 2 }
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}
