import Foundation
import Synchronization

/// How many events a key may cause: a burst of `events`, refilled evenly over `period`.
public struct RateLimit: Sendable, Equatable {
    /// Events per period; 0 turns the limit off.
    public var events: Int
    /// How long a spent burst takes to refill.
    public var period: Duration

    public init(_ events: Int, per period: Duration) {
        self.events = max(0, events)
        self.period = max(.milliseconds(1), period)
    }

    public init(perMinute: Int) {
        self.init(perMinute, per: .seconds(60))
    }

    public static let off = RateLimit(perMinute: 0)
    public var isOff: Bool { events == 0 }
}

/// Token buckets by key (an address, a token's hash): each holds up to `limit.perMinute`
/// events and refills at that rate. Thread-safe; bounded in memory (full buckets, which
/// say nothing, are dropped when there are too many).
final class RateLimiter: Sendable {
    private struct Bucket {
        var tokens: Double
        var updated: ContinuousClock.Instant
    }

    let limit: RateLimit
    private let maxKeys: Int
    private let buckets = Mutex<[String: Bucket]>([:])

    init(_ limit: RateLimit, maxKeys: Int = 100_000) {
        self.limit = limit
        self.maxKeys = maxKeys
    }

    private var capacity: Double { Double(limit.events) }
    private var perSecond: Double { Double(limit.events) / (Double(limit.period / .milliseconds(1)) / 1000) }

    /// How long until `key` may cause an event, or nil if it may now (nothing is taken).
    func wait(for key: String, now: ContinuousClock.Instant = .now) -> Duration? {
        guard !limit.isOff else { return nil }
        return buckets.withLock { buckets in
            guard let bucket = buckets[key] else { return nil }
            return delay(refilled(bucket, now).tokens)
        }
    }

    /// Records one event of `key`; returns how long to wait if it was over the limit (then
    /// nothing is taken).
    @discardableResult
    func take(_ key: String, now: ContinuousClock.Instant = .now) -> Duration? {
        guard !limit.isOff else { return nil }
        return buckets.withLock { buckets in
            var bucket = buckets[key].map { refilled($0, now) } ?? Bucket(tokens: capacity, updated: now)
            if let wait = delay(bucket.tokens) { return wait }
            bucket.tokens -= 1
            if buckets.count >= maxKeys { prune(&buckets, now) }
            buckets[key] = bucket
            return nil
        }
    }

    private func refilled(_ bucket: Bucket, _ now: ContinuousClock.Instant) -> Bucket {
        let elapsed = max(0, Double((now - bucket.updated) / .milliseconds(1)) / 1000)
        return Bucket(tokens: min(capacity, bucket.tokens + elapsed * perSecond), updated: now)
    }

    /// Nil when a whole token is there; else how long until it is.
    private func delay(_ tokens: Double) -> Duration? {
        guard tokens < 1 else { return nil }
        return .milliseconds(Int(((1 - tokens) / perSecond * 1000).rounded(.up)))
    }

    private func prune(_ buckets: inout [String: Bucket], _ now: ContinuousClock.Instant) {
        buckets = buckets.filter { refilled($0.value, now).tokens < capacity }
        if buckets.count >= maxKeys { buckets.removeAll() }  // a flood of keys: forget rather than grow
    }
}
