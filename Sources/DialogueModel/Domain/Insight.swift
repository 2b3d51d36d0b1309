/// Something captured in a session, in answer to a prompt or free-standing, read from
/// a ``SpaceDocument``.
///
/// Insights may be about colleagues or pupils: personal data under UK GDPR. Prefer
/// pseudonyms for pupils.
public struct Insight: EntityView {
    /// Field names of an insight entity.
    public enum Field {
        /// Text: the insight, edited collaboratively.
        public static let text = "text"
        /// Register, reference to the authoring ``Member``.
        public static let author = "author"
        /// Register, reference to the ``DialogueSession`` it was captured in.
        public static let session = "session"
        /// Register, reference to the ``Prompt`` it answers (unset when free-standing).
        public static let prompt = "prompt"
        /// Register, string: an ``InsightKind`` raw value.
        public static let kind = "kind"
        /// Register, string: where the evidence comes from (a survey, a classroom visit…).
        public static let evidenceSource = "evidenceSource"
        /// Set of strings: ``Hallmark`` raw values the insight addresses.
        public static let hallmarks = "hallmarks"
        /// Register, string: an ``Influence`` raw value.
        public static let influence = "influence"
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
