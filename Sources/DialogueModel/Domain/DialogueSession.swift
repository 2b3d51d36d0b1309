import Foundation

/// A recorded pedagogy discussion, read from a ``SpaceDocument``.
///
/// "Effective leaders create opportunities to meet with colleagues to discuss pedagogy
/// and pupil learning" (course reading *Distributed leadership*, "Learning-centred
/// leadership").
public struct DialogueSession: EntityView {
    /// The fields of a session entity, each declared once (see ``FieldDescriptor``).
    public enum Key {
        /// Register: the title.
        public static let title = FieldKey<DialogueSession, String>("title", .register, .nonEmptyText, column: "title")
        /// Register: when the session is or was held (ms since the Unix epoch, UTC).
        public static let scheduledAt = FieldKey<DialogueSession, Date>("scheduledAt", .register, .timestamp, column: "scheduled_at")
        /// Register: the host ``School``.
        public static let hostSchool = FieldKey<DialogueSession, EntityID>("hostSchool", .register, .reference, column: "host_school")
        /// Register: the facilitating ``Member``.
        public static let facilitator = FieldKey<DialogueSession, EntityID>("facilitator", .register, .reference, column: "facilitator")
        /// Set: the participating ``Member``s.
        public static let participants = FieldKey<DialogueSession, EntityID>(
            "participants", .set, .reference, table: "session_participants", column: "member_id")
        /// Register: the focus topic.
        public static let focus = FieldKey<DialogueSession, String>("focus", .register, .text, column: "focus")
        /// Register: the ``LeadershipStrategy`` the session serves.
        public static let strategy = FieldKey<DialogueSession, LeadershipStrategy>(
            "strategy", .register, .vocabulary(LeadershipStrategy.self), column: "strategy")
        /// Register: where the session is in its life.
        public static let status = FieldKey<DialogueSession, SessionStatus>(
            "status", .register, .vocabulary(SessionStatus.self), column: "status")
        /// List: the ``Prompt``s on the agenda, in order.
        public static let agenda = FieldKey<DialogueSession, EntityID>(
            "agenda", .list, .reference, table: "agenda_items", column: "prompt_id")
        /// Text: the shared summary, edited collaboratively.
        public static let summary = FieldKey<DialogueSession, String>("summary", .text, .text, column: "summary")
        /// Register: when the session was archived (put out of the everyday lists); unset
        /// when it is not. A field of its own rather than a ``SessionStatus`` term: a
        /// replica or server older than it stores and forwards an unknown field, but
        /// refuses an unknown term, so archiving never stops an older device syncing.
        public static let archivedAt = FieldKey<DialogueSession, Date>("archivedAt", .register, .timestamp, column: "archived_at")

        /// Every field, in declaration order.
        public static let all: [FieldDescriptor] = [
            title.descriptor, scheduledAt.descriptor, hostSchool.descriptor, facilitator.descriptor, participants.descriptor,
            focus.descriptor, strategy.descriptor, status.descriptor, agenda.descriptor, summary.descriptor, archivedAt.descriptor,
        ]
    }

    /// Field names of a session entity (the names of its ``Key``s).
    public enum Field {
        /// Register, string: the title.
        public static let title = Key.title.name
        /// Register, timestamp: when the session is or was held (ms since the Unix epoch, UTC).
        public static let scheduledAt = Key.scheduledAt.name
        /// Register, reference to the host ``School``.
        public static let hostSchool = Key.hostSchool.name
        /// Register, reference to the facilitating ``Member``.
        public static let facilitator = Key.facilitator.name
        /// Set of references to the participating ``Member``s.
        public static let participants = Key.participants.name
        /// Register, string: the focus topic.
        public static let focus = Key.focus.name
        /// Register, string: a ``LeadershipStrategy`` raw value.
        public static let strategy = Key.strategy.name
        /// Register, string: a ``SessionStatus`` raw value.
        public static let status = Key.status.name
        /// List of references to ``Prompt``s, in agenda order.
        public static let agenda = Key.agenda.name
        /// Text: the shared summary, edited collaboratively.
        public static let summary = Key.summary.name
        /// Register, timestamp: when the session was archived; unset when it is not.
        public static let archivedAt = Key.archivedAt.name
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
    /// When it was archived, in milliseconds since the Unix epoch (UTC); `nil` when it is not.
    public let archivedAt: Int64?

    /// Reads a session; `nil` if the entity was never created or is of another kind.
    public init?(_ id: EntityID, in document: SpaceDocument) {
        guard document.isEntity(id, ofKind: Self.entityKind) else { return nil }
        self.id = id
        title = document.read(Key.title, of: id).value
        scheduledAt = document.read(Key.scheduledAt, of: id).value?.millisecondsSinceEpoch
        hostSchool = document.read(Key.hostSchool, of: id).value
        facilitator = document.read(Key.facilitator, of: id).value
        participants = document.referenceMembers(Field.participants, of: id)
        focus = document.read(Key.focus, of: id).value
        strategy = document.read(Key.strategy, of: id).value
        status = document.read(Key.status, of: id).value
        agenda = document.referenceItems(Field.agenda, of: id)
        summary = document.text(Field.summary, of: id)
        archivedAt = document.read(Key.archivedAt, of: id).value?.millisecondsSinceEpoch
    }
}
