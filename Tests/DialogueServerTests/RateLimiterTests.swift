import Testing

@testable import DialogueServer

/// The token bucket itself, on an explicit clock: the door tests above it use hour-long
/// periods so that a slow machine cannot refill a bucket mid-test.
@Suite("Rate limiter")
struct RateLimiterTests {
    @Test("a burst of `events`, then a wait of period/events per event; keys are independent")
    func burstThenEvenRefill() throws {
        let limiter = RateLimiter(RateLimit(4, per: .seconds(60)))
        let start = ContinuousClock.now
        for _ in 0..<4 { #expect(limiter.take("a", now: start) == nil) }
        #expect(limiter.take("a", now: start) == .milliseconds(15_000))
        let wait = try #require(limiter.wait(for: "a", now: start + .seconds(10)))
        #expect(wait >= .milliseconds(5_000) && wait <= .milliseconds(5_002), "rounded up to the millisecond: \(wait)")
        #expect(limiter.take("b", now: start) == nil, "another key has its own bucket")
        #expect(limiter.take("a", now: start + .seconds(15)) == nil, "one event refilled")
        #expect(limiter.take("a", now: start + .seconds(15)) != nil)
        // A long pause refills to the burst, never beyond it.
        for _ in 0..<4 { #expect(limiter.take("a", now: start + .seconds(3600)) == nil) }
        #expect(limiter.take("a", now: start + .seconds(3600)) != nil)
    }

    @Test("a limit of 0 is off; perMinute is events per 60 s")
    func offAndPerMinute() {
        #expect(RateLimit(perMinute: 0).isOff)
        #expect(RateLimit(perMinute: 30) == RateLimit(30, per: .seconds(60)))
        let off = RateLimiter(.off)
        for _ in 0..<1000 { #expect(off.take("a") == nil) }
    }
}
