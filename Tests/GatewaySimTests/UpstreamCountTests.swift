import RoutingCore
import Testing
@testable import GatewaySim

/// `per_provider.csv`'s counts add up: an attempt counts, offered and accepted alike, in the
/// window it was offered in, so `offered − accepted − refused` is never negative.
@Suite("Upstream counts across the warm-up")
struct UpstreamCountTests {
    @Test("an attempt queued across the end of the warm-up is neither offered nor accepted; one offered after it is both")
    func queuedAcrossTheWarmUp() {
        let window = MeasurementWindow(warmUp: 1_000, horizon: 10_000, bucket: 1_000)
        var servers = UpstreamServers(metrics: UpstreamMetrics(name: "p", capacity: 1, stateCount: 1, window: window))
        let ticket = { (id: UInt64) in AttemptTicket(requestID: id, attempt: 1, inputTokens: 1, outputTokens: 1, watchesFirstByte: false) }
        // One server, busy from before the warm-up's end; a second attempt queues at 900.
        servers.offer(now: 500)
        #expect(servers.arrive(ticket(1), capacity: 1, queueLimit: 10, now: 500) == .serve)
        servers.occupy(waited: 0, now: 500)
        servers.schedule(
            UpstreamAttempt(
                ticket: ticket(1), report: AttemptOutcome(outcome: .success, latencyNanoseconds: 1_000), firstTokenSeconds: 0,
                startedAt: 500, holdsServer: true))
        servers.offer(now: 900)
        #expect(servers.arrive(ticket(2), capacity: 1, queueLimit: 10, now: 900) == .queued)
        // The server frees at 1,500: the queued attempt is served after the warm-up.
        _ = servers.complete(key: ticket(1).key, now: 1_500)
        let next = servers.nextWaiting(capacity: 1, now: 1_500)
        #expect(next?.waited == 600)
        servers.occupy(waited: 600, now: 1_500)
        servers.schedule(
            UpstreamAttempt(
                ticket: ticket(2), report: AttemptOutcome(outcome: .success, latencyNanoseconds: 1_000), firstTokenSeconds: 0,
                startedAt: 1_500, holdsServer: true))
        #expect(servers.metrics.offered == 0 && servers.metrics.accepted == 0)
        // One offered after the warm-up counts both ways.
        servers.offer(now: 2_000)
        #expect(servers.arrive(ticket(3), capacity: 1, queueLimit: 10, now: 2_000) == .queued)
        _ = servers.complete(key: ticket(2).key, now: 2_500)
        _ = servers.nextWaiting(capacity: 1, now: 2_500)
        servers.occupy(waited: 500, now: 2_500)
        #expect(servers.metrics.offered == 1 && servers.metrics.accepted == 1)
    }
}
