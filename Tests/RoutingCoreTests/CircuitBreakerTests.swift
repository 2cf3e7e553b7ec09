import Testing
import RoutingCore

@Suite("Circuit breaker state machine")
struct CircuitBreakerTests {
    func at(_ seconds: Double) -> RoutingInstant { RoutingInstant(nanoseconds: Seconds.nanoseconds(seconds)) }

    @Test("closed → open after consecutive failures → half-open after the open time → closed after good probes")
    func fullCycle() {
        var breaker = CircuitBreaker(
            BreakerConfig(consecutiveFailures: 3, failureRateThreshold: nil, openSeconds: 10, halfOpenProbes: 2, openGrowth: 2, maxOpenSeconds: 100))
        let allowsWhileClosed = breaker.allows(at: at(0))
        #expect(allowsWhileClosed)
        breaker.record(.overloaded, at: at(0))
        breaker.record(.clientError, at: at(0.1))  // the caller's fault: does not count, does not reset
        breaker.record(.serverError, at: at(0.2))
        #expect(breaker.state == .closed)
        let failureOpened = breaker.record(.timeout, at: at(0.3))
        #expect(failureOpened)
        #expect(breaker.state == .open)
        let allowsBeforeOpenTimeEnds = breaker.allows(at: at(10.2))
        #expect(!allowsBeforeOpenTimeEnds)
        let allowsFirstProbe = breaker.allows(at: at(10.3))
        #expect(allowsFirstProbe)
        #expect(breaker.state == .halfOpen)
        breaker.attemptStarted()
        breaker.attemptStarted()
        let allowsThirdProbe = breaker.allows(at: at(10.4))
        #expect(!allowsThirdProbe, "at most two probes at once")
        breaker.record(.success, at: at(10.5))
        #expect(breaker.state == .halfOpen)
        breaker.record(.success, at: at(10.6))
        #expect(breaker.state == .closed)
        #expect(breaker.openings == 1)
    }

    @Test("a failed probe re-opens for a growing time, capped")
    func growingOpenTime() {
        var breaker = CircuitBreaker(
            BreakerConfig(consecutiveFailures: 1, failureRateThreshold: nil, openSeconds: 10, halfOpenProbes: 1, openGrowth: 3, maxOpenSeconds: 50))
        breaker.record(.overloaded, at: at(0))
        var now = 10.0
        for expectedOpen in [30.0, 50.0, 50.0] {
            let probeAllowed = breaker.allows(at: at(now))
            #expect(probeAllowed)
            breaker.attemptStarted()
            breaker.record(.overloaded, at: at(now))
            let allowsBeforeReopenEnds = breaker.allows(at: at(now + expectedOpen - 0.001))
            #expect(!allowsBeforeReopenEnds)
            now += expectedOpen
        }
        #expect(breaker.openings == 4)
    }

    @Test("the failure rate over the window opens the breaker once the minimum volume is reached")
    func failureRate() {
        var breaker = CircuitBreaker(BreakerConfig(consecutiveFailures: nil, failureRateThreshold: 0.5, windowSeconds: 10, minimumRequests: 10))
        for i in 0..<9 { breaker.record(i % 2 == 0 ? .overloaded : .success, at: at(Double(i) * 0.1)) }
        #expect(breaker.state == .closed, "9 calls: below the minimum volume")
        breaker.record(.overloaded, at: at(1))
        #expect(breaker.state == .open, "6 failures of 10")
    }

    @Test("the LiteLLM cooldown preset: three failures within a minute cool the target down for 5 s")
    func liteLLMPreset() {
        var breaker = CircuitBreaker(.liteLLMCooldown)
        breaker.record(.serverError, at: at(0))
        breaker.record(.success, at: at(5))
        breaker.record(.serverError, at: at(20))
        #expect(breaker.state == .closed)
        breaker.record(.serverError, at: at(50))
        #expect(breaker.state == .open)
        let allowsDuringCooldown = breaker.allows(at: at(54.9))
        #expect(!allowsDuringCooldown)
        let allowsAfterCooldown = breaker.allows(at: at(55))
        #expect(allowsAfterCooldown)
    }
}
