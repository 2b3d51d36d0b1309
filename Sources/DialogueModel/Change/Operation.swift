/// What a ``Change`` does to its field. Each operation occupies one or more
/// consecutive counters of its author (its ``counterSpan``).
public enum Operation: Hashable, Sendable {
    /// Creates the entity with the given kind (a register write on the entity's kind).
    case create(kind: String, predecessors: [Dot])
    /// Hides the entity. `observed` is what the author held of the space, so edits the
    /// author had not seen keep the entity visible and are reported as a conflict.
    case delete(observed: VersionVector)
    /// Writes a register, overwriting the writes named in `predecessors`.
    case set(FieldValue, predecessors: [Dot])
    /// Adds a set member tagged with this change's dot.
    case add(FieldValue)
    /// Removes the observed tags of a set member.
    case remove(FieldValue, observed: [Dot])
    /// Inserts text between two characters; one counter per Unicode scalar.
    case insertText(originLeft: Dot?, originRight: Dot?, text: String)
    /// Deletes the named characters; one counter per character deleted.
    case deleteText([DotRange])
    /// Inserts a new list element (and its first slot) between two slots.
    case insertItem(originLeft: Dot?, originRight: Dot?, value: FieldValue)
    /// Moves a list element to a new slot between two slots.
    case moveItem(element: Dot, originLeft: Dot?, originRight: Dot?, predecessors: [Dot])
    /// Removes a list element.
    case removeItem(element: Dot)
    /// Erases content written in the space (see ``Erasure``): written on the erased entity
    /// (or the nil entity for a member's contributions) with the empty field name.
    case erase(Erasure)

    /// How many counters the operation occupies.
    public var counterSpan: UInt64 {
        switch self {
        case .insertText(_, _, let text): UInt64(text.unicodeScalars.count)
        case .deleteText(let ranges):
            // Saturating, so that a hostile length cannot trap; such a change is refused as malformed.
            ranges.reduce(0) { total, range in
                let (sum, overflow) = total.addingReportingOverflow(range.length)
                return overflow ? .max : sum
            }
        default: 1
        }
    }

    /// The kind of field state the operation acts on.
    public var fieldType: FieldType {
        switch self {
        case .create, .delete, .erase: .lifecycle
        case .set: .register
        case .add, .remove: .set
        case .insertText, .deleteText: .text
        case .insertItem, .moveItem, .removeItem: .list
        }
    }
}

/// The CRDT behind a field.
public enum FieldType: String, Hashable, Sendable, Codable, CaseIterable, Comparable {
    /// The entity's kind and deletion state.
    case lifecycle
    /// Last-writer-wins register (``LWWRegister``).
    case register
    /// Add-wins observed-remove set (``ORSet``).
    case set
    /// Collaborative text (``TextSequence``).
    case text
    /// Ordered list with moves (``MovableList``).
    case list

    public static func < (lhs: FieldType, rhs: FieldType) -> Bool { lhs.rawValue < rhs.rawValue }
}
