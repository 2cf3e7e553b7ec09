extension RandomNumberGenerator {
    /// A uniform draw on [0, 1) from the top 53 bits of one `next()`: every multiple of
    /// 2⁻⁵³ equally likely.
    ///
    /// The router's generator is an existential (`any RandomNumberGenerator`), and the
    /// standard library's `Double.random(in:using:)` cannot be specialised for it: each
    /// draw went through generic metadata lookups. This costs one witness call.
    @inlinable
    public mutating func unitIntervalDraw() -> Double {
        Double(next() >> 11) * 0x1p-53
    }
}
