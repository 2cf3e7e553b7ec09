import SimulationKernel

/// The gateway's replicas as the actors around them hold them: a team hands each request to
/// the next replica in turn (the load balancer), and an upstream answers an attempt to the
/// replica that sent it (``AttemptTicket/replica``).
struct GatewayReplicas: Sendable {
    private let gateways: [PeerReference<Gateway>]
    private let ids: [HandlerID]

    init(_ gateways: [Gateway]) {
        precondition(!gateways.isEmpty && gateways.count <= Int(UInt8.max) + 1, "GatewayReplicas: 1…256 replicas")
        self.gateways = gateways.map(PeerReference.init)
        self.ids = gateways.map(\.id)
    }

    var count: Int { gateways.count }

    subscript(replica: UInt8) -> PeerReference<Gateway> { gateways[Int(replica)] }

    /// Replica `replica`'s calendar handler (for events an upstream schedules for it).
    func id(of replica: UInt8) -> HandlerID { ids[Int(replica)] }
}
