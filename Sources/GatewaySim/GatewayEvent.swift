/// The events the simulated gateway schedules for itself (the calendar's `kind`).
enum GatewayEvent: Int32 {
    /// The gateway's own added latency has passed: the request is routed.
    case admit
    /// A backoff has run out.
    case resume
    /// A hedge timer has fired.
    case hedge
    /// An attempt's total time limit has passed.
    case attemptDeadline
    /// An attempt's first-token limit has passed.
    case firstTokenDeadline
    /// The warm-up ends: counting starts.
    case warmUpEnds
    /// A watched attempt's first byte reaches the client (scheduled by the upstream that
    /// serves it, at its first token).
    case firstByte
    /// A stream's frames came further apart than the idle limit: the gateway cuts the attempt
    /// (scheduled by the upstream that serves it, where its frames say).
    case idleCut
    /// A stream sent an event that is not JSON on a route that fails on them: the gateway cuts
    /// the attempt (scheduled likewise).
    case malformedCut
    /// Another replica's breaker change reaches this one (shared breakers): the next in the
    /// gateway's inbox.
    case breakerNotice
    /// Shared budgets: time to look at what this replica holds of each (every lease interval).
    case budgetRenewal
    /// Shared budgets: a slice granted reaches the router (the next in the gateway's list).
    case budgetLease
    /// The replica crashes (``ReplicaCrash``; payload: when it restarts, nanoseconds after, or 0).
    case crash
    /// The crashed replica starts again.
    case restart
    /// Rate limits shared: the replicas alive are counted again (one crashed, or came back).
    case recount
}
