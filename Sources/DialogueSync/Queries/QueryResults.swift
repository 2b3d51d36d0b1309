import DialogueModel

// Values returned by the replica's queries (`Replica+Queries.swift`): plain snapshots of
// the materialised state, safe to hand to a UI, compare, and encode as JSON.
//
// A field is `nil` both when unset and when it holds a value its rule refuses (of another
// type, a term this version does not know…), stored before values were checked: such a
// field is named in the record's `invalidFields` (omitted from JSON when there is none),
// so that it is shown as invalid rather than as empty. The next valid write replaces it.

/// One dialogue session as a list shows it: its registers, without children.
public struct SessionSummary: Sendable, Hashable, Codable {
    /// The session entity.
    public var id: EntityID
    /// The space that holds it.
    public var space: SpaceID
    /// The title (`nil` only while the write that sets it has not arrived).
    public var title: String?
    /// When it is or was held, in milliseconds since the Unix epoch (UTC).
    public var scheduledAt: Int64?
    /// The host school.
    public var hostSchool: EntityID?
    /// The facilitating member.
    public var facilitator: EntityID?
    /// The focus topic.
    public var focus: String?
    /// The leadership strategy the session serves.
    public var strategy: LeadershipStrategy?
    /// Where the session is in its life.
    public var status: SessionStatus?
    /// The fields whose stored value their rule refuses (read as `nil`), by name; `nil`
    /// when there is none. See `FieldDescriptor` and `FieldRead/invalid(_:)`.
    public var invalidFields: [String]?
    /// When it was archived (``SpaceEditor/archive(_:)``), in milliseconds since the Unix
    /// epoch (UTC); `nil` (omitted from JSON) when it is not.
    public var archivedAt: Int64?

    /// Creates a summary from its parts.
    public init(
        id: EntityID, space: SpaceID, title: String?, scheduledAt: Int64?, hostSchool: EntityID?, facilitator: EntityID?,
        focus: String?, strategy: LeadershipStrategy?, status: SessionStatus?, invalidFields: [String]? = nil, archivedAt: Int64? = nil
    ) {
        self.id = id
        self.space = space
        self.title = title
        self.scheduledAt = scheduledAt
        self.hostSchool = hostSchool
        self.facilitator = facilitator
        self.focus = focus
        self.strategy = strategy
        self.status = status
        self.invalidFields = invalidFields
        self.archivedAt = archivedAt
    }

    /// Whether `field` holds a value its rule refuses.
    public func isInvalid(_ field: String) -> Bool { invalidFields?.contains(field) ?? false }
}

/// One prompt on a session's agenda.
public struct AgendaEntry: Sendable, Hashable, Codable {
    /// The index in the agenda list: the index that ``SpaceEditor/moveOnAgenda(from:to:of:)``
    /// and ``SpaceEditor/removeFromAgenda(at:of:)`` take. Entries whose prompt was deleted
    /// are left out of ``SessionRecord/agenda``, so positions may have gaps.
    public var position: Int
    /// The prompt.
    public var promptID: EntityID
    /// The prompt's text; `nil` when the prompt is not held by this replica (it lives in
    /// a space this replica does not hold, or its creation has not arrived).
    public var promptText: String?

    /// Creates an agenda entry.
    public init(position: Int, promptID: EntityID, promptText: String?) {
        self.position = position
        self.promptID = promptID
        self.promptText = promptText
    }
}

/// A session's full record: what a session page, a Markdown export or a JSON export needs.
public struct SessionRecord: Sendable, Hashable, Codable {
    /// The session's registers.
    public var session: SessionSummary
    /// The participating members, in identifier order (members known to be deleted are left
    /// out; ``Replica/ordered(_:names:)`` puts them by name).
    public var participants: [EntityID]
    /// The agenda, in order.
    public var agenda: [AgendaEntry]
    /// The shared summary text ("" when nobody has written one).
    public var summary: String
    /// The insights captured in the session, in identifier order (``Replica/ordered(_:names:)``
    /// puts them in capture order).
    public var insights: [InsightRecord]
    /// The follow-up actions of the session: those that name it, and those that name one
    /// of its insights; by due date (undated last), then identifier.
    public var actions: [ActionRecord]

    /// The session entity.
    public var id: EntityID { session.id }

    /// Creates a record from its parts.
    public init(
        session: SessionSummary, participants: [EntityID], agenda: [AgendaEntry], summary: String, insights: [InsightRecord],
        actions: [ActionRecord]
    ) {
        self.session = session
        self.participants = participants
        self.agenda = agenda
        self.summary = summary
        self.insights = insights
        self.actions = actions
    }
}

/// One insight with its hallmark tags.
public struct InsightRecord: Sendable, Hashable, Codable {
    /// The insight entity.
    public var id: EntityID
    /// The space that holds it.
    public var space: SpaceID
    /// The session it was captured in.
    public var session: EntityID?
    /// The prompt it answers; `nil` when free-standing.
    public var prompt: EntityID?
    /// The authoring member.
    public var author: EntityID?
    /// What it is.
    public var kind: InsightKind?
    /// Where the evidence comes from.
    public var evidenceSource: String?
    /// The kind of influence it describes.
    public var influence: Influence?
    /// The hallmark tags as stored (`Hallmark` raw values), in Dean's order, then any
    /// tags this version does not know, alphabetically.
    public var hallmarks: [String]
    /// The insight's text ("" when nobody has written any).
    public var text: String
    /// The fields whose stored value their rule refuses (read as `nil`), by name; `nil`
    /// when there is none. See `FieldDescriptor` and `FieldRead/invalid(_:)`.
    public var invalidFields: [String]?

    /// The hallmark tags this version knows, in Dean's order.
    public var knownHallmarks: [Hallmark] { hallmarks.compactMap(Hallmark.init(rawValue:)) }

    /// Creates an insight record from its parts.
    public init(
        id: EntityID, space: SpaceID, session: EntityID?, prompt: EntityID?, author: EntityID?, kind: InsightKind?,
        evidenceSource: String?, influence: Influence?, hallmarks: [String], text: String, invalidFields: [String]? = nil
    ) {
        self.id = id
        self.space = space
        self.session = session
        self.prompt = prompt
        self.author = author
        self.kind = kind
        self.evidenceSource = evidenceSource
        self.influence = influence
        self.hallmarks = hallmarks
        self.text = text
        self.invalidFields = invalidFields
    }

    /// Whether `field` holds a value its rule refuses.
    public func isInvalid(_ field: String) -> Bool { invalidFields?.contains(field) ?? false }

}

/// One follow-up action.
public struct ActionRecord: Sendable, Hashable, Codable {
    /// The action entity.
    public var id: EntityID
    /// The space that holds it.
    public var space: SpaceID
    /// What is to be done.
    public var description: String?
    /// The member who owns it.
    public var owner: EntityID?
    /// The due date, "YYYY-MM-DD" as written.
    public var dueDate: String?
    /// Where it stands.
    public var status: ActionStatus?
    /// The insight that led to it.
    public var insight: EntityID?
    /// The session it came from.
    public var session: EntityID?
    /// The fields whose stored value their rule refuses (read as `nil`), by name; `nil`
    /// when there is none. See `FieldDescriptor` and `FieldRead/invalid(_:)`.
    public var invalidFields: [String]?

    /// Creates an action record from its parts.
    public init(
        id: EntityID, space: SpaceID, description: String?, owner: EntityID?, dueDate: String?, status: ActionStatus?,
        insight: EntityID?, session: EntityID?, invalidFields: [String]? = nil
    ) {
        self.id = id
        self.space = space
        self.description = description
        self.owner = owner
        self.dueDate = dueDate
        self.status = status
        self.insight = insight
        self.session = session
        self.invalidFields = invalidFields
    }

    /// Whether `field` holds a value its rule refuses.
    public func isInvalid(_ field: String) -> Bool { invalidFields?.contains(field) ?? false }

}

/// One full-text search result.
public struct SearchHit: Sendable, Hashable, Codable {
    /// The entity found (a session or an insight).
    public var id: EntityID
    /// What kind of entity it is.
    public var kind: EntityKind
    /// The space that holds it.
    public var space: SpaceID
    /// A heading for the hit: the session's title; for an insight, the title of the
    /// session it was captured in. `nil` when there is none.
    public var title: String?
    /// An excerpt around the matched words, each matched word wrapped in
    /// ``SearchHit/highlightOpen`` and ``SearchHit/highlightClose``; "…" marks elided text.
    public var snippet: String

    /// What opens a matched word in ``snippet``.
    public static let highlightOpen = "**"
    /// What closes a matched word in ``snippet``.
    public static let highlightClose = "**"

    /// Creates a search hit from its parts.
    public init(id: EntityID, kind: EntityKind, space: SpaceID, title: String?, snippet: String) {
        self.id = id
        self.kind = kind
        self.space = space
        self.title = title
        self.snippet = snippet
    }
}

/// A register field that two or more people set concurrently: the value shown and the
/// values that lost, none of them lost from the record.
public struct ConflictRecord: Sendable, Hashable, Codable {
    /// The entity whose field has concurrent writes.
    public var entity: EntityID
    /// What kind of entity it is.
    public var entityKind: EntityKind
    /// The space that holds it.
    public var space: SpaceID
    /// The field name (for example `DialogueSession/Field/title`).
    public var field: String
    /// The write that wins (last writer by timestamp, then replica): the value shown.
    public var winner: ConflictValue
    /// The concurrent writes that lost, most recent first.
    public var losers: [ConflictValue]

    /// Creates a conflict record from its parts.
    public init(entity: EntityID, entityKind: EntityKind, space: SpaceID, field: String, winner: ConflictValue, losers: [ConflictValue]) {
        self.entity = entity
        self.entityKind = entityKind
        self.space = space
        self.field = field
        self.winner = winner
        self.losers = losers
    }
}

/// One standing write of a register with concurrent writes.
public struct ConflictValue: Sendable, Hashable, Codable {
    /// The value written.
    public var value: FieldValue
    /// The replica (device) that wrote it.
    public var replica: ReplicaID
    /// The write's counter on that replica (with ``replica``, its dot).
    public var counter: UInt64
    /// When it was written (hybrid logical clock).
    public var timestamp: HLCTimestamp
    /// `true` when the value breaks its field's rule, or its stored form could not be read
    /// (then ``value`` is `null`); `nil` otherwise (omitted from JSON).
    public var invalid: Bool?

    /// The write's identity.
    public var dot: Dot { Dot(replica, counter) }

    /// Creates a conflict value from its parts.
    public init(value: FieldValue, replica: ReplicaID, counter: UInt64, timestamp: HLCTimestamp, invalid: Bool? = nil) {
        self.value = value
        self.replica = replica
        self.counter = counter
        self.timestamp = timestamp
        self.invalid = invalid
    }
}
