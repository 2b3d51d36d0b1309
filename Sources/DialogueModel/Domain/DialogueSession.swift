/// A recorded pedagogy discussion, read from a ``SpaceDocument``.
///
/// "Effective leaders create opportunities to meet with colleagues to discuss pedagogy
/// and pupil learning" (course reading *Distributed leadership*, "Learning-centred
/// leadership").
public struct DialogueSession: EntityView {
    /// Field names of a session entity.
    public enum Field {
        /// Register, string: the title.
        public static let title = "title"
        /// Register, timestamp: when the session is or was held (ms since the Unix epoch, UTC).
        public static let scheduledAt = "scheduledAt"
        /// Register, reference to the host ``School``.
        public static let hostSchool = "hostSchool"
        /// Register, reference to the facilitating ``Member``.
        public static let facilitator = "facilitator"
        /// Set of references to the participating ``Member``s.
        public static let participants = "participants"
        /// Register, string: the focus topic.
        public static let focus = "focus"
        /// Register, string: a ``LeadershipStrategy`` raw value.
        public static let strategy = "strategy"
        /// Register, string: a ``SessionStatus`` raw value.
        public static let status = "status"
        /// List of references to ``Prompt``s, in agenda order.
        public static let agenda = "agenda"
        /// Text: the shared summary, edited collaboratively.
        public static let summary = "summary"
    }

    /// The entity kind this view reads.
    public static let entityKind = EntityKind.session

    /// The session entity.
    public let id: EntityID
    /// The title.
    public let title: String?
    /// When it is or was held, in milliseconds since the Unix epoch (UTC).
    public let scheduledAt: Int64?
    /// The host school.
    public let hostSchool: EntityID?
    /// The facilitating member.
    public let facilitator: EntityID?
    /// The participating members, sorted by id.
    public let participants: [EntityID]
    /// The focus topic.
    public let focus: String?
    /// The leadership strategy the session serves, if recorded and known.
    public let strategy: LeadershipStrategy?
    /// Where the session is in its life, if recorded and known.
    public let status: SessionStatus?
    /// The prompts on the agenda, in order (a prompt may appear more than once).
    public let agenda: [EntityID]
    /// The shared summary ("" when nobody has written one).
    public let summary: String

    /// Reads a session; `nil` if the entity was never created or is of another kind.
    public init?(_ id: EntityID, in document: SpaceDocument) {
        guard document.isEntity(id, ofKind: Self.entityKind) else { return nil }
        self.id = id
        title = document.stringValue(Field.title, of: id)
        scheduledAt = document.timestampValue(Field.scheduledAt, of: id)
        hostSchool = document.referenceValue(Field.hostSchool, of: id)
        facilitator = document.referenceValue(Field.facilitator, of: id)
        participants = document.referenceMembers(Field.participants, of: id)
        focus = document.stringValue(Field.focus, of: id)
        strategy = document.termValue(Field.strategy, of: id)
        status = document.termValue(Field.status, of: id)
        agenda = document.referenceItems(Field.agenda, of: id)
        summary = document.text(Field.summary, of: id)
    }
}
