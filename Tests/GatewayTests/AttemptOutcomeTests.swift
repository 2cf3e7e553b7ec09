import AsyncHTTPClient
import RoutingCore
import Testing
@testable import GatewayServer

/// How an attempt that AsyncHTTPClient failed is classified: what the router learns decides
/// retries, breakers and the failure's name, so each of AsyncHTTPClient's endings is pinned.
@Suite("attempt outcomes from AsyncHTTPClient's errors")
struct AttemptOutcomeTests {
    @Test("a limit that passed before the first byte is a timeout, also while waiting for a pooled connection")
    func timeouts() {
        #expect(UpstreamAttempt.outcome(of: HTTPClientError.deadlineExceeded, afterFirstByte: false) == .timeout)
        #expect(UpstreamAttempt.outcome(of: HTTPClientError.getConnectionFromPoolTimeout, afterFirstByte: false) == .timeout)
        // An upstream that accepted no connection in time is unreachable, not slow.
        #expect(UpstreamAttempt.outcome(of: HTTPClientError.connectTimeout, afterFirstByte: false) == .connectionError)
    }

    @Test("after the first byte reached the client every break is failed_after_first_byte; a cancel stays a cancel")
    func afterFirstByte() {
        #expect(UpstreamAttempt.outcome(of: HTTPClientError.deadlineExceeded, afterFirstByte: true) == .failedAfterFirstByte)
        #expect(UpstreamAttempt.outcome(of: HTTPClientError.remoteConnectionClosed, afterFirstByte: true) == .failedAfterFirstByte)
        #expect(UpstreamAttempt.outcome(of: HTTPClientError.cancelled, afterFirstByte: true) == .cancelled)
        #expect(UpstreamAttempt.outcome(of: HTTPClientError.cancelled, afterFirstByte: false) == .cancelled)
    }

    @Test("anything else before the first byte is a connection error")
    func connectionErrors() {
        #expect(UpstreamAttempt.outcome(of: HTTPClientError.remoteConnectionClosed, afterFirstByte: false) == .connectionError)
        #expect(UpstreamAttempt.outcome(of: CancellationError(), afterFirstByte: false) == .connectionError)
    }
}
