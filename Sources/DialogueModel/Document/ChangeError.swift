/// Why a change was refused. A refused change alters nothing.
public enum ChangeError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The change belongs to another space.
    case wrongSpace(expected: SpaceID, found: SpaceID)
    /// The change is malformed (zero counter, empty operation, self-dependency…).
    case malformed(Dot, reason: String)
    /// The change refers to elements that its causal past does not contain.
    case invalidReference(Dot, SequenceError)
    /// A local edit addressed a position that does not exist.
    case invalidPosition(SequenceError)
    /// The change names (as a predecessor, an observed dot or in its observed vector) a dot
    /// its author could not have seen: outside its causal past, where `seen` is the highest
    /// counter of that dot's replica the causal past holds.
    case impossibleHistory(Dot, named: Dot, seen: UInt64)
    /// The change breaks its field's ``FieldDescriptor``: a value its rule refuses, or an
    /// operation of another CRDT than the field's (``SpaceDocument/valueProblem(of:)``).
    case invalidValue(Dot, reason: String)

    public var description: String {
        switch self {
        case .wrongSpace(let expected, let found): "change belongs to space \(found), not \(expected)"
        case .malformed(let dot, let reason): "change \(dot) is malformed: \(reason)"
        case .invalidReference(let dot, let error): "change \(dot) \(error)"
        case .invalidPosition(let error): "edit refused: \(error)"
        case .impossibleHistory(let dot, let named, let seen):
            "change \(dot) names \(named), which its author could not have seen (its causal past holds \(named.replica) up to \(seen)): impossible history"
        case .invalidValue(let dot, let reason): "change \(dot) has an invalid value: \(reason)"
        }
    }
}

/// What applying a change did.
public enum ApplyOutcome: Equatable, Sendable {
    /// The change (or the part of it not yet held) was applied.
    case applied
    /// Everything in the change was already held.
    case alreadyHeld
    /// The change waits for its causal past.
    case buffered
}
