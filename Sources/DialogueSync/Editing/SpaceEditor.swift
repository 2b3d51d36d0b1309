import DialogueModel

/// The typed local operations on one space, gathered into one transaction.
///
/// Obtain one from ``Replica/edit(in:_:)``; every operation applies to the pure state at
/// once (so later operations in the same closure see earlier ones) and records its
/// changes; the replica stores them, with the materialised state, in one SQLite
/// transaction when the closure returns. An editor that types into a note calls
/// ``editText(_:of:at:delete:insert:)`` for each keystroke inside one `edit` call.
public struct SpaceEditor {
    /// The space being edited.
    public let space: SpaceID
    /// The state so far, including this editor's operations.
    public internal(set) var document: SpaceDocument
    /// The changes made so far.
    public internal(set) var changes: [Change] = []
    var clock: HybridLogicalClock<AnyWallClock>
    let replica: ReplicaID
    /// The entity most recently found live, and its kind: a form or a note edits one entity
    /// many times in a row. Only this editor changes the document while it lives, and only
    /// ``delete(_:)`` can end an entity, so that is the one place that forgets it.
    var lastLive: (id: EntityID, kind: EntityKind)?
    let makeEntityID: @Sendable () -> EntityID
    /// The member certified for this device (``Replica/deviceCertificate()``), `nil` before
    /// the first login: the only member its edits may name as their author.
    let certifiedMember: EntityID?
    /// The wall clock as first read by this editor: its edits form one transaction, so
    /// one reading serves them all and the clock's logical counter orders them.
    var wallTime: UInt64?

    mutating func context() -> EditContext {
        EditContext(replica: replica, timestamp: clock.now(physical: physicalTime()))
    }

    mutating func physicalTime() -> UInt64 {
        if let wallTime { return wallTime }
        let now = clock.wall.millisecondsSinceEpoch()
        wallTime = now
        return now
    }

    // MARK: Checks

    /// The live entity's kind, or an error naming what is wrong.
    mutating func requireEntity(_ id: EntityID, _ expected: EntityKind? = nil) throws(ReplicaError) -> EntityKind {
        if let last = lastLive, last.id == id, expected == nil || expected == last.kind { return last.kind }
        guard let found = document.liveKind(of: id) else { throw .entityNotFound(id) }
        guard let kind = EntityKind(rawValue: found) else { throw .wrongKind(id, expected: expected, found: found) }
        if let expected, kind != expected { throw .wrongKind(id, expected: expected, found: found) }
        lastLive = (id, kind)
        return kind
    }

    /// Checks that the kind has the field with that CRDT type; returns the field's descriptor.
    @discardableResult
    func requireField(_ field: String, of kind: EntityKind, type: FieldType) throws(ReplicaError) -> FieldDescriptor {
        guard let descriptor = kind.field(named: field) else {
            throw .invalidField(
                kind: kind, field: field, reason: "no such field (fields: \(kind.fields.map(\.name).joined(separator: ", ")))")
        }
        guard descriptor.type == type else {
            throw .invalidField(kind: kind, field: field, reason: "is a \(descriptor.type.rawValue) field, not a \(type.rawValue) field")
        }
        return descriptor
    }

    /// Refuses a value that the field's rule refuses: the same rule every replica and the
    /// server apply when the change arrives (``SpaceDocument/valueProblem(of:)``).
    static func validate(_ value: FieldValue, for descriptor: FieldDescriptor, of kind: EntityKind) throws(ReplicaError) {
        if let problem = descriptor.rule.problem(with: value) { throw .invalidValue(descriptor.message(problem, kind: kind)) }
    }

    /// The same for a field named by its key, before the entity exists.
    static func validate<View, Value>(_ value: Value, for key: FieldKey<View, Value>) throws(ReplicaError) {
        try validate(value.fieldValue, for: key.descriptor, of: View.entityKind)
    }

    // MARK: Generic operations

    /// Creates an entity of `kind` and returns its identifier.
    @discardableResult
    public mutating func create(_ kind: EntityKind, id: EntityID? = nil) throws(ReplicaError) -> EntityID {
        let id = id ?? makeEntityID()
        if document.kind(of: id) != nil, !document.isDeleted(id) {
            throw .invalidValue("entity \(id) already exists")
        }
        let context = context()
        changes.append(document.create(id, kind: kind.rawValue, by: context))
        return id
    }

    /// Sets a register field (title, status, owner…) after checking it against the schema.
    public mutating func set(_ field: String, of entity: EntityID, to value: FieldValue) throws(ReplicaError) {
        let kind = try requireEntity(entity)
        let descriptor = try requireField(field, of: kind, type: .register)
        try Self.validate(value, for: descriptor, of: kind)
        if kind == .insight, field == Insight.Field.author { try requireCertified(author: value) }
        // The closure cannot reach `self.clock` while the document changes (one access to
        // `self` at a time), and copying the clock costs a retain: it gets the last timestamp.
        let physical = physicalTime()
        var last = clock.last
        let replica = self.replica
        // Nothing is written when the value is already the sole value: it would only add a change.
        let change = document.setIfChanged(field, of: entity, to: value) {
            last = HybridLogicalClock<AnyWallClock>.timestamp(after: last, physical: physical)
            return EditContext(replica: replica, timestamp: last)
        }
        if let change {
            clock.advance(to: last)
            changes.append(change)
        }
    }

    /// Sets a register field through its typed key (`nil` clears it), after checking that
    /// the entity is of the key's kind and the value is one the field's rule accepts.
    ///
    /// ```swift
    /// try editor.set(DialogueSession.Key.scheduledAt, of: session, to: Date())
    /// ```
    public mutating func set<View, Value>(_ key: FieldKey<View, Value>, of entity: EntityID, to value: Value?) throws(ReplicaError) {
        _ = try requireEntity(entity, View.entityKind)
        try set(key.name, of: entity, to: value?.fieldValue ?? .null)
    }

    /// Adds a member to a set field (participants, hallmarks…).
    public mutating func add(_ value: FieldValue, to field: String, of entity: EntityID) throws(ReplicaError) {
        let kind = try requireEntity(entity)
        let descriptor = try requireField(field, of: kind, type: .set)
        try Self.validate(value, for: descriptor, of: kind)
        let context = context()
        if let change = document.add(value, toSet: field, of: entity, by: context) { changes.append(change) }
    }

    /// Removes a member from a set field (nothing happens when it is absent).
    public mutating func remove(_ value: FieldValue, from field: String, of entity: EntityID) throws(ReplicaError) {
        let kind = try requireEntity(entity)
        try requireField(field, of: kind, type: .set)
        let context = context()
        if let change = document.remove(value, fromSet: field, of: entity, by: context) { changes.append(change) }
    }

    /// Edits a text field: at scalar `offset`, deletes `deleteCount` scalars, then inserts `text`.
    public mutating func editText(
        _ field: String, of entity: EntityID, at offset: Int, delete deleteCount: Int = 0, insert text: String = ""
    ) throws(ReplicaError) {
        let kind = try requireEntity(entity)
        try requireField(field, of: kind, type: .text)
        let context = context()
        do {
            try document.editText(field, of: entity, at: offset, delete: deleteCount, insert: text, by: context, appendingTo: &changes)
        } catch {
            throw .invalidPosition("\(error)")
        }
    }

    /// Replaces the whole text of a text field with a minimal edit (common prefix and
    /// suffix kept), so that concurrent edits elsewhere in the text merge.
    public mutating func replaceText(_ field: String, of entity: EntityID, with newText: String) throws(ReplicaError) {
        let old = Array(document.text(field, of: entity).unicodeScalars)
        let new = Array(newText.unicodeScalars)
        var prefix = 0
        while prefix < old.count, prefix < new.count, old[prefix] == new[prefix] { prefix += 1 }
        var suffix = 0
        while suffix < old.count - prefix, suffix < new.count - prefix, old[old.count - 1 - suffix] == new[new.count - 1 - suffix] {
            suffix += 1
        }
        var inserted = String.UnicodeScalarView()
        inserted.append(contentsOf: new[prefix..<(new.count - suffix)])
        try editText(field, of: entity, at: prefix, delete: old.count - prefix - suffix, insert: String(inserted))
    }

    /// Deletes (hides) an entity; its content stays recoverable.
    public mutating func delete(_ entity: EntityID) throws(ReplicaError) {
        _ = try requireEntity(entity)
        lastLive = nil
        let context = context()
        changes.append(document.delete(entity, by: context))
    }

    // MARK: Lists

    /// Inserts a value into a list field at `index` (the end when `nil`).
    public mutating func insertItem(_ value: FieldValue, into field: String, of entity: EntityID, at index: Int? = nil) throws(ReplicaError)
    {
        let kind = try requireEntity(entity)
        let descriptor = try requireField(field, of: kind, type: .list)
        try Self.validate(value, for: descriptor, of: kind)
        let position = index ?? document.items(field, of: entity).count
        let context = context()
        do {
            changes.append(try document.insertItem(value, at: position, inList: field, of: entity, by: context))
        } catch {
            throw .invalidPosition("\(error)")
        }
    }

    /// Moves the list element at `from` to `to`.
    public mutating func moveItem(in field: String, of entity: EntityID, from: Int, to: Int) throws(ReplicaError) {
        let kind = try requireEntity(entity)
        try requireField(field, of: kind, type: .list)
        let context = context()
        do {
            changes.append(try document.moveItem(from: from, to: to, inList: field, of: entity, by: context))
        } catch {
            throw .invalidPosition("\(error)")
        }
    }

    /// Removes the list element at `index`.
    public mutating func removeItem(from field: String, of entity: EntityID, at index: Int) throws(ReplicaError) {
        let kind = try requireEntity(entity)
        try requireField(field, of: kind, type: .list)
        let context = context()
        do {
            changes.append(try document.removeItem(at: index, inList: field, of: entity, by: context))
        } catch {
            throw .invalidPosition("\(error)")
        }
    }
}

extension SpaceEditor {
    /// Authorship is derived, not claimed: a field naming the writer may name only the
    /// member certified for this device.
    func requireCertified(author value: FieldValue) throws(ReplicaError) {
        guard case .reference(let claimed) = value else { return }  // validated as a reference already
        guard claimed == certifiedMember else { throw .authorNotCertified(claimed: claimed, certified: certifiedMember) }
    }
}

extension SpaceEditor {
    /// Writes an erasure (``Replica/forget(_:in:approval:)`` decides whether this device
    /// may, and rewrites the storage once it is written).
    mutating func erase(_ erasure: Erasure) -> Change {
        lastLive = nil
        let context = context()
        let change = document.erase(erasure, by: context)
        changes.append(change)
        return change
    }
}
