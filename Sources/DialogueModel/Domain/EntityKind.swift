/// The kinds of entity the domain keeps, as written by `create(_:kind:by:)`.
///
/// Raw values are stored in every replica's changes: never rename one.
public enum EntityKind: String, CaseIterable, Sendable, Codable {
    /// A network of schools that share sessions (``Partnership``).
    case partnership
    /// One school (``School``).
    case school
    /// A person taking part (``Member``).
    case member
    /// The unit of sharing and access (``Space``).
    case space
    /// A recorded pedagogy discussion (``DialogueSession``).
    case session
    /// A reflective question (``Prompt``).
    case prompt
    /// Something captured in a session (``Insight``).
    case insight
    /// A follow-up commitment (``Action``).
    case action

    /// A human English name.
    public var displayName: String {
        switch self {
        case .partnership: "Partnership"
        case .school: "School"
        case .member: "Member"
        case .space: "Space"
        case .session: "Dialogue session"
        case .prompt: "Prompt"
        case .insight: "Insight"
        case .action: "Action"
        }
    }

    /// The fields an entity of this kind has, each with the CRDT that stores it.
    public var fields: [FieldSpec] { Self.schema[ordinal].fields }

    /// The CRDT behind a field of this kind, or `nil` for a field the kind does not have.
    public func fieldType(of field: String) -> FieldType? {
        Self.schema[ordinal].types[field]
    }

    /// The kind's position in `allCases`: tables indexed by it cost no hashing (a
    /// `String`-backed enum hashes its raw value), which matters on every keystroke.
    public var ordinal: Int {
        switch self {
        case .partnership: 0
        case .school: 1
        case .member: 2
        case .space: 3
        case .session: 4
        case .prompt: 5
        case .insight: 6
        case .action: 7
        }
    }

    /// Every kind's fields, built once, indexed by ``ordinal``.
    private static let schema: [(fields: [FieldSpec], types: [String: FieldType])] = allCases.map { kind in
        let fields = kind.declaredFields
        return (fields, Dictionary(uniqueKeysWithValues: fields.map { ($0.name, $0.type) }))
    }

    private var declaredFields: [FieldSpec] {
        switch self {
        case .partnership:
            [
                .init(Partnership.Field.name, .register), .init(Partnership.Field.schools, .set),
                .init(Partnership.Field.continuum, .register),
            ]
        case .school:
            [
                .init(School.Field.name, .register), .init(School.Field.reference, .register),
                .init(School.Field.partnership, .register),
            ]
        case .member:
            [
                .init(Member.Field.displayName, .register), .init(Member.Field.role, .register),
                .init(Member.Field.homeSchool, .register),
            ]
        case .space:
            [
                .init(Space.Field.ownerKind, .register), .init(Space.Field.owner, .register),
                .init(Space.Field.members, .set),
            ]
        case .session:
            [
                .init(DialogueSession.Field.title, .register), .init(DialogueSession.Field.scheduledAt, .register),
                .init(DialogueSession.Field.hostSchool, .register), .init(DialogueSession.Field.facilitator, .register),
                .init(DialogueSession.Field.participants, .set), .init(DialogueSession.Field.focus, .register),
                .init(DialogueSession.Field.strategy, .register), .init(DialogueSession.Field.status, .register),
                .init(DialogueSession.Field.agenda, .list), .init(DialogueSession.Field.summary, .text),
            ]
        case .prompt:
            [
                .init(Prompt.Field.text, .register), .init(Prompt.Field.theme, .register),
                .init(Prompt.Field.source, .register),
            ]
        case .insight:
            [
                .init(Insight.Field.text, .text), .init(Insight.Field.author, .register),
                .init(Insight.Field.session, .register), .init(Insight.Field.prompt, .register),
                .init(Insight.Field.kind, .register), .init(Insight.Field.evidenceSource, .register),
                .init(Insight.Field.hallmarks, .set), .init(Insight.Field.influence, .register),
            ]
        case .action:
            [
                .init(Action.Field.description, .register), .init(Action.Field.owner, .register),
                .init(Action.Field.dueDate, .register), .init(Action.Field.status, .register),
                .init(Action.Field.insight, .register), .init(Action.Field.session, .register),
            ]
        }
    }
}

/// A field of an entity kind: its name and the CRDT that stores it.
public struct FieldSpec: Hashable, Sendable {
    /// The field's name, as used in changes.
    public let name: String
    /// The CRDT that stores it (never ``FieldType/lifecycle``).
    public let type: FieldType

    /// Creates a field specification.
    public init(_ name: String, _ type: FieldType) {
        self.name = name
        self.type = type
    }
}

extension SpaceDocument {
    /// The CRDT behind a field of an entity kind, or `nil` for a field the kind does not have.
    public static func fieldType(of field: String, in kind: EntityKind) -> FieldType? {
        kind.fieldType(of: field)
    }

    /// The domain kind of an entity, if it was created with a kind this version knows.
    public func entityKind(of entity: EntityID) -> EntityKind? {
        kind(of: entity).flatMap(EntityKind.init(rawValue:))
    }
}
