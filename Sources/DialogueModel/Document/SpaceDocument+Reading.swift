/// Reading fields. Typed views (``DialogueSession`` and the other domain entities) are built on these.
extension SpaceDocument {
    /// The register of a field (winner and the values that lost), if ever written.
    public func register(_ field: String, of entity: EntityID) -> LWWRegister<FieldValue>? {
        registers[FieldRef(entity, field)]
    }

    /// The winning value of a register field.
    public func value(_ field: String, of entity: EntityID) -> FieldValue? {
        registers[FieldRef(entity, field)]?.value
    }

    /// The members of a set field, in the canonical order (erased members, `null`, left out).
    public func members(_ field: String, of entity: EntityID) -> [FieldValue] {
        (sets[FieldRef(entity, field)]?.elements).map { $0.filter { $0 != .null }.sorted() } ?? []
    }

    /// The text of a text field ("" when never written).
    public func text(_ field: String, of entity: EntityID) -> String {
        texts[FieldRef(entity, field)]?.text ?? ""
    }

    /// The text sequence of a text field, for offset-level access.
    public func textSequence(_ field: String, of entity: EntityID) -> TextSequence? {
        texts[FieldRef(entity, field)]
    }

    /// The visible items of a list field, in order, with their identities (erased items,
    /// `null`, left out).
    public func items(_ field: String, of entity: EntityID) -> [(id: Dot, value: FieldValue)] {
        lists[FieldRef(entity, field)]?.items.filter { $0.value != .null } ?? []
    }

    /// The kind of an entity, if its creation has arrived.
    public func kind(of entity: EntityID) -> String? {
        entityStore[entity]?.kind.value
    }

    /// The kind of a live (created, not deleted) entity, or `nil`: ``kind(of:)`` and
    /// ``isDeleted(_:)`` in one lookup.
    public func liveKind(of entity: EntityID) -> String? {
        guard let stored = entityStore[entity], let kind = stored.kind.value, !isErased(entity) else { return nil }
        guard !stored.deletions.isEmpty else { return kind }
        return lifecycle(of: entity)?.isDeleted == true ? nil : kind
    }

    /// Whether anyone has deleted the entity (hidden or, when an edit overruled every
    /// deletion, shown with the deletions as conflicts). One lookup, nothing assembled.
    public func hasDeletions(_ entity: EntityID) -> Bool {
        entityStore[entity]?.deletions.isEmpty == false
    }

    /// Whether the entity is hidden by a deletion that saw all its edits, or erased.
    public func isDeleted(_ entity: EntityID) -> Bool {
        if isErased(entity) { return true }
        // Most entities were never deleted: answer without assembling the lifecycle.
        guard entityStore[entity]?.deletions.isEmpty == false else { return false }
        return lifecycle(of: entity)?.isDeleted ?? false
    }

    /// Identifiers of the live (created, not deleted) entities of a kind, sorted.
    public func entityIDs(ofKind kind: String) -> [EntityID] {
        entityStore.keys.filter { id in
            entityStore[id]?.kind.value == kind && !isDeleted(id)
        }.sorted()
    }

    /// Every register field whose concurrent writes left losers: what a person may want to review.
    public var registerConflicts: [(field: FieldRef, register: LWWRegister<FieldValue>)] {
        registers.filter { $0.value.writes.count > 1 }.map { ($0.key, $0.value) }.sorted { $0.field < $1.field }
    }
}
