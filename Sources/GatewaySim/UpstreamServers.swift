import DequeModule
import RoutingCore
import SimulationKernel

/// The server bookkeeping a provider and a local pool share: busy servers, a FIFO queue of
/// attempts waiting for one, and the attempts whose answers are scheduled as events.
struct UpstreamServers: ~Copyable {
    private(set) var busy = 0
    private var waiting = Deque<(ticket: AttemptTicket, enqueuedAt: Int64)>()
    private var scheduled = IntegerKeyTable<UpstreamAttempt>()
    private(set) var metrics: UpstreamMetrics

    init(metrics: UpstreamMetrics) {
        self.metrics = metrics
    }

    enum Arrival {
        /// A server is free: serve it now.
        case serve
        /// It waits in the queue.
        case queued
        /// Queue full: turn it away.
        case full
    }

    /// What was cancelled: a waiting attempt, or one being served (its server is now free).
    enum Cancelled {
        case waiting(AttemptTicket)
        case serving(UpstreamAttempt)
    }

    /// Counts an attempt that reached the upstream, whatever becomes of it.
    mutating func offer(now: Int64) {
        metrics.recordOffer(at: now)
    }

    /// An attempt asks for a server while `capacity` servers are usable.
    mutating func arrive(_ ticket: AttemptTicket, capacity: Int, queueLimit: Int, now: Int64) -> Arrival {
        if busy < capacity { return .serve }
        guard waiting.count < queueLimit else { return .full }
        waiting.append((ticket, now))
        metrics.queueChanged(to: waiting.count, at: now)
        metrics.heldChanged(to: scheduled.count + waiting.count)
        return .queued
    }

    /// A server starts on an attempt that waited `waited` nanoseconds.
    mutating func occupy(waited: Int64, now: Int64) {
        busy += 1
        metrics.busyChanged(to: busy, at: now)
        metrics.recordAccepted(waited: waited, at: now)
    }

    /// The next waiting attempt, if a server is free for it.
    mutating func nextWaiting(capacity: Int, now: Int64) -> (ticket: AttemptTicket, waited: Int64)? {
        guard busy < capacity, let next = waiting.popFirst() else { return nil }
        metrics.queueChanged(to: waiting.count, at: now)
        return (next.ticket, now - next.enqueuedAt)
    }

    /// Remembers the answer an attempt will get when its event fires.
    mutating func schedule(_ attempt: UpstreamAttempt) {
        scheduled.insert(attempt, forKey: UInt64(bitPattern: attempt.ticket.key))
        metrics.heldChanged(to: scheduled.count + waiting.count)
    }

    /// An attempt whose event fired, as the upstream answers it.
    struct Completion {
        /// What its gateway is told.
        let report: AttemptReport
        /// The gateway replica that sent it.
        let replica: UInt8
        /// Whether it held a server, now free.
        let freedServer: Bool
    }

    /// The attempt whose event fired (nil if it was cancelled meanwhile); frees its server.
    /// Read where it is stored: an attempt is too large to move out for the few fields told.
    mutating func complete(key: Int64, now: Int64) -> Completion? {
        let completion = scheduled.remove(UInt64(bitPattern: key)) { attempt in
            Completion(
                report: AttemptReport(
                    requestID: attempt.ticket.requestID, attempt: attempt.ticket.attempt, outcome: attempt.report,
                    firstByteAt: attempt.firstByteAt ?? 0),
                replica: attempt.ticket.replica, freedServer: attempt.holdsServer)
        }
        guard let completion else { return nil }
        if completion.freedServer {
            if completion.report.outcome.outcome != .success { metrics.recordError(completion.report.outcome.outcome, at: now) }
            release(now: now)
        }
        return completion
    }

    /// Cancels attempt `key` wherever it is; frees its server if it had one.
    mutating func cancel(key: Int64, now: Int64) -> Cancelled? {
        if let index = waiting.firstIndex(where: { $0.ticket.key == key }) {
            let ticket = waiting.remove(at: index).ticket
            metrics.queueChanged(to: waiting.count, at: now)
            return .waiting(ticket)
        }
        guard let attempt = scheduled.removeValue(forKey: UInt64(bitPattern: key)), attempt.holdsServer else { return nil }
        release(now: now)
        return .serving(attempt)
    }

    func firstTokenAt(key: Int64) -> Int64? {
        attempt(key: key)?.firstTokenAt
    }

    /// The attempt `key`, while it is scheduled.
    func attempt(key: Int64) -> UpstreamAttempt? {
        scheduled[UInt64(bitPattern: key)]
    }

    var waitingCount: Int { waiting.count }

    mutating func recordRefusal(_ outcome: OutcomeClass, now: Int64) {
        metrics.recordError(outcome, at: now)
    }

    mutating func recordHealth(_ state: Int, at now: Int64) {
        metrics.stateChanged(to: state, at: now)
    }

    mutating func recordReplicas(_ replicas: Int, at now: Int64) {
        metrics.replicasChanged(to: replicas, at: now)
    }

    private mutating func release(now: Int64) {
        busy -= 1
        metrics.busyChanged(to: busy, at: now)
    }
}
