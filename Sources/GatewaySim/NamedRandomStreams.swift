import Stochastics

// The random streams of a replication, each named after the one source of randomness it
// feeds, so a change in one source's draws never shifts another's. The simulation's actors
// and the live twin (which must draw what the simulation draws) take them from here.

extension TeamSpec {
    /// When the team's requests arrive.
    public func arrivalStream(seed: UInt64, replication: Int) -> RandomStream {
        RandomStream(name: "team.\(name).arrivals", seed: seed, replication: replication)
    }

    /// Each request's input and output tokens, drawn in that order.
    public func sizeStream(seed: UInt64, replication: Int) -> RandomStream {
        RandomStream(name: "team.\(name).tokens", seed: seed, replication: replication)
    }

    /// Whether each request is streamed (``TeamSpec/nextRequestStreams(_:)``).
    public func streamChoiceStream(seed: UInt64, replication: Int) -> RandomStream {
        RandomStream(name: "team.\(name).stream", seed: seed, replication: replication)
    }

    /// The client SDK's waits before its retries.
    public func sdkStream(seed: UInt64, replication: Int) -> RandomStream {
        RandomStream(name: "team.\(name).sdk", seed: seed, replication: replication)
    }
}

extension ProviderSpec {
    /// First-token times and output rates.
    public func latencyStream(seed: UInt64, replication: Int) -> RandomStream {
        RandomStream(name: "provider.\(name).latency", seed: seed, replication: replication)
    }

    /// Which attempts fail, and how.
    public func errorStream(seed: UInt64, replication: Int) -> RandomStream {
        RandomStream(name: "provider.\(name).errors", seed: seed, replication: replication)
    }
}

extension FallbackPoolSpec {
    /// First-token times and output rates (a pool draws no errors).
    public func latencyStream(seed: UInt64, replication: Int) -> RandomStream {
        RandomStream(name: "pool.\(name).latency", seed: seed, replication: replication)
    }
}

/// The gateway's streams, per replica: replica 0's keep the names a gateway of one replica
/// has always drawn from, so a spec that adds replicas changes no other replica's draws.
enum GatewayStreams {
    /// The router's randomness (load balancing, jitter, retry budgets' draws).
    /// A replica's life after a crash (``ReplicaCrash``, `life` 1, 2, …) draws from a stream of its own.
    static func router(seed: UInt64, replication: Int, replica: Int, life: Int = 0) -> RandomStream {
        RandomStream(name: "gateway.router" + suffix(replica) + (life == 0 ? "" : ".life-\(life)"), seed: seed, replication: replication)
    }

    /// Which requests the gateway fails itself while degraded.
    static func errors(seed: UInt64, replication: Int, replica: Int) -> RandomStream {
        RandomStream(name: "gateway.errors" + suffix(replica), seed: seed, replication: replication)
    }

    private static func suffix(_ replica: Int) -> String { replica == 0 ? "" : ".replica-\(replica)" }
}
