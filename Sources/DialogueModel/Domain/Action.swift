/// A follow-up commitment, read from a ``SpaceDocument``.
public struct Action: EntityView {
    /// The fields of an action entity, each declared once (see ``FieldDescriptor``).
    public enum Key {
        /// The ``Field/description`` field.
        public static let description = FieldKey<Action, String>("description", .register, .nonEmptyText, column: "description")
        /// The ``Field/owner`` field.
        public static let owner = FieldKey<Action, EntityID>("owner", .register, .reference, column: "owner")
        /// The ``Field/dueDate`` field.
        public static let dueDate = FieldKey<Action, String>("dueDate", .register, .date, column: "due_date")
        /// The ``Field/status`` field.
        public static let status = FieldKey<Action, ActionStatus>("status", .register, .vocabulary(ActionStatus.self), column: "status")
        /// The ``Field/insight`` field.
        public static let insight = FieldKey<Action, EntityID>("insight", .register, .reference, column: "insight_id")
        /// The ``Field/session`` field.
        public static let session = FieldKey<Action, EntityID>("session", .register, .reference, column: "session_id")

        /// Every field, in declaration order.
        public static let all: [FieldDescriptor] = [
            description.descriptor, owner.descriptor, dueDate.descriptor, status.descriptor, insight.descriptor, session.descriptor,
        ]
    }

    /// Field names of an action entity (the names of its ``Key``s).
    public enum Field {
        /// Register, string: what is to be done.
        public static let description = Key.description.name
        /// Register, reference to the ``Member`` who owns the action.
        public static let owner = Key.owner.name
        /// Register, string: the due date as a calendar date, "YYYY-MM-DD".
        public static let dueDate = Key.dueDate.name
        /// Register, string: an ``ActionStatus`` raw value.
        public static let status = Key.status.name
        /// Register, reference to the ``Insight`` that led to it.
        public static let insight = Key.insight.name
        /// Register, reference to the ``DialogueSession`` it came from.
        public static let session = Key.session.name
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
