import SimulationKernel

/// The gateway's replicas as the actors around them hold them: a team hands each request to
/// the next replica up in turn (the load balancer), and an upstream answers an attempt to the
/// replica that sent it (``AttemptTicket/replica``).
struct GatewayReplicas: Sendable {
    private let gateways: [PeerReference<Gateway>]
    private let ids: [HandlerID]
    /// Which replicas are up (``ReplicaCrash``), shared by everyone holding these.
    let liveness: ReplicaLiveness

    init(_ gateways: [Gateway]) {
        precondition(!gateways.isEmpty && gateways.count <= Int(UInt8.max) + 1, "GatewayReplicas: 1…256 replicas")
        self.gateways = gateways.map(PeerReference.init)
        self.ids = gateways.map(\.id)
        self.liveness = ReplicaLiveness(count: gateways.count)
    }

    var count: Int { gateways.count }

    subscript(replica: UInt8) -> PeerReference<Gateway> { gateways[Int(replica)] }

    /// Replica `replica`'s calendar handler (for events an upstream schedules for it).
    func id(of replica: UInt8) -> HandlerID { ids[Int(replica)] }
}

/// Which of the gateway's replicas are up, and since when the others are down: the load
/// balancer's view (a replica down gets no requests) and the replicas' count of each other
/// (a replica down still counts until its last mark goes stale). Touched only on the
/// replication's one executor.
final class ReplicaLiveness: @unchecked Sendable {
    /// Per replica, when it went down (nil: up).
    private var downSince: [Int64?]

    init(count: Int) {
        downSince = Array(repeating: nil, count: count)
    }

    func isUp(_ replica: Int) -> Bool { downSince[replica] == nil }

    func wentDown(_ replica: Int, at time: Int64) { downSince[replica] = time }

    func cameUp(_ replica: Int) { downSince[replica] = nil }

    /// The first replica up at or after `start`, in turn (nil: none is up).
    func nextUp(from start: Int) -> Int? {
        for offset in 0..<downSince.count {
            let replica = (start + offset) % downSince.count
            if downSince[replica] == nil { return replica }
        }
        return nil
    }

    /// The replicas another counts alive at `time`: those up, and those down for less than
    /// `window` (their last mark is not stale yet).
    func counted(at time: Int64, window: Int64) -> Int {
        downSince.count { since in since.map { time - $0 < window } ?? true }
    }
}
