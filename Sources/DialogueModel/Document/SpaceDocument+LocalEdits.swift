/// Who makes a local edit and when: the author's replica and a fresh HLC timestamp.
public struct EditContext: Sendable {
    public var replica: ReplicaID
    public var timestamp: HLCTimestamp

    public init(replica: ReplicaID, timestamp: HLCTimestamp) {
        self.replica = replica
        self.timestamp = timestamp
    }
}

/// Local edits. Each applies to this document at once and returns the change(s) to
/// replicate; applying those changes elsewhere gives the same state.
extension SpaceDocument {
    /// Creates an entity of the given kind.
    public mutating func create(_ entity: EntityID, kind: String, by context: EditContext) -> Change {
        let predecessors = entityStore[entity]?.kind.standingDots ?? []
        return commit(entity, "", .create(kind: kind, predecessors: predecessors), context)
    }

    /// Deletes (hides) an entity; its content stays recoverable.
    public mutating func delete(_ entity: EntityID, by context: EditContext) -> Change {
        commit(entity, "", .delete(observed: vector), context)
    }

    /// Writes a register field.
    public mutating func set(_ field: String, of entity: EntityID, to value: FieldValue, by context: EditContext) -> Change {
        let predecessors = registers[FieldRef(entity, field)]?.standingDots ?? []
        return commit(entity, field, .set(value, predecessors: predecessors), context)
    }

    /// Writes a register field unless `value` is already its only standing value, in
    /// which case nothing changes and the result is `nil`. The context is asked for only
    /// when there is something to write (so an unchanged value takes no clock tick), and
    /// the register is looked up once: an editor calls this for every field of a form.
    public mutating func setIfChanged(
        _ field: String, of entity: EntityID, to value: FieldValue, by makeContext: () -> EditContext
    ) -> Change? {
        let ref = FieldRef(entity, field)
        let index = registers.index(forKey: ref)
        var predecessors: [Dot] = []
        if let index {
            let register = registers.values[index]
            if register.writes.count == 1, register.value == value { return nil }
            predecessors = register.standingDots
        }
        let context = makeContext()
        let dependencies = dependencies(for: context.replica)
        let dot = Dot(context.replica, nextCounter(for: context.replica))
        let write = LWWRegister<FieldValue>.Write(value: value, timestamp: context.timestamp, dot: dot)
        if let index {
            registers.values[index].apply(write, predecessors: predecessors)
        } else {
            var register = LWWRegister<FieldValue>()
            register.apply(write, predecessors: [])
            registers[ref] = register
        }
        return record(entity, field, .set(value, predecessors: predecessors), context, dot, dependencies)
    }

    /// Adds a member to a set field (no change when already present).
    public mutating func add(_ value: FieldValue, toSet field: String, of entity: EntityID, by context: EditContext) -> Change? {
        guard sets[FieldRef(entity, field)]?.contains(value) != true else { return nil }
        return commit(entity, field, .add(value), context)
    }

    /// Removes a member from a set field (no change when absent).
    public mutating func remove(_ value: FieldValue, fromSet field: String, of entity: EntityID, by context: EditContext) -> Change? {
        guard let observed = sets[FieldRef(entity, field)]?.observedTags(of: value), !observed.isEmpty else { return nil }
        return commit(entity, field, .remove(value, observed: observed), context)
    }

    /// Edits a text field: at scalar `offset`, deletes `deleteCount` scalars, then inserts `text`.
    /// Returns up to two changes (the deletion, then the insertion).
    public mutating func editText(
        _ field: String, of entity: EntityID, at offset: Int, delete deleteCount: Int = 0, insert text: String = "",
        by context: EditContext
    ) throws(ChangeError) -> [Change] {
        var changes: [Change] = []
        try editText(field, of: entity, at: offset, delete: deleteCount, insert: text, by: context, appendingTo: &changes)
        return changes
    }

    /// Edits a text field and appends the changes to `changes`: the form an editor uses to
    /// gather a burst of keystrokes into one buffer (and one storage transaction).
    public mutating func editText(
        _ field: String, of entity: EntityID, at offset: Int, delete deleteCount: Int = 0, insert text: String = "",
        by context: EditContext, appendingTo changes: inout [Change]
    ) throws(ChangeError) {
        let ref = FieldRef(entity, field)
        let existing = texts.slot(of: ref)
        let length = existing.map { texts[slot: $0].count } ?? 0
        guard offset >= 0, deleteCount >= 0, offset <= length, deleteCount <= length - offset else {
            guard offset >= 0, offset <= length else { throw .invalidPosition(.positionOutOfRange(position: offset, count: length)) }
            throw .invalidPosition(.lengthOutOfRange(position: offset, length: deleteCount, count: length))
        }
        guard deleteCount > 0 || !text.isEmpty else { return }
        var dependencies = dependencies(for: context.replica)
        noteDependenciesEmitted(for: context.replica)
        if deleteCount > 0 {
            let first = Dot(context.replica, nextCounter(for: context.replica))
            let ranges = try! texts[slot: existing!].delete(at: offset, length: deleteCount)  // bounds checked above
            let change = Change(
                id: first, timestamp: context.timestamp, space: space, entity: entity, field: field,
                dependencies: dependencies, operation: .deleteText(ranges))
            recordApplied(change)
            changes.append(change)
            dependencies = []
        }
        if !text.isEmpty {
            let first = Dot(context.replica, nextCounter(for: context.replica))
            let empty = TextSequence(order: textOrder)
            let slot = existing ?? texts.slot(of: ref, creating: empty)
            let insertion = try! texts[slot: slot].insert(  // offset checked above
                text.unicodeScalars, at: offset, replica: context.replica, firstCounter: first.counter)
            let change = Change(
                id: first, timestamp: context.timestamp, space: space, entity: entity, field: field,
                dependencies: dependencies,
                operation: .insertText(originLeft: insertion.originLeft, originRight: insertion.originRight, text: text))
            recordApplied(change)
            changes.append(change)
        }
    }

    /// Inserts a value into a list field at visible `index`.
    public mutating func insertItem(
        _ value: FieldValue, at index: Int, inList field: String, of entity: EntityID, by context: EditContext
    ) throws(ChangeError) -> Change {
        let ref = FieldRef(entity, field)
        let dependencies = dependencies(for: context.replica)
        let dot = Dot(context.replica, nextCounter(for: context.replica))
        var list = lists[ref] ?? MovableList()
        let slot: SequenceInsertion<Dot>
        do { slot = try list.insert(value, at: index, dot: dot, timestamp: context.timestamp) } catch { throw .invalidPosition(error) }
        lists[ref] = list
        return record(
            entity, field, .insertItem(originLeft: slot.originLeft, originRight: slot.originRight, value: value), context, dot, dependencies
        )
    }

    /// Moves the list element at visible `from` to visible `to`.
    public mutating func moveItem(
        from: Int, to: Int, inList field: String, of entity: EntityID, by context: EditContext
    ) throws(ChangeError) -> Change {
        let ref = FieldRef(entity, field)
        let dependencies = dependencies(for: context.replica)
        let dot = Dot(context.replica, nextCounter(for: context.replica))
        var list = lists[ref] ?? MovableList()
        let moved: (element: Dot, slot: SequenceInsertion<Dot>, predecessors: [Dot])
        do { moved = try list.move(from: from, to: to, dot: dot, timestamp: context.timestamp) } catch { throw .invalidPosition(error) }
        lists[ref] = list
        let operation = Operation.moveItem(
            element: moved.element, originLeft: moved.slot.originLeft, originRight: moved.slot.originRight, predecessors: moved.predecessors
        )
        return record(entity, field, operation, context, dot, dependencies)
    }

    /// Removes the list element at visible `index`.
    public mutating func removeItem(
        at index: Int, inList field: String, of entity: EntityID, by context: EditContext
    ) throws(ChangeError) -> Change {
        let ref = FieldRef(entity, field)
        let dependencies = dependencies(for: context.replica)
        let dot = Dot(context.replica, nextCounter(for: context.replica))
        var list = lists[ref] ?? MovableList()
        let element: Dot
        do { element = try list.remove(at: index) } catch { throw .invalidPosition(error) }
        lists[ref] = list
        return record(entity, field, .removeItem(element: element), context, dot, dependencies)
    }

    // MARK: Plumbing

    /// Applies a locally built operation through the same path as remote changes.
    mutating func commitLocal(_ entity: EntityID, _ field: String, _ operation: Operation, _ context: EditContext) -> Change {
        commit(entity, field, operation, context)
    }

    private mutating func commit(_ entity: EntityID, _ field: String, _ operation: Operation, _ context: EditContext) -> Change {
        let dependencies = dependencies(for: context.replica)
        let change = Change(
            id: Dot(context.replica, nextCounter(for: context.replica)), timestamp: context.timestamp, space: space, entity: entity,
            field: field, dependencies: dependencies, operation: operation)
        do { try applyReady(change) } catch { preconditionFailure("a local edit was refused: \(error)") }
        noteDependenciesEmitted(for: context.replica)
        return change
    }

    /// Records an operation that the caller has already applied to the state.
    private mutating func record(
        _ entity: EntityID, _ field: String, _ operation: Operation, _ context: EditContext, _ dot: Dot, _ dependencies: [Dot]
    ) -> Change {
        let change = Change(
            id: dot, timestamp: context.timestamp, space: space, entity: entity, field: field, dependencies: dependencies,
            operation: operation)
        recordApplied(change)
        noteDependenciesEmitted(for: context.replica)
        return change
    }

    /// The counter an author's next change starts at. The last recorded dot answers
    /// without hashing while one author types.
    func nextCounter(for replica: ReplicaID) -> UInt64 {
        if let last = lastRecorded, last.replica == replica { return last.counter + 1 }
        return vector[replica] + 1
    }

    /// The heads of other replicas applied since this author's last change: the
    /// dependencies that, with the author's own previous change, fix the causal past.
    func dependencies(for replica: ReplicaID) -> [Dot] {
        if let checked = dependenciesCheckedAt, checked.replica == replica, checked.generation == remoteGeneration {
            return []  // nothing has arrived from elsewhere since this author's last change
        }
        let covered = coveredByLocalAuthor[replica] ?? VersionVector()
        var dependencies: [Dot] = []
        for dot in vector.lastDots where dot.replica != replica && dot.counter > covered[dot.replica] {
            dependencies.append(dot)
        }
        return dependencies  // ascending, as the vector holds them
    }

    /// Records that a change carrying `dependencies(for:)` was emitted, so the next
    /// change by this author names only what arrives after it.
    mutating func noteDependenciesEmitted(for replica: ReplicaID) {
        if dependenciesCheckedAt?.replica != replica || dependenciesCheckedAt?.generation != remoteGeneration {
            var covered = vector
            covered[replica] = 0
            coveredByLocalAuthor[replica] = covered
        }
        dependenciesCheckedAt = (replica, remoteGeneration)
    }
}
