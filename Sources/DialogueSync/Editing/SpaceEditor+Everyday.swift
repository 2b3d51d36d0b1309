import DialogueModel

/// Everyday editing: deleting and restoring, archiving sessions, an action's life and
/// details, appending to collaborative text.
extension SpaceEditor {
    /// The kinds a person deletes and restores as part of their work (members, schools and
    /// the space's own records are managed otherwise).
    public static let deletableKinds: [EntityKind] = [.session, .insight, .action, .prompt]

    /// Deletes (hides) a session, insight, action or prompt; its content stays recoverable
    /// (``restore(_:kind:)``). Deleting a session hides what was captured in it as well.
    ///
    /// - Throws: ``ReplicaError/entityNotFound(_:)`` when no live entity has this id;
    ///   ``ReplicaError/wrongKind(_:expected:found:)`` when it is not of `kind` (when given)
    ///   or not one of ``deletableKinds``.
    public mutating func delete(_ entity: EntityID, kind: EntityKind?) throws(ReplicaError) {
        let found = try requireEntity(entity, kind)
        guard Self.deletableKinds.contains(found) else { throw .wrongKind(entity, expected: kind, found: found.rawValue) }
        try delete(entity)
    }

    /// Brings back a deleted session, insight, action or prompt, as it was when deleted:
    /// an edit the deletion had not seen (`SpaceDocument.restore(_:by:)`), so it merges by
    /// the same rule as any edit made concurrently with a deletion. A deletion made after
    /// this restore, having seen it, hides the entity again.
    ///
    /// - Throws: ``ReplicaError/entityNotFound(_:)`` when this space holds no such entity,
    ///   or it was erased; ``ReplicaError/wrongKind(_:expected:found:)`` when it is not of
    ///   `kind` (when given) or not one of ``deletableKinds``;
    ///   ``ReplicaError/invalidValue(_:)`` when it is not deleted, or when it is an insight
    ///   or action captured in a session that is deleted (naming the session: restore it first).
    public mutating func restore(_ entity: EntityID, kind: EntityKind? = nil) throws(ReplicaError) {
        guard let raw = document.kind(of: entity), !document.isErased(entity) else { throw .entityNotFound(entity) }
        guard let found = EntityKind(rawValue: raw), Self.deletableKinds.contains(found), kind == nil || kind == found else {
            throw .wrongKind(entity, expected: kind, found: raw)
        }
        guard document.isDeleted(entity) else {
            throw .invalidValue("\(found.displayName.lowercased()) \(entity) is not deleted: there is nothing to restore")
        }
        // What was captured in a deleted session stays hidden with it: restoring it alone would
        // report success and show nothing, so the session is named, to be restored first.
        let session: EntityID? =
            switch found {
            case .insight: document.read(Insight.Key.session, of: entity).value
            case .action: document.read(Action.Key.session, of: entity).value
            default: nil
            }
        if let session, document.kind(of: session) == EntityKind.session.rawValue, document.isDeleted(session) {
            let title = DialogueSession(session, in: document)?.title.map { " (\"\($0)\")" } ?? ""
            throw .invalidValue(
                "\(found.displayName.lowercased()) \(entity) was captured in session \(session)\(title), which is deleted: restore the session first (`sessions restore \(session)`)"
            )
        }
        let context = context()
        guard let change = document.restore(entity, by: context) else {
            throw .invalidValue("\(found.displayName.lowercased()) \(entity) holds no value to restore it by")
        }
        lastLive = nil
        changes.append(change)
    }

    // MARK: Sessions

    /// Archives a session: it leaves the everyday lists
    /// (``Replica/sessions(in:from:to:status:facilitator:archived:)``) but keeps its record,
    /// status and everything captured in it. Nothing is written when it is archived already.
    public mutating func archive(_ session: EntityID) throws(ReplicaError) {
        _ = try requireEntity(session, .session)
        guard document.read(DialogueSession.Key.archivedAt, of: session).value == nil else { return }
        let now = Int64(clamping: physicalTime())
        try set(DialogueSession.Field.archivedAt, of: session, to: .timestamp(now))
    }

    /// Takes a session out of the archive (nothing is written when it is not archived).
    public mutating func unarchive(_ session: EntityID) throws(ReplicaError) {
        _ = try requireEntity(session, .session)
        guard document.register(DialogueSession.Field.archivedAt, of: session)?.value.map({ $0 != .null }) == true else { return }
        try set(DialogueSession.Field.archivedAt, of: session, to: .null)
    }

    // MARK: Actions

    /// Sets an action's status: ``complete(_:)``, ``reopen(_:)`` and ``cancel(_:)`` name the
    /// usual ones. Nothing is written when it already has this status alone.
    public mutating func setStatus(of action: EntityID, to status: ActionStatus) throws(ReplicaError) {
        _ = try requireEntity(action, .action)
        try set(Action.Field.status, of: action, to: FieldValue(status))
    }

    /// Marks an action open again (after done or cancelled).
    public mutating func reopen(_ action: EntityID) throws(ReplicaError) {
        try setStatus(of: action, to: .open)
    }

    /// Marks an action cancelled: no longer to be done, kept on record.
    public mutating func cancel(_ action: EntityID) throws(ReplicaError) {
        try setStatus(of: action, to: .cancelled)
    }

    /// Rewrites what an action says is to be done.
    ///
    /// - Throws: ``ReplicaError/invalidValue(_:)`` for an empty description.
    public mutating func describe(_ action: EntityID, as description: String) throws(ReplicaError) {
        _ = try requireEntity(action, .action)
        try set(Action.Key.description, of: action, to: description)
    }

    /// Sets an action's due date ("YYYY-MM-DD"), or clears it (`nil`).
    ///
    /// - Throws: ``ReplicaError/invalidValue(_:)`` for a date not shaped `YYYY-MM-DD`, or
    ///   with no such month or day.
    public mutating func setDueDate(of action: EntityID, to date: String?) throws(ReplicaError) {
        _ = try requireEntity(action, .action)
        try set(Action.Key.dueDate, of: action, to: date)
    }

    // MARK: Text

    /// Adds `text` at the end of a text field (a session's summary, an insight's text): one
    /// insertion, so edits made concurrently anywhere in the text merge. When the field
    /// holds text that does not end with `separator`, the separator goes first (by default
    /// a line break, so an addition starts on a line of its own). Nothing is written for
    /// empty `text`.
    public mutating func appendText(_ text: String, to field: String, of entity: EntityID, separator: String = "\n") throws(ReplicaError) {
        guard !text.isEmpty else { return }
        let kind = try requireEntity(entity)
        try requireField(field, of: kind, type: .text)
        let existing = document.text(field, of: entity)
        let joint = existing.isEmpty || separator.isEmpty || existing.hasSuffix(separator) || text.hasPrefix(separator) ? "" : separator
        try editText(field, of: entity, at: existing.unicodeScalars.count, insert: joint + text)
    }

    /// Appends to a session's shared summary (see ``appendText(_:to:of:separator:)``).
    public mutating func appendToSummary(of session: EntityID, _ text: String) throws(ReplicaError) {
        _ = try requireEntity(session, .session)
        try appendText(text, to: DialogueSession.Field.summary, of: session)
    }

    /// Appends to an insight's text (see ``appendText(_:to:of:separator:)``).
    public mutating func appendToInsight(_ insight: EntityID, _ text: String) throws(ReplicaError) {
        _ = try requireEntity(insight, .insight)
        try appendText(text, to: Insight.Field.text, of: insight)
    }
}
