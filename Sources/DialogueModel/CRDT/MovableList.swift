/// An ordered list whose elements can be moved without duplicating them: a session's agenda.
///
/// **Merge rule** (Kleppmann, "Moving Elements in List CRDTs", PaPoC 2020): positions
/// are slots in a ``RunSequence``; each element has a last-writer-wins register naming
/// the slot it currently occupies. Inserting creates an element and its first slot;
/// moving creates a new slot at the destination and writes the element's register.
/// Two concurrent moves of one element leave it at the winner's slot (the other is a
/// visible conflict), never in two places. Removal hides the element and wins over a
/// concurrent move.
public struct MovableList<Value: Hashable & Sendable>: Sendable {
    /// One element: its value, where it stands, whether removed.
    public struct Entry: Sendable {
        public var value: Value
        public var slot: LWWRegister<Dot>
        public var removed: Bool
    }

    /// Slots in order; each slot holds the dot of the element that was placed there.
    var slots = RunSequence<Dot>()
    /// Elements by the dot of their insertion.
    public private(set) var entries: [Dot: Entry] = [:]

    public init() {}

    /// Visible elements in order with their identities.
    public var items: [(id: Dot, value: Value)] {
        slots.elementsWithDots.compactMap { slot, element in
            guard let entry = entries[element], !entry.removed, entry.slot.value == slot else { return nil }
            return (element, entry.value)
        }
    }

    /// Visible values in order.
    public var values: [Value] { items.map(\.value) }

    /// The slot sequence's canonical structure, for convergence checks.
    public var canonicalSlots: [(first: Dot, length: Int, deleted: Bool)] { slots.canonicalRuns }

    // MARK: Local edits

    /// Where a new slot goes so that it lands at visible `index` (ignoring `excluding`).
    private func slotInsertionPoint(index: Int, excluding: Dot? = nil) -> Int {
        let live = items.filter { $0.id != excluding }
        guard index > 0 else { return 0 }
        let previous = live[index - 1].id
        let order = slots.elementsWithDots
        let slotIndex = order.firstIndex { $0.element == previous && entries[previous]?.slot.value == $0.dot }!
        return slotIndex + 1
    }

    /// Inserts `value` at visible `index`; returns the insertion to replicate.
    public mutating func insert(
        _ value: Value, at index: Int, dot: Dot, timestamp: HLCTimestamp
    ) throws(SequenceError) -> SequenceInsertion<Dot> {
        let count = items.count
        guard index >= 0, index <= count else { throw .positionOutOfRange(position: index, count: count) }
        let insertion = try slots.insert([dot], at: slotInsertionPoint(index: index), replica: dot.replica, firstCounter: dot.counter)
        var register = LWWRegister<Dot>()
        register.apply(.init(value: dot, timestamp: timestamp, dot: dot), predecessors: [])
        entries[dot] = Entry(value: value, slot: register, removed: false)
        return insertion
    }

    /// Moves the element at visible `from` so that it ends at visible `to`.
    public mutating func move(
        from: Int, to: Int, dot: Dot, timestamp: HLCTimestamp
    ) throws(SequenceError) -> (element: Dot, slot: SequenceInsertion<Dot>, predecessors: [Dot]) {
        let live = items
        guard from >= 0, from < live.count else { throw .positionOutOfRange(position: from, count: live.count - 1) }
        guard to >= 0, to < live.count else { throw .positionOutOfRange(position: to, count: live.count - 1) }
        let element = live[from].id
        let slot = try slots.insert(
            [element], at: slotInsertionPoint(index: to, excluding: element), replica: dot.replica, firstCounter: dot.counter)
        let predecessors = entries[element]!.slot.standingDots
        entries[element]!.slot.apply(.init(value: dot, timestamp: timestamp, dot: dot), predecessors: predecessors)
        return (element, slot, predecessors)
    }

    /// Removes the element at visible `index`; returns its identity.
    public mutating func remove(at index: Int) throws(SequenceError) -> Dot {
        let live = items
        guard index >= 0, index < live.count else { throw .positionOutOfRange(position: index, count: live.count - 1) }
        entries[live[index].id]!.removed = true
        return live[index].id
    }

    // MARK: Remote operations

    /// Applies a remote insertion of a new element.
    public mutating func integrateInsert(_ value: Value, slot: SequenceInsertion<Dot>, timestamp: HLCTimestamp) throws(SequenceError) {
        try slots.integrate(slot)
        var register = LWWRegister<Dot>()
        register.apply(.init(value: slot.first, timestamp: timestamp, dot: slot.first), predecessors: [])
        if entries[slot.first] == nil { entries[slot.first] = Entry(value: value, slot: register, removed: false) }
    }

    /// Applies a remote move.
    public mutating func integrateMove(
        element: Dot, slot: SequenceInsertion<Dot>, predecessors: [Dot], timestamp: HLCTimestamp
    ) throws(SequenceError) {
        guard entries[element] != nil else { throw .unknownElement(element) }
        try slots.integrate(slot)
        entries[element]!.slot.apply(.init(value: slot.first, timestamp: timestamp, dot: slot.first), predecessors: predecessors)
    }

    /// Applies a remote removal.
    public mutating func integrateRemove(element: Dot) throws(SequenceError) {
        guard entries[element] != nil else { throw .unknownElement(element) }
        entries[element]!.removed = true
    }
}
