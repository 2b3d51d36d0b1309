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
