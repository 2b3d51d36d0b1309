/// What a replica holds of one space: for each origin replica, the highest counter held.
///
/// Because every replica applies each origin's changes as a gap-free prefix, the vector
/// describes the held set exactly. Merge is the pointwise maximum (a join semilattice).
public struct VersionVector: Hashable, Sendable, Codable, CustomStringConvertible {
    /// Each replica's newest dot, ascending by replica; replicas with nothing held are
    /// absent. A short sorted array, not a dictionary: a space has a handful of authors,
    /// and the merge asks the vector once or twice per change, where hashing a replica
    /// cost more than scanning a few entries.
    public private(set) var lastDots: [Dot]

    public init(_ counters: [ReplicaID: UInt64] = [:]) {
        lastDots = counters.compactMap { $0.value > 0 ? Dot($0.key, $0.value) : nil }.sorted()
    }

    /// A vector from dots already ascending by replica, one per replica, counters above zero.
    init(sortedDots: [Dot]) {
        lastDots = sortedDots
    }

    /// Highest counter held per replica (built on demand: prefer ``lastDots`` or the subscript).
    public var counters: [ReplicaID: UInt64] {
        Dictionary(uniqueKeysWithValues: lastDots.map { ($0.replica, $0.counter) })
    }

    /// Where `replica` is or would go in `lastDots`, and whether it is there.
    @inline(__always)
    private func slot(of replica: ReplicaID) -> (index: Int, found: Bool) {
        var low = 0
        var high = lastDots.count
        while low < high {
            let middle = (low + high) >> 1
            let value = lastDots[middle].replica.rawValue
            if value == replica.rawValue { return (middle, true) }
            if value < replica.rawValue { low = middle + 1 } else { high = middle }
        }
        return (low, false)
    }

    /// The highest counter held from `replica` (0 when nothing).
    public subscript(replica: ReplicaID) -> UInt64 {
        get {
            let (index, found) = slot(of: replica)
            return found ? lastDots[index].counter : 0
        }
        set {
            let (index, found) = slot(of: replica)
            switch (found, newValue > 0) {
            case (true, true): lastDots[index].counter = newValue
            case (true, false): lastDots.remove(at: index)
            case (false, true): lastDots.insert(Dot(replica, newValue), at: index)
            case (false, false): break
            }
        }
    }

    /// Whether the dot is held.
    public func contains(_ dot: Dot) -> Bool { dot.counter <= self[dot.replica] }

    /// Raises the entry for `dot.replica` to at least `dot.counter`.
    public mutating func record(_ dot: Dot) {
        guard dot.counter > 0 else { return }  // zero means "nothing held": never stored
        let (index, found) = slot(of: dot.replica)
        if !found {
            lastDots.insert(dot, at: index)
        } else if dot.counter > lastDots[index].counter {
            lastDots[index].counter = dot.counter
        }
    }

    /// Pointwise maximum.
    public mutating func merge(_ other: VersionVector) {
        for dot in other.lastDots { record(dot) }
    }

    /// Pointwise maximum.
    public func merged(_ other: VersionVector) -> VersionVector {
        var copy = self
        copy.merge(other)
        return copy
    }

    // The same form as before the array: `{"counters": {...}}` as a dictionary encodes it.
    private enum CodingKeys: String, CodingKey { case counters }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(try container.decode([ReplicaID: UInt64].self, forKey: .counters))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(counters, forKey: .counters)
    }

    /// How two vectors relate under the happened-before partial order.
    public enum Ordering: Sendable, Equatable {
        case equal, before, after, concurrent
    }

    /// Compares the held sets: `.before` means `self` holds strictly less than `other`.
    public func compare(_ other: VersionVector) -> Ordering {
        var less = false
        var greater = false
        for replica in Set(lastDots.map(\.replica)).union(other.lastDots.map(\.replica)) {
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
        other.lastDots.compactMap { theirs in
            let have = self[theirs.replica]
            return theirs.counter > have ? (theirs.replica, (have + 1)...theirs.counter) : nil
        }
    }

    /// Sum of all counters: the number of operations the vector covers (saturating: a
    /// vector received from a peer may hold any counters).
    public var operationCount: UInt64 {
        lastDots.reduce(0) { total, dot in
            let (sum, overflow) = total.addingReportingOverflow(dot.counter)
            return overflow ? .max : sum
        }
    }

    public var description: String {
        "{" + lastDots.map { "\($0.replica):\($0.counter)" }.joined(separator: ", ") + "}"
    }
}
