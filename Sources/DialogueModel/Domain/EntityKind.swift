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

    /// The fields an entity of this kind has, each declared once by its view's `Key`s.
    public var fields: [FieldDescriptor] { Self.schema[ordinal].fields }

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
    private static let schema: [(fields: [FieldDescriptor], types: [String: FieldType])] = allCases.map { kind in
        let fields = kind.declaredFields
        return (fields, Dictionary(uniqueKeysWithValues: fields.map { ($0.name, $0.type) }))
    }

    private var declaredFields: [FieldDescriptor] {
        switch self {
        case .partnership: Partnership.Key.all
        case .school: School.Key.all
        case .member: Member.Key.all
        case .space: Space.Key.all
        case .session: DialogueSession.Key.all
        case .prompt: Prompt.Key.all
        case .insight: Insight.Key.all
        case .action: Action.Key.all
        }
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
