/// A typed, read-only view of one domain entity, read from a ``SpaceDocument``.
///
/// A view is a snapshot: it does not change when the document does. Fields never
/// written read as `nil` (or empty); so do values of the wrong type and vocabulary
/// terms this version does not know, so that data written by a newer version never
/// makes a reader fail.
public protocol EntityView: Sendable, Hashable {
    /// The kind of entity this view reads.
    static var entityKind: EntityKind { get }
    /// The entity.
    var id: EntityID { get }
    /// Reads the entity, or returns `nil` if it was never created (or its creation has not
    /// arrived) or it was created with another kind. A deleted entity still reads.
    init?(_ id: EntityID, in document: SpaceDocument)
}

extension SpaceDocument {
    /// Views of the live (created, not deleted) entities of a view's kind, sorted by id.
    public func views<View: EntityView>(_ type: View.Type) -> [View] {
        entityIDs(ofKind: View.entityKind.rawValue).compactMap { View($0, in: self) }
    }

    /// The live partnerships, sorted by id.
    public var partnerships: [Partnership] { views(Partnership.self) }
    /// The live schools, sorted by id.
    public var schools: [School] { views(School.self) }
    /// The live members (people), sorted by id.
    public var people: [Member] { views(Member.self) }
    /// The live space descriptions, sorted by id.
    public var spaces: [Space] { views(Space.self) }
    /// The live dialogue sessions, sorted by id.
    public var sessions: [DialogueSession] { views(DialogueSession.self) }
    /// The live prompts, sorted by id.
    public var prompts: [Prompt] { views(Prompt.self) }
    /// The live insights, sorted by id.
    public var insights: [Insight] { views(Insight.self) }
    /// The live actions, sorted by id.
    public var actions: [Action] { views(Action.self) }
}

// MARK: Typed field reading for views

extension SpaceDocument {
    /// Whether the entity's creation has arrived with the given kind.
    func isEntity(_ entity: EntityID, ofKind kind: EntityKind) -> Bool {
        self.kind(of: entity) == kind.rawValue
    }

    /// A register field's winning value, if it is a string.
    func stringValue(_ field: String, of entity: EntityID) -> String? {
        value(field, of: entity)?.stringValue
    }

    /// A register field's winning value, if it is a reference.
    func referenceValue(_ field: String, of entity: EntityID) -> EntityID? {
        value(field, of: entity)?.referenceValue
    }

    /// A register field's winning value, if it is a timestamp.
    func timestampValue(_ field: String, of entity: EntityID) -> Int64? {
        value(field, of: entity)?.timestampValue
    }

    /// A register field's winning value, if it is a known vocabulary term.
    func termValue<Term: VocabularyTerm>(_ field: String, of entity: EntityID, as type: Term.Type = Term.self) -> Term? {
        Term(value(field, of: entity))
    }

    /// The references in a set field, sorted by id; other values are skipped.
    func referenceMembers(_ field: String, of entity: EntityID) -> [EntityID] {
        members(field, of: entity).compactMap(\.referenceValue).sorted()
    }

    /// The known vocabulary terms in a set field, in declaration order; unknown values are skipped.
    func termMembers<Term: VocabularyTerm>(_ field: String, of entity: EntityID, as type: Term.Type = Term.self) -> [Term] {
        let present = Set(members(field, of: entity).compactMap { Term($0) })
        return Term.allCases.filter(present.contains)
    }

    /// The references in a list field, in list order; other values are skipped.
    func referenceItems(_ field: String, of entity: EntityID) -> [EntityID] {
        items(field, of: entity).compactMap(\.value.referenceValue)
    }
}
