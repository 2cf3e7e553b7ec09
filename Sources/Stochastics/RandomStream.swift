import CGSL

/// One named, independently seeded stream of random numbers: a GSL Mersenne Twister
/// (MT19937) whose seed comes from ``StreamSeed``.
///
/// Give every source of randomness its own stream ("arrivals.team-a",
/// "provider.anthropic.latency") so that changing one component never shifts the draws of
/// another. A stream belongs to one component of one replication and is not thread-safe.
public final class RandomStream: RandomNumberGenerator {
    /// The stable name the seed was derived from.
    public let name: String
    @usableFromInline
    internal let generator: UnsafeMutablePointer<gsl_rng>

    /// The stream `name` of replication `replication` under master seed `seed`.
    public init(name: String, seed: UInt64, replication: Int) {
        _ = GSL.prepared
        guard let generator = gsl_rng_alloc(brownout_gsl_rng_mt19937()) else {
            fatalError("RandomStream: GSL could not allocate a generator (out of memory)")
        }
        gsl_rng_set(generator, StreamSeed.gslSeed(master: seed, replication: replication, name: name))
        self.name = name
        self.generator = generator
    }

    deinit {
        gsl_rng_free(generator)
    }

    /// The underlying GSL generator, for sampling functions of GSL not wrapped here.
    @inlinable
    public var gslGenerator: UnsafeMutablePointer<gsl_rng> { generator }

    /// Uniform on [0, 1).
    @inlinable
    public func uniform() -> Double {
        gsl_rng_uniform(generator)
    }

    /// Uniform on (0, 1): never exactly zero, safe under a logarithm.
    @inlinable
    public func uniformPositive() -> Double {
        gsl_rng_uniform_pos(generator)
    }

    /// Uniform integer in 0..<bound; `bound` must be in 1...2³².
    @inlinable
    public func uniformInteger(below bound: Int) -> Int {
        precondition(bound > 0 && bound <= 1 << 32, "RandomStream: bound out of range")
        return Int(gsl_rng_uniform_int(generator, UInt(bound)))
    }

    /// Exponential with the given mean.
    @inlinable
    public func exponential(mean: Double) -> Double {
        gsl_ran_exponential(generator, mean)
    }

    /// True with probability `p`.
    @inlinable
    public func bernoulli(_ p: Double) -> Bool {
        gsl_rng_uniform(generator) < p
    }

    /// 64 random bits (two 32-bit MT19937 outputs), so a stream can be injected wherever
    /// Swift expects a `RandomNumberGenerator` — RoutingCore's jitter, for instance.
    public func next() -> UInt64 {
        let high = UInt64(gsl_rng_get(generator)) & 0xFFFF_FFFF
        let low = UInt64(gsl_rng_get(generator)) & 0xFFFF_FFFF
        return high << 32 | low
    }
}
