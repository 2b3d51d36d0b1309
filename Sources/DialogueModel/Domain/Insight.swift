/// Something captured in a session, in answer to a prompt or free-standing, read from
/// a ``SpaceDocument``.
///
/// Insights may be about colleagues or pupils: personal data under UK GDPR. Prefer
/// pseudonyms for pupils.
public struct Insight: EntityView {
    /// The fields of an insight entity, each declared once (see ``FieldDescriptor``).
    public enum Key {
        /// The ``Field/text`` field.
        public static let text = FieldKey<Insight, String>("text", .text, .text, column: "text")
        /// The ``Field/author`` field.
        public static let author = FieldKey<Insight, EntityID>("author", .register, .reference, column: "author")
        /// The ``Field/session`` field.
        public static let session = FieldKey<Insight, EntityID>("session", .register, .reference, column: "session_id")
        /// The ``Field/prompt`` field.
        public static let prompt = FieldKey<Insight, EntityID>("prompt", .register, .reference, column: "prompt_id")
        /// The ``Field/kind`` field.
        public static let kind = FieldKey<Insight, InsightKind>("kind", .register, .vocabulary(InsightKind.self), column: "kind")
        /// The ``Field/evidenceSource`` field.
        public static let evidenceSource = FieldKey<Insight, String>("evidenceSource", .register, .text, column: "evidence_source")
        /// The ``Field/hallmarks`` field.
        public static let hallmarks = FieldKey<Insight, Hallmark>(
            "hallmarks", .set, .vocabulary(Hallmark.self), table: "insight_hallmarks", column: "hallmark")
        /// The ``Field/influence`` field.
        public static let influence = FieldKey<Insight, Influence>("influence", .register, .vocabulary(Influence.self), column: "influence")

        /// Every field, in declaration order.
        public static let all: [FieldDescriptor] = [
            text.descriptor, author.descriptor, session.descriptor, prompt.descriptor, kind.descriptor, evidenceSource.descriptor,
            hallmarks.descriptor, influence.descriptor,
        ]
    }

    /// Field names of an insight entity (the names of its ``Key``s).
    public enum Field {
        /// Text: the insight, edited collaboratively.
        public static let text = Key.text.name
        /// Register, reference to the authoring ``Member``.
        public static let author = Key.author.name
        /// Register, reference to the ``DialogueSession`` it was captured in.
        public static let session = Key.session.name
        /// Register, reference to the ``Prompt`` it answers (unset when free-standing).
        public static let prompt = Key.prompt.name
        /// Register, string: an ``InsightKind`` raw value.
        public static let kind = Key.kind.name
        /// Register, string: where the evidence comes from (a survey, a classroom visit…).
        public static let evidenceSource = Key.evidenceSource.name
        /// Set of strings: ``Hallmark`` raw values the insight addresses.
        public static let hallmarks = Key.hallmarks.name
        /// Register, string: an ``Influence`` raw value.
        public static let influence = Key.influence.name
    }

    /// The entity kind this view reads.
    public static let entityKind = EntityKind.insight

    /// The insight entity.
    public let id: EntityID
    /// The insight's text ("" when nobody has written any).
    public let text: String
    /// The authoring member.
    public let author: EntityID?
    /// The session it was captured in.
    public let session: EntityID?
    /// The prompt it answers; `nil` when free-standing.
    public let prompt: EntityID?
    /// What it is, if recorded and known.
    public let kind: InsightKind?
    /// Where the evidence comes from.
    public let evidenceSource: String?
    /// Dean's hallmarks it addresses, in Dean's order; unknown tags are left out.
    public let hallmarks: [Hallmark]
    /// The kind of influence it describes, if recorded and known.
    public let influence: Influence?

    /// Reads an insight; `nil` if the entity was never created or is of another kind.
    public init?(_ id: EntityID, in document: SpaceDocument) {
        guard document.isEntity(id, ofKind: Self.entityKind) else { return nil }
        self.id = id
        text = document.text(Field.text, of: id)
        author = document.referenceValue(Field.author, of: id)
        session = document.referenceValue(Field.session, of: id)
        prompt = document.referenceValue(Field.prompt, of: id)
        kind = document.termValue(Field.kind, of: id)
        evidenceSource = document.stringValue(Field.evidenceSource, of: id)
        hallmarks = document.termMembers(Field.hallmarks, of: id)
        influence = document.termValue(Field.influence, of: id)
    }
}
