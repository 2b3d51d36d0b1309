/// A scalar value held by a register, a set or a list element.
///
/// Deliberately small and JSON-shaped, so that every platform and a plain `curl`
/// client agree on it.
public enum FieldValue: Hashable, Sendable, Comparable, CustomStringConvertible {
    case null
    case bool(Bool)
    case int(Int64)
    case string(String)
    /// Milliseconds since the Unix epoch (UTC).
    case timestamp(Int64)
    /// A reference to another entity, possibly in another space.
    case reference(EntityID)

    /// Equality by exact content: strings compare by their UTF-8 bytes, not by Unicode
    /// canonical equivalence, so "é" and "e\u{301}" stay distinct set members on every
    /// replica, whichever arrived first.
    public static func == (lhs: FieldValue, rhs: FieldValue) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null): true
        case (.bool(let a), .bool(let b)): a == b
        case (.int(let a), .int(let b)): a == b
        case (.string(let a), .string(let b)): sameUTF8(a, b)
        case (.timestamp(let a), .timestamp(let b)): a == b
        case (.reference(let a), .reference(let b)): a == b
        default: false
        }
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(rank)
        switch self {
        case .null: break
        case .bool(let value): hasher.combine(value)
        case .int(let value): hasher.combine(value)
        case .string(let value): hashUTF8(of: value, into: &hasher)
        case .timestamp(let value): hasher.combine(value)
        case .reference(let value): hasher.combine(value)
        }
    }

    /// A stable rank per case, used by the canonical order.
    var rank: Int {
        switch self {
        case .null: 0
        case .bool: 1
        case .int: 2
        case .string: 3
        case .timestamp: 4
        case .reference: 5
        }
    }

    /// A total order: by case, then by payload. Used to sort set members in exports.
    public static func < (lhs: FieldValue, rhs: FieldValue) -> Bool {
        switch (lhs, rhs) {
        case (.bool(let a), .bool(let b)): !a && b
        case (.int(let a), .int(let b)): a < b
        case (.string(let a), .string(let b)): Array(a.utf8).lexicographicallyPrecedes(b.utf8)
        case (.timestamp(let a), .timestamp(let b)): a < b
        case (.reference(let a), .reference(let b)): a < b
        default: lhs.rank < rhs.rank
        }
    }

    public var description: String {
        switch self {
        case .null: "null"
        case .bool(let value): String(value)
        case .int(let value): String(value)
        case .string(let value): value
        case .timestamp(let value): "@\(value)"
        case .reference(let id): "→\(id)"
        }
    }

    /// The string payload, if this is a string.
    public var stringValue: String? {
        if case .string(let value) = self { value } else { nil }
    }

    /// The referenced entity, if this is a reference.
    public var referenceValue: EntityID? {
        if case .reference(let value) = self { value } else { nil }
    }

    /// The timestamp payload, if this is a timestamp.
    public var timestampValue: Int64? {
        if case .timestamp(let value) = self { value } else { nil }
    }

    /// The integer payload, if this is an integer.
    public var intValue: Int64? {
        if case .int(let value) = self { value } else { nil }
    }
}
