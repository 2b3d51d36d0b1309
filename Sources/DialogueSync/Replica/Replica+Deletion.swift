import DialogueModel

extension Replica {
    /// Deletes a session, insight, action or prompt wherever this replica holds it, in one
    /// transaction (``SpaceEditor/delete(_:kind:)``): hidden from every query, its content
    /// kept for ``restoreEntity(_:kind:)``. Returns the space that holds it.
    ///
    /// - Throws: ``ReplicaError/entityNotFound(_:)`` when no space holds it live;
    ///   ``ReplicaError/wrongKind(_:expected:found:)`` when it is of another kind.
    @discardableResult
    public func deleteEntity(_ entity: EntityID, kind: EntityKind? = nil) throws -> SpaceID {
        guard let space = try spaceHolding(entity, deleted: false) else { throw ReplicaError.entityNotFound(entity) }
        try edit(in: space) { editor in try editor.delete(entity, kind: kind) }
        return space
    }

    /// Brings back a deleted session, insight, action or prompt wherever this replica holds
    /// it (``SpaceEditor/restore(_:kind:)``). Returns the space that holds it.
    ///
    /// - Throws: ``ReplicaError/entityNotFound(_:)`` when no space holds it, or it was
    ///   erased; ``ReplicaError/wrongKind(_:expected:found:)`` when it is of another kind;
    ///   ``ReplicaError/invalidValue(_:)`` when it is not deleted.
    @discardableResult
    public func restoreEntity(_ entity: EntityID, kind: EntityKind? = nil) throws -> SpaceID {
        guard let space = try spaceHolding(entity, deleted: true) ?? spaceHolding(entity, deleted: false) else {
            throw ReplicaError.entityNotFound(entity)
        }
        try edit(in: space) { editor in try editor.restore(entity, kind: kind) }
        return space
    }

    /// The deleted sessions, insights, actions and prompts held (of `kind`, when given), not
    /// erased: what ``restoreEntity(_:kind:)`` can bring back. By space, then id. Each
    /// match's label is a session's title, a prompt's or an insight's text, or an action's
    /// description, as they were when deleted.
    public func deletedEntities(kind: EntityKind? = nil) -> [EntityMatch] {
        var found: [EntityMatch] = []
        for space in spaces {
            guard let document = document(space) else { continue }
            for entityKind in SpaceEditor.deletableKinds where kind == nil || kind == entityKind {
                for id in Self.deletedIDs(ofKind: entityKind, in: document) {
                    let label: String? =
                        switch entityKind {
                        case .insight: Insight(id, in: document)?.text
                        case .action: Action(id, in: document)?.description
                        default: Self.label(of: id, kind: entityKind, in: document)
                        }
                    found.append(EntityMatch(id: id, kind: entityKind, space: space, label: label))
                }
            }
        }
        return found
    }

    /// The first space (in id order) holding `entity` deleted (or, with `deleted` false,
    /// live), erased ones never.
    private func spaceHolding(_ entity: EntityID, deleted: Bool) throws(ReplicaError) -> SpaceID? {
        for space in spaces {
            guard let document = try loadedDocument(space), document.kind(of: entity) != nil, !document.isErased(entity) else {
                continue
            }
            if document.isDeleted(entity) == deleted { return space }
        }
        return nil
    }
}
