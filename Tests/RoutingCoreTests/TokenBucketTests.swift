import Testing
import RoutingCore

@Suite("Token bucket")
struct TokenBucketTests {
    func at(_ seconds: Double) -> RoutingInstant { RoutingInstant(nanoseconds: Seconds.nanoseconds(seconds)) }

    @Test("starts full, empties one token at a time, refuses the one past the burst")
    func burst() {
        var took: Bool = false
        var canTake: Bool = false
        var bucket = TokenBucket(ratePerSecond: 2, burst: 5)
        #expect(bucket.tokens == 5)
        for taken in 1...5 {
            took = bucket.take(1, at: at(0))
            #expect(took, "token \(taken) of the burst")
        }
        took = bucket.take(1, at: at(0))
        #expect(took == false)
        canTake = bucket.canTake(1, at: at(0))
        #expect(canTake == false)
        #expect(bucket.tokens == 0, "a refused take takes nothing")
    }

    @Test("refills at the rate, continuously, and never above the burst")
    func refill() {
        var took: Bool = false
        var canTake: Bool = false
        var bucket = TokenBucket(ratePerSecond: 2, burst: 5)
        took = bucket.take(5, at: at(0))
        #expect(took)
        // 2 tokens per second: 0.25 s gives half a token, 0.5 s one.
        #expect(bucket.availableTokens(at: at(0.25)) == 0.5)
        canTake = bucket.canTake(1, at: at(0.25))
        #expect(canTake == false)
        took = bucket.take(1, at: at(0.5))
        #expect(took)
        #expect(bucket.tokens == 0)
        #expect(bucket.availableTokens(at: at(1.5)) == 2)
        #expect(bucket.availableTokens(at: at(3_600)) == 5, "an idle hour refills to the burst, not beyond")
        // A clock read that goes backwards adds nothing.
        #expect(bucket.availableTokens(at: at(0.1)) == 0)
        // After the idle hour, taking refills first: the burst and not one token more.
        took = bucket.take(5, at: at(3_600))
        #expect(took)
        canTake = bucket.canTake(1, at: at(3_600))
        #expect(canTake == false)
    }

    @Test("availableTokens and secondsUntilAvailable only look; canTake does not take")
    func lookingDoesNotTake() {
        var took: Bool = false
        var canTake: Bool = false
        var bucket = TokenBucket(ratePerSecond: 4, burst: 8)
        took = bucket.take(8, at: at(0))
        #expect(took)
        #expect(bucket.secondsUntilAvailable(3, at: at(0.25)) == 0.5, "1 token there, 2 more at 4/s")
        #expect(bucket.secondsUntilAvailable(1, at: at(0.25)) == 0)
        #expect(bucket.availableTokens(at: at(0.25)) == 1)
        canTake = bucket.canTake(1, at: at(0.25))
        #expect(canTake)
        canTake = bucket.canTake(1, at: at(0.25))
        #expect(canTake)
        #expect(bucket.tokens == 1, "two canTake calls took nothing")
        took = bucket.take(2, at: at(0.25))
        #expect(took == false)
    }

    @Test("charge can go into debt, which the refill pays back first")
    func debt() {
        var took: Bool = false
        var canTake: Bool = false
        var bucket = TokenBucket(ratePerSecond: 10, burst: 10)
        bucket.charge(25, at: at(0))
        #expect(bucket.tokens == -15)
        canTake = bucket.canTake(1, at: at(1.5))
        #expect(canTake == false, "−15 + 15 = 0 after 1.5 s")
        #expect(bucket.secondsUntilAvailable(1, at: at(1.5)) == 0.1)
        took = bucket.take(1, at: at(1.6))
        #expect(took)
    }

    @Test("a rate limit's buckets: per-second rate from per-minute, the burst in seconds of it, at least one")
    func rateLimitBuckets() throws {
        let (requests, tokens) = RateLimit(requestsPerMinute: 120, tokensPerMinute: 60_000, burstSeconds: 2).buckets()
        let requestBucket = try #require(requests)
        let tokenBucket = try #require(tokens)
        #expect((requestBucket.ratePerSecond, requestBucket.burst) == (2, 4))
        #expect((tokenBucket.ratePerSecond, tokenBucket.burst) == (1_000, 2_000))
        let slow = RateLimit(requestsPerMinute: 30).buckets()
        #expect(slow.requests?.burst == 1, "30 RPM over a 1 s burst is half a request: raised to one")
        #expect(slow.tokens == nil)
    }
}
