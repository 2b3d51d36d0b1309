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
