/// Field states of one CRDT type, by field, with a one-entry cache: an editor types
/// into the same field thousands of times in a row, and comparing the last key is
/// cheaper than hashing an entity ID and a field name on every keystroke.
package struct FieldStore<Value: Sendable>: Sendable {
    private var slots: [FieldRef: Int] = [:]
    private(set) var values: [Value] = []
    private(set) var refs: [FieldRef] = []
    private var lastRef: FieldRef?
    private var lastSlot = 0

    package init() {}

    /// The slot of `ref`, if the field exists.
    mutating func slot(of ref: FieldRef) -> Int? {
        if ref == lastRef { return lastSlot }
        guard let slot = slots[ref] else { return nil }
        lastRef = ref
        lastSlot = slot
        return slot
    }

    /// The slot of `ref`, creating the field with `initial` when absent.
    mutating func slot(of ref: FieldRef, creating initial: @autoclosure () -> Value) -> Int {
        if let slot = slot(of: ref) { return slot }
        values.append(initial())
        refs.append(ref)
        slots[ref] = values.count - 1
        lastRef = ref
        lastSlot = values.count - 1
        return values.count - 1
    }

    /// Read access without touching the cache.
    subscript(ref: FieldRef) -> Value? {
        slots[ref].map { values[$0] }
    }

    /// Mutable access to an existing field's state.
    subscript(slot slot: Int) -> Value {
        get { values[slot] }
        _modify { yield &values[slot] }
    }

    /// Every field with its state.
    var all: Zip2Sequence<[FieldRef], [Value]> { zip(refs, values) }
}
