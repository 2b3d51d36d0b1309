/// Typed local edits for the domain. Each returns the changes to replicate, in order.
extension SpaceDocument {
    /// Creates an entity of a domain kind.
    public mutating func create(_ entity: EntityID, kind: EntityKind, by context: EditContext) -> Change {
        create(entity, kind: kind.rawValue, by: context)
    }

    /// Writes a vocabulary term to a register field.
    public mutating func set(_ field: String, of entity: EntityID, to term: some VocabularyTerm, by context: EditContext) -> Change {
        set(field, of: entity, to: FieldValue(term), by: context)
    }

    /// Creates a dialogue session with a title, planned.
    public mutating func createSession(_ id: EntityID, title: String, by context: EditContext) -> [Change] {
        [
            create(id, kind: .session, by: context),
            set(DialogueSession.Field.title, of: id, to: .string(title), by: context),
            set(DialogueSession.Field.status, of: id, to: SessionStatus.planned, by: context),
        ]
    }

    /// Adds a prompt of the built-in library to this space, under its stable identifier:
    /// devices that add the same prompt converge on one entity. Writes only the fields
    /// that differ from the library, except that a deleted prompt has every field
    /// rewritten, which brings it back (an edit the deletion had not seen keeps it).
    public mutating func addStarterPrompt(_ prompt: StarterPrompt, by context: EditContext) -> [Change] {
        var changes: [Change] = []
        if kind(of: prompt.id) != EntityKind.prompt.rawValue {
            changes.append(create(prompt.id, kind: .prompt, by: context))
        }
        let revive = isDeleted(prompt.id)
        let fields = [(Prompt.Field.text, prompt.text), (Prompt.Field.theme, prompt.theme), (Prompt.Field.source, prompt.source)]
        for (field, text) in fields where revive || stringValue(field, of: prompt.id) != text {
            changes.append(set(field, of: prompt.id, to: .string(text), by: context))
        }
        return changes
    }

    /// Appends a prompt to a session's agenda.
    public mutating func appendToAgenda(_ prompt: EntityID, of session: EntityID, by context: EditContext) throws(ChangeError) -> Change {
        let count = items(DialogueSession.Field.agenda, of: session).count
        return try insertItem(.reference(prompt), at: count, inList: DialogueSession.Field.agenda, of: session, by: context)
    }
}

/// Deletion and its undoing, by the one deletion rule (``EntityLifecycle/isDeleted``):
/// an entity stays deleted while some deletion has seen every edit to it, so an edit made
/// after the deletion brings it back, as a concurrent one keeps it.
extension SpaceDocument {
    /// Brings back a deleted entity by an edit its deletions have not seen: one register
    /// field written again with the value it shows (see ``restoringField(of:)``). Nothing
    /// else changes, and a later delete hides it again. Returns `nil`, writing nothing,
    /// when the entity is not deleted, is erased (an erasure is final), or has no register
    /// value to write again.
    public mutating func restore(_ entity: EntityID, by context: EditContext) -> Change? {
        guard isDeleted(entity), !isErased(entity), let (field, value) = restoringField(of: entity) else { return nil }
        return set(field, of: entity, to: value, by: context)
    }

    /// The register field, and the value it shows, that ``restore(_:by:)`` writes again:
    /// the first of the kind's register fields, in declaration order, that shows a value and
    /// has no concurrent writes (writing it again would settle them), else the first that
    /// shows a value. Never a field naming the writer (``AuthorshipRule/writerFields``): only
    /// the entity's author may write that. `nil` when no field qualifies.
    public func restoringField(of entity: EntityID) -> (field: String, value: FieldValue)? {
        guard let kind = entityKind(of: entity) else { return nil }
        let writerFields = AuthorshipRule.writerFields[kind.rawValue] ?? []
        var fallback: (field: String, value: FieldValue)?
        for field in kind.fields where field.type == .register && !writerFields.contains(field.name) {
            guard let register = register(field.name, of: entity), let value = register.value, value != .null,
                field.rule.accepts(value)
            else { continue }
            if register.writes.count == 1 { return (field.name, value) }
            if fallback == nil { fallback = (field.name, value) }
        }
        return fallback
    }
}
