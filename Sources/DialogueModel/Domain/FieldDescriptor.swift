/// One field of a domain kind, declared once: its name, the CRDT that stores it, the
/// values it accepts and where the materialised tables keep it.
///
/// Everything else is derived from these descriptors (``EntityKind/fields``): the local
/// editor's checks, the merge check of every replica and of the server
/// (``SpaceDocument/apply(_:)-(Change)`` refuses a change that breaks its field's descriptor with
/// ``ChangeError/invalidValue(_:reason:)``), the materialised columns and the typed readers.
/// Declare one through a ``FieldKey`` on the entity's view (``DialogueSession/Key``…).
public struct FieldDescriptor: Hashable, Sendable, CustomStringConvertible {
    /// The field's name, as used in changes. Never rename one.
    public let name: String
    /// The CRDT that stores it (never ``FieldType/lifecycle``).
    public let type: FieldType
    /// The values it accepts (for a set or list: each member or item).
    public let rule: ValueRule
    /// Where the materialised tables of a replica keep it.
    public let storage: Storage

    /// Where a field's merged state is materialised for queries.
    public enum Storage: Hashable, Sendable {
        /// A column of the kind's own table (registers: the winning value; text: the text).
        case column(String)
        /// A child table keyed by the entity (sets: one row per member; lists: one row per
        /// item, with its position), the value in `column`.
        case childTable(String, column: String)
    }

    /// Creates a descriptor; a register or text field lives in a column, a set or list in a child table.
    public init(_ name: String, _ type: FieldType, _ rule: ValueRule, storage: Storage) {
        precondition(type != .lifecycle, "a field cannot be a lifecycle")
        self.name = name
        self.type = type
        self.rule = rule
        self.storage = storage
    }

    /// Why `operation` cannot be applied to this field, if it cannot: another CRDT's
    /// operation, or a value the rule refuses. A pure function of the operation, so every
    /// replica decides alike. Removals are never refused for their value: removing a bad
    /// member is how it is repaired.
    public func problem(with operation: Operation) -> String? {
        guard operation.fieldType == type else {
            return "is a \(type.rawValue) field, not a \(operation.fieldType.rawValue) field"
        }
        switch operation {
        case .set(let value, _), .add(let value), .insertItem(_, _, let value): return rule.problem(with: value)
        default: return nil
        }
    }

    public var description: String { "\(name) (\(type.rawValue), \(rule))" }

    /// The field as a person calls it, for messages and displays ("due date", "scheduled
    /// time"), never the stored name ("dueDate"): the words in `displayNames`, else the
    /// name's words in lower case.
    public var displayName: String {
        if let words = Self.displayNames[name] { return words }
        var words = ""
        for character in name {
            if character.isUppercase, !words.isEmpty { words.append(" ") }
            words.append(contentsOf: character.lowercased())
        }
        return words
    }

    /// The fields whose words are not simply their name's (the one place they are given).
    static let displayNames = [
        "scheduledAt": "scheduled time", "displayName": "name", "continuum": "continuum position",
    ]

    /// "the action's due date must be …": a problem of this field of a `kind` entity, in the user's words.
    public func message(_ problem: String, kind: EntityKind) -> String { "the \(kind.rawValue)'s \(displayName) \(problem)" }
}

/// What values a field accepts. A rule is a pure function of the value (never of the
/// clock, the replica or other entities), so that checking it at merge cannot make
/// convergence depend on the order in which changes arrive.
public enum ValueRule: Hashable, Sendable, CustomStringConvertible {
    /// Any string.
    case text
    /// A string with a character other than whitespace; cannot be cleared (`null`).
    case nonEmptyText
    /// A ``FieldValue/timestamp(_:)``.
    case timestamp
    /// A ``FieldValue/reference(_:)``.
    case reference
    /// A calendar date as a string `YYYY-MM-DD`, with a real month and day.
    case date
    /// One of these strings (a vocabulary's raw values).
    case term([String])

    /// The rule that accepts exactly the raw values of a vocabulary.
    public static func vocabulary<Term: VocabularyTerm>(_ type: Term.Type) -> ValueRule {
        .term(Term.allCases.map(\.rawValue))
    }

    /// Why the rule refuses `value`, or `nil` when it accepts it. `null` (clearing a
    /// register) is accepted by every rule but ``nonEmptyText``.
    public func problem(with value: FieldValue) -> String? {
        switch (self, value) {
        case (.nonEmptyText, .null): return "cannot be cleared"
        case (_, .null): return nil
        case (.text, .string), (.timestamp, .timestamp), (.reference, .reference): return nil
        case (.nonEmptyText, .string(let text)):
            return text.allSatisfy(\.isWhitespace) ? "cannot be empty" : nil
        case (.date, .string(let text)):
            return Self.isCalendarDate(text) ? nil : "must be a date as 2025-03-14 (YYYY-MM-DD), got '\(text)'"
        case (.term(let allowed), .string(let text)):
            return allowed.contains(text) ? nil : "must be one of \(allowed.joined(separator: ", ")); got '\(text)'"
        default:
            return "must be \(self), got \(value.kindName)"
        }
    }

    /// Whether the rule accepts `value`.
    public func accepts(_ value: FieldValue) -> Bool { problem(with: value) == nil }

    public var description: String {
        switch self {
        case .text: "a string"
        case .nonEmptyText: "a non-empty string"
        case .timestamp: "a timestamp"
        case .reference: "a reference"
        case .date: "a date as 2025-03-14 (YYYY-MM-DD)"
        case .term(let allowed): "one of \(allowed.joined(separator: ", "))"
        }
    }

    /// `YYYY-MM-DD` with a real month and day.
    public static func isCalendarDate(_ text: String) -> Bool {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].utf8.count == 4, parts[1].utf8.count == 2, parts[2].utf8.count == 2,
            parts.allSatisfy({ $0.utf8.allSatisfy { (0x30...0x39).contains($0) } }),
            let year = Int(parts[0]), let month = Int(parts[1]), let day = Int(parts[2]), (1...12).contains(month)
        else { return false }
        let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
        let days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]
        return (1...days).contains(day)
    }
}

extension FieldValue {
    /// The case's name, for messages ("a string", "a timestamp"…).
    public var kindName: String {
        switch self {
        case .null: "null"
        case .bool: "a boolean"
        case .int: "an integer"
        case .string: "a string"
        case .timestamp: "a timestamp"
        case .reference: "a reference"
        }
    }
}

extension EntityKind {
    /// The descriptor of a field of this kind, or `nil` for a field the kind does not have
    /// (for example one added by a newer version: such changes are stored and forwarded).
    /// A kind has about ten fields with short names: a scan is cheaper than hashing one.
    public func field(named name: String) -> FieldDescriptor? {
        let length = name.utf8.count
        for field in fields where field.name.utf8.count == length && field.name == name { return field }
        return nil
    }
}

extension SpaceDocument {
    /// Why `change` breaks the descriptor of its field, if it does: the entity is of a kind
    /// this version knows (as this document holds it) and the field is one of that kind's,
    /// but the operation belongs to another CRDT or its value breaks the field's rule.
    ///
    /// Changes to fields or kinds this version does not know pass (they are stored and
    /// forwarded), and so do changes to an entity whose creation this document does not
    /// hold yet: an honest editor only edits entities it holds, so their creation is in the
    /// change's causal past and every replica checks the change against the same kind.
    public func valueProblem(of change: Change) -> String? {
        if change.field.isEmpty { return nil }  // the lifecycle (create, delete)
        guard let kind = entityKind(of: change.entity) else { return nil }
        return valueProblem(of: change, kind: kind)
    }

    /// The same, for an entity of `kind`.
    func valueProblem(of change: Change, kind: EntityKind) -> String? {
        guard let field = kind.field(named: change.field), let problem = field.problem(with: change.operation) else { return nil }
        return field.message(problem, kind: kind)
    }
}
