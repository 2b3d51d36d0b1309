#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A hybrid logical clock timestamp (Kulkarni et al., "Logical Physical Clocks", 2014):
/// physical milliseconds since the Unix epoch plus a logical counter that orders events
/// within one millisecond, or while the wall clock lags behind a timestamp already seen.
public struct HLCTimestamp: Hashable, Comparable, Sendable, Codable, CustomStringConvertible {
    /// Milliseconds since 1970-01-01T00:00:00Z.
    public var wallTime: UInt64
    /// Orders events that share a `wallTime`.
    public var logical: UInt16

    public init(wallTime: UInt64, logical: UInt16 = 0) {
        self.wallTime = wallTime
        self.logical = logical
    }

    /// The smallest timestamp.
    public static let zero = HLCTimestamp(wallTime: 0, logical: 0)

    public static func < (lhs: HLCTimestamp, rhs: HLCTimestamp) -> Bool {
        (lhs.wallTime, lhs.logical) < (rhs.wallTime, rhs.logical)
    }

    public var description: String { "\(wallTime).\(logical)" }
}

/// A source of physical time, injected so that clock behaviour is testable.
public protocol WallClock: Sendable {
    /// Milliseconds since the Unix epoch.
    func millisecondsSinceEpoch() -> UInt64
}

/// Errors from ``HybridLogicalClock``.
public enum ClockError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A remote timestamp was further ahead of our wall clock than the allowed drift.
    case remoteTooFarAhead(remote: HLCTimestamp, localWallTime: UInt64, maxDriftMilliseconds: UInt64)

    public var description: String {
        switch self {
        case .remoteTooFarAhead(let remote, let local, let drift):
            "remote timestamp \(remote) is \(remote.wallTime - local) ms ahead of this device's clock (at most \(drift) ms allowed); check the sending device's date and time"
        }
    }
}

/// A hybrid logical clock over an injected ``WallClock``.
///
/// Rules:
/// - **Monotonic**: every timestamp issued is greater than every timestamp issued or
///   received before, even when the wall clock goes backwards (the logical part grows).
/// - **Bounded logical counter**: when the logical part would pass `UInt16.max`, the
///   clock borrows one millisecond from the future (`wallTime + 1`, logical 0) rather
///   than wrap; it stays within a millisecond per 65,536 events of real time.
/// - **Far-future remote timestamps**: a remote timestamp more than
///   `maxDriftMilliseconds` ahead of our wall clock is *not adopted*: ``receive(_:)``
///   throws ``ClockError/remoteTooFarAhead(remote:localWallTime:maxDriftMilliseconds:)``
///   and leaves the clock unchanged, so one device with a wrong date cannot drag every
///   partner's clock (and every last-writer-wins decision) into the future. Sync layers
///   reject such changes by name.
public struct HybridLogicalClock<Wall: WallClock>: Sendable {
    public let wall: Wall
    /// The largest drift ahead of our wall clock that a remote timestamp may have.
    public let maxDriftMilliseconds: UInt64
    /// The last timestamp issued or received.
    public private(set) var last: HLCTimestamp

    /// Default drift bound: five minutes, generous for phones with unsynchronised clocks.
    public static var defaultMaxDriftMilliseconds: UInt64 { 5 * 60 * 1000 }

    public init(wall: Wall, last: HLCTimestamp = .zero, maxDriftMilliseconds: UInt64 = defaultMaxDriftMilliseconds) {
        self.wall = wall
        self.last = last
        self.maxDriftMilliseconds = maxDriftMilliseconds
    }

    /// A timestamp for a local event, greater than any seen before.
    public mutating func now() -> HLCTimestamp {
        now(physical: wall.millisecondsSinceEpoch())
    }

    /// The same, with the wall clock already read: a burst of local events (one
    /// transaction's edits) reads it once and the logical counter orders them.
    public mutating func now(physical: UInt64) -> HLCTimestamp {
        last = Self.timestamp(after: last, physical: physical)
        return last
    }

    /// The timestamp ``now(physical:)`` issues after `last`: for a caller that issues a
    /// burst without holding the clock (which ``advance(to:)`` then catches up).
    public static func timestamp(after last: HLCTimestamp, physical: UInt64) -> HLCTimestamp {
        physical > last.wallTime ? HLCTimestamp(wallTime: physical, logical: 0) : successor(of: last)
    }

    /// Takes note of a timestamp issued with ``timestamp(after:physical:)``; never moves back.
    public mutating func advance(to issued: HLCTimestamp) {
        if issued > last { last = issued }
    }

    /// Folds a remote timestamp into the clock (the HLC receive rule) and returns a
    /// timestamp greater than both it and everything seen before.
    public mutating func receive(_ remote: HLCTimestamp) throws(ClockError) -> HLCTimestamp {
        let physical = wall.millisecondsSinceEpoch()
        if remote.wallTime > physical, remote.wallTime - physical > maxDriftMilliseconds {
            throw .remoteTooFarAhead(remote: remote, localWallTime: physical, maxDriftMilliseconds: maxDriftMilliseconds)
        }
        let highest = max(last, remote)
        if physical > highest.wallTime {
            last = HLCTimestamp(wallTime: physical, logical: 0)
        } else {
            last = Self.successor(of: highest)
        }
        return last
    }

    /// The latest wall time ``accepts(_:)`` takes right now: check a batch against one
    /// reading of the clock instead of reading it per change.
    public func acceptanceHorizon() -> UInt64 {
        let (sum, overflow) = wall.millisecondsSinceEpoch().addingReportingOverflow(maxDriftMilliseconds)
        return overflow ? .max : sum
    }

    /// Whether a remote timestamp is acceptable under the drift rule, without changing the clock.
    public func accepts(_ remote: HLCTimestamp) -> Bool {
        let physical = wall.millisecondsSinceEpoch()
        return remote.wallTime <= physical || remote.wallTime - physical <= maxDriftMilliseconds
    }

    private static func successor(of timestamp: HLCTimestamp) -> HLCTimestamp {
        if timestamp.logical == UInt16.max {
            return HLCTimestamp(wallTime: timestamp.wallTime + 1, logical: 0)
        }
        return HLCTimestamp(wallTime: timestamp.wallTime, logical: timestamp.logical + 1)
    }
}

/// The operating system's clock.
public struct SystemWallClock: WallClock {
    public init() {}

    public func millisecondsSinceEpoch() -> UInt64 {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return UInt64(spec.tv_sec) * 1000 + UInt64(spec.tv_nsec) / 1_000_000
    }
}
