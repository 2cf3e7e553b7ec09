/// Derives the seed of a named random stream from (master seed, replication, stream name).
///
/// The hash is fixed and documented so that seeds are stable across versions and machines:
///
///     h(name)  = FNV-1a 64 over the UTF-8 bytes of name
///     mix(x)   = SplitMix64 finaliser of x
///     seed64   = mix( mix( mix(master) xor replication ) xor h(name) )
///     gslSeed  = low 32 bits of (seed64 xor (seed64 >> 32)), with 0 mapped to 1
///
/// A stream's seed depends on its own name only, so adding a stream (a new provider, a new
/// team) leaves every other stream's draws unchanged — which is what lets policy variants
/// share common random numbers. GSL's generators take 32 significant seed bits; among
/// n streams the chance that two share a seed is about n²/2³³ (10⁻⁷ for 40 streams).
public enum StreamSeed {
    /// The 64-bit seed of stream `name` in `replication` under `master`.
    public static func seed64(master: UInt64, replication: Int, name: String) -> UInt64 {
        mix(mix(mix(master) ^ UInt64(truncatingIfNeeded: replication)) ^ fnv1a64(name))
    }

    /// The seed handed to `gsl_rng_set`.
    public static func gslSeed(master: UInt64, replication: Int, name: String) -> UInt {
        let wide = seed64(master: master, replication: replication, name: name)
        let folded = UInt(truncatingIfNeeded: (wide ^ (wide >> 32)) & 0xFFFF_FFFF)
        return folded == 0 ? 1 : folded
    }

    /// FNV-1a, 64-bit.
    public static func fnv1a64(_ text: String) -> UInt64 {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash &*= 0x0000_0100_0000_01B3
        }
        return hash
    }

    /// The SplitMix64 output function (Steele, Lea & Flood 2014).
    public static func mix(_ value: UInt64) -> UInt64 {
        var z = value &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
