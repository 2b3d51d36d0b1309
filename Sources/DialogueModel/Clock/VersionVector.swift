/// What a replica holds of one space: for each origin replica, the highest counter held.
///
/// Because every replica applies each origin's changes as a gap-free prefix, the vector
/// describes the held set exactly. Merge is the pointwise maximum (a join semilattice).
public struct VersionVector: Hashable, Sendable, Codable, CustomStringConvertible {
    /// Highest counter held per replica; replicas with nothing held are absent.
    public private(set) var counters: [ReplicaID: UInt64]

    public init(_ counters: [ReplicaID: UInt64] = [:]) {
        self.counters = counters.filter { $0.value > 0 }
    }

    /// The highest counter held from `replica` (0 when nothing).
    public subscript(replica: ReplicaID) -> UInt64 {
        get { counters[replica] ?? 0 }
        set { counters[replica] = newValue > 0 ? newValue : nil }
    }

    /// Whether the dot is held.
    public func contains(_ dot: Dot) -> Bool { dot.counter <= self[dot.replica] }

    /// Raises the entry for `dot.replica` to at least `dot.counter`.
    public mutating func record(_ dot: Dot) {
        guard dot.counter > 0 else { return }  // zero means "nothing held": never stored
        Self.raise(&counters[dot.replica, default: 0], to: dot.counter)  // one hash lookup, in place
    }

    private static func raise(_ value: inout UInt64, to counter: UInt64) {
        if counter > value { value = counter }
    }

    /// Pointwise maximum.
    public mutating func merge(_ other: VersionVector) {
        for (replica, counter) in other.counters where counter > self[replica] {
            counters[replica] = counter
        }
    }

    /// Pointwise maximum.
    public func merged(_ other: VersionVector) -> VersionVector {
        var copy = self
        copy.merge(other)
        return copy
    }

    /// How two vectors relate under the happened-before partial order.
    public enum Ordering: Sendable, Equatable {
        case equal, before, after, concurrent
    }

    /// Compares the held sets: `.before` means `self` holds strictly less than `other`.
    public func compare(_ other: VersionVector) -> Ordering {
        var less = false
        var greater = false
        for replica in Set(counters.keys).union(other.counters.keys) {
            let mine = self[replica]
            let theirs = other[replica]
            if mine < theirs { less = true }
            if mine > theirs { greater = true }
        }
        switch (less, greater) {
        case (false, false): return .equal
        case (true, false): return .before
        case (false, true): return .after
        case (true, true): return .concurrent
        }
    }

    /// The dots that `other` holds and `self` lacks, as a counter range per replica,
    /// sorted by replica so that the answer is deterministic.
    public func missing(from other: VersionVector) -> [(replica: ReplicaID, counters: ClosedRange<UInt64>)] {
        other.counters.keys.sorted().compactMap { replica in
            let have = self[replica]
            let theirs = other[replica]
            return theirs > have ? (replica, (have + 1)...theirs) : nil
        }
    }

    /// Sum of all counters: the number of operations the vector covers.
    public var operationCount: UInt64 { counters.values.reduce(0, +) }

    public var description: String {
        "{" + counters.sorted { $0.key < $1.key }.map { "\($0.key):\($0.value)" }.joined(separator: ", ") + "}"
    }
}
