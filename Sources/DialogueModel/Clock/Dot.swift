/// One replicated operation's identity: the replica that made it and its counter.
///
/// A replica numbers its operations per space 1, 2, 3… without gaps, so a dot is
/// unique for ever within its space, and what a replica holds of each origin is a
/// prefix that a ``VersionVector`` summarises. Text characters are dots too: a change
/// that inserts *n* characters occupies *n* consecutive counters.
public struct Dot: Hashable, Comparable, Sendable, Codable, CustomStringConvertible {
    public var replica: ReplicaID
    public var counter: UInt64

    public init(_ replica: ReplicaID, _ counter: UInt64) {
        self.replica = replica
        self.counter = counter
    }

    /// `replica@counter`, e.g. `00000000000000a1@42`.
    public var description: String { "\(replica)@\(counter)" }

    /// Orders by replica, then counter: a total order used for canonical output only.
    public static func < (lhs: Dot, rhs: Dot) -> Bool {
        (lhs.replica, lhs.counter) < (rhs.replica, rhs.counter)
    }
}
