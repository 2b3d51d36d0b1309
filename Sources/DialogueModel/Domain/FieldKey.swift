import Foundation

/// A field of the entities a view reads, with the Swift type of its values: the typed
/// handle on a ``FieldDescriptor``. For a set or a list, `Value` is the type of a member
/// or item.
///
/// ```swift
/// let when: FieldRead<Date> = document.read(DialogueSession.Key.scheduledAt, of: session)
/// ```
public struct FieldKey<View: EntityView, Value: FieldRepresentable>: Hashable, Sendable {
    /// The field's declaration.
    public let descriptor: FieldDescriptor

    /// The field's name, as used in changes.
    public var name: String { descriptor.name }

    /// Declares a register or text field, materialised in `column` of the kind's table.
    public init(_ name: String, _ type: FieldType, _ rule: ValueRule, column: String) {
        descriptor = FieldDescriptor(name, type, rule, storage: .column(column))
    }

    /// Declares a set or list field, materialised in `table` (keyed by the entity), its
    /// values in `column`.
    public init(_ name: String, _ type: FieldType, _ rule: ValueRule, table: String, column: String) {
        descriptor = FieldDescriptor(name, type, rule, storage: .childTable(table, column: column))
    }
}

/// A Swift type that a field's values are read as and written from.
public protocol FieldRepresentable: Sendable, Hashable {
    /// The value held in a field, or `nil` when `value` is of another type.
    init?(fieldValue value: FieldValue)
    /// The field value that stores this value.
    var fieldValue: FieldValue { get }
}

extension String: FieldRepresentable {
    public init?(fieldValue value: FieldValue) {
        guard case .string(let text) = value else { return nil }
        self = text
    }

    public var fieldValue: FieldValue { .string(self) }
}

extension EntityID: FieldRepresentable {
    public init?(fieldValue value: FieldValue) {
        guard case .reference(let id) = value else { return nil }
        self = id
    }

    public var fieldValue: FieldValue { .reference(self) }
}

/// A timestamp field holds whole milliseconds since the Unix epoch (UTC).
extension Date: FieldRepresentable {
    public init?(fieldValue value: FieldValue) {
        guard case .timestamp(let milliseconds) = value else { return nil }
        self.init(millisecondsSinceEpoch: milliseconds)
    }

    public var fieldValue: FieldValue { .timestamp(millisecondsSinceEpoch) }

    /// The date `milliseconds` after the Unix epoch.
    public init(millisecondsSinceEpoch milliseconds: Int64) {
        self.init(timeIntervalSince1970: TimeInterval(milliseconds) / 1000)
    }

    /// Whole milliseconds since the Unix epoch, rounded, clamped to what `Int64` holds.
    public var millisecondsSinceEpoch: Int64 {
        let milliseconds = (timeIntervalSince1970 * 1000).rounded()
        guard milliseconds.isFinite else { return milliseconds < 0 ? .min : .max }
        return milliseconds >= 9.2e18 ? .max : milliseconds <= -9.2e18 ? .min : Int64(milliseconds)
    }
}

extension VocabularyTerm {
    public init?(fieldValue value: FieldValue) {
        guard case .string(let raw) = value else { return nil }
        self.init(rawValue: raw)
    }

    public var fieldValue: FieldValue { .string(rawValue) }
}

/// What a field holds, read through its ``FieldKey``.
public enum FieldRead<Value: FieldRepresentable>: Hashable, Sendable {
    /// Never written, or cleared.
    case absent
    /// A value the field's rule accepts.
    case value(Value)
    /// A value the field's rule refuses (of another type, an unknown term…): written by an
    /// older version before values were checked. Shown as such; the next valid write
    /// replaces it.
    case invalid(FieldValue)

    /// The value, if valid.
    public var value: Value? {
        if case .value(let value) = self { value } else { nil }
    }

    /// Whether the field holds a value its rule refuses.
    public var isInvalid: Bool {
        if case .invalid = self { true } else { false }
    }

    /// Reads a stored value against the field's descriptor.
    public init(_ stored: FieldValue?, as descriptor: FieldDescriptor) {
        guard let stored, stored != .null else {
            self = .absent
            return
        }
        if descriptor.rule.accepts(stored), let value = Value(fieldValue: stored) {
            self = .value(value)
        } else {
            self = .invalid(stored)
        }
    }
}

extension SpaceDocument {
    /// A register field's winning value, typed and checked against the field's rule.
    public func read<View, Value>(_ key: FieldKey<View, Value>, of entity: EntityID) -> FieldRead<Value> {
        FieldRead(value(key.name, of: entity), as: key.descriptor)
    }
}
