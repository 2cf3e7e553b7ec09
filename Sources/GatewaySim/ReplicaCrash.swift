import RoutingCore

/// A gateway replica that dies during the run (`gateway.crashes`), as a process killed by the
/// kernel or a node lost: at `atSeconds` every request it holds fails for its client as a
/// connection error (which the client's SDK may retry, on another replica), its attempts'
/// connections to upstreams close, its budget slices stay counted as spent, and the load
/// balancer stops giving it requests; the others count it out of the rate limits' shares once
/// its mark goes stale (``GatewayConduct/ReplicaCounting``). With `restartAfterSeconds` it
/// comes back that much later as a new start: breakers closed, no slices, no memory.
public struct ReplicaCrash: Sendable, Equatable {
    /// The replica, from 0 (`replica` in the spec counts from 1).
    public var replica: Int
    public var atSeconds: Double
    public var restartAfterSeconds: Double?

    public init(replica: Int, atSeconds: Double, restartAfterSeconds: Double? = nil) {
        self.replica = replica
        self.atSeconds = atSeconds
        self.restartAfterSeconds = restartAfterSeconds
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case replica
        case atSeconds = "at_s"
        case restartAfterSeconds = "restart_after_s"
    }

    /// `gateway.crashes`: `[{replica, at_s, restart_after_s}]`, a replica among `replicas` (from
    /// 1), never crashing again while it is down.
    static func decodeList(from container: KeyedDecodingContainer<SimulatedGatewaySettings.CodingKeys>, replicas: Int) throws -> [ReplicaCrash] {
        guard container.contains(.crashes) else { return [] }
        var list = try container.nestedUnkeyedContainer(forKey: .crashes)
        var crashes: [ReplicaCrash] = []
        while !list.isAtEnd {
            let c = try list.nestedContainer(keyedBy: CodingKeys.self)
            let replica: Int = try c.number(.replica, atLeast: 1, atMost: replicas)
            let crash = ReplicaCrash(
                replica: replica - 1, atSeconds: try c.number(.atSeconds, atLeast: 0),
                restartAfterSeconds: try c.optionalNumber(.restartAfterSeconds, above: 0))
            if let earlier = crashes.first(where: { $0.replica == crash.replica && $0.overlaps(crash) }) {
                let back = earlier.restartAfterSeconds.map { "back at \(ConfigNumber.text(earlier.atSeconds + $0)) s" } ?? "never restarted"
                throw DecodingError.dataCorruptedError(
                    forKey: .atSeconds, in: c,
                    debugDescription:
                        "replica \(replica) crashes at \(ConfigNumber.text(crash.atSeconds)) s while it is down (it crashed at \(ConfigNumber.text(earlier.atSeconds)) s, \(back))"
                )
            }
            crashes.append(crash)
        }
        return crashes.sorted { ($0.atSeconds, $0.replica) < ($1.atSeconds, $1.replica) }
    }

    /// Whether `other` (of the same replica) falls while this one is down, or this one while it is.
    private func overlaps(_ other: ReplicaCrash) -> Bool {
        func down(_ crash: ReplicaCrash) -> ClosedRange<Double> {
            crash.atSeconds...(crash.restartAfterSeconds.map { crash.atSeconds + $0 } ?? .infinity)
        }
        return down(self).contains(other.atSeconds) || down(other).contains(atSeconds)
    }
}
