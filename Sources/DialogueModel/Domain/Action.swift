/// A follow-up commitment, read from a ``SpaceDocument``.
public struct Action: EntityView {
    /// Field names of an action entity.
    public enum Field {
        /// Register, string: what is to be done.
        public static let description = "description"
        /// Register, reference to the ``Member`` who owns the action.
        public static let owner = "owner"
        /// Register, string: the due date as a calendar date, "YYYY-MM-DD".
        public static let dueDate = "dueDate"
        /// Register, string: an ``ActionStatus`` raw value.
        public static let status = "status"
        /// Register, reference to the ``Insight`` that led to it.
        public static let insight = "insight"
        /// Register, reference to the ``DialogueSession`` it came from.
        public static let session = "session"
    }

    /// The entity kind this view reads.
    public static let entityKind = EntityKind.action

    /// The action entity.
    public let id: EntityID
    /// What is to be done.
    public let description: String?
    /// The member who owns it.
    public let owner: EntityID?
    /// The due date, "YYYY-MM-DD" as written (a calendar date, with no time zone).
    public let dueDate: String?
    /// Where it stands, if recorded and known.
    public let status: ActionStatus?
    /// The insight that led to it.
    public let insight: EntityID?
    /// The session it came from.
    public let session: EntityID?

    /// Reads an action; `nil` if the entity was never created or is of another kind.
    public init?(_ id: EntityID, in document: SpaceDocument) {
        guard document.isEntity(id, ofKind: Self.entityKind) else { return nil }
        self.id = id
        description = document.stringValue(Field.description, of: id)
        owner = document.referenceValue(Field.owner, of: id)
        dueDate = document.stringValue(Field.dueDate, of: id)
        status = document.termValue(Field.status, of: id)
        insight = document.referenceValue(Field.insight, of: id)
        session = document.referenceValue(Field.session, of: id)
    }
}
