/// A last-writer-wins register that remembers the values that lost.
///
/// **Merge rule**: a multi-value register (Shapiro et al., "A comprehensive study of
/// Convergent and Commutative Replicated Data Types", INRIA RR-7506, 2011, §3.2.2)
/// read as last-writer-wins. Each write names the writes it overwrote (`predecessors`:
/// what its author saw), as Automerge's `pred` does. Applying a write removes its
/// predecessors and keeps every other write, so writes made concurrently all survive;
/// the winner is the greatest by (HLC timestamp, replica), and the others are the
/// values that *lost a concurrent write*, kept until someone writes again having seen
/// them. Removal is by dot and insertion is by dot, so application order does not matter
/// under causal delivery.
public struct LWWRegister<Value: Hashable & Sendable>: Hashable, Sendable {
    /// One write still standing.
    public struct Write: Hashable, Sendable {
        public var value: Value
        public var timestamp: HLCTimestamp
        public var dot: Dot

        public init(value: Value, timestamp: HLCTimestamp, dot: Dot) {
            self.value = value
            self.timestamp = timestamp
            self.dot = dot
        }

        /// Last-writer-wins order: timestamp, then replica, then counter.
        func beats(_ other: Write) -> Bool {
            (timestamp, dot.replica, dot.counter) > (other.timestamp, other.dot.replica, other.dot.counter)
        }
    }

    /// Standing writes, the winner first, then the losers in the same order.
    public private(set) var writes: [Write] = []

    public init() {}

    /// The winning write.
    public var winner: Write? { writes.first }

    /// The winning value.
    public var value: Value? { writes.first?.value }

    /// Writes that lost to the winner but were never overwritten by someone who saw them.
    public var losers: ArraySlice<Write> { writes.dropFirst() }

    /// The dots a new local write overwrites: everything standing.
    public var standingDots: [Dot] { writes.map(\.dot) }

    /// Applies a write and removes the writes it overwrote.
    public mutating func apply(_ write: Write, predecessors: [Dot]) {
        if predecessors.count == writes.count, predecessors.count == 1, writes[0].dot == predecessors[0], write.dot != predecessors[0] {
            // The usual write: it saw the one standing write and replaces it.
            writes[0] = write
            return
        }
        if !predecessors.isEmpty {
            writes.removeAll { predecessors.contains($0.dot) }
        }
        guard !writes.contains(where: { $0.dot == write.dot }) else { return }
        let index = writes.firstIndex { write.beats($0) } ?? writes.endIndex
        writes.insert(write, at: index)
    }
}
