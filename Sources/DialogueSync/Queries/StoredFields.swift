import DialogueModel
import Foundation
import GRDB

// Reading the materialised tables without trusting them. A column may hold a value of
// another type than its field's (written by a version that did not check values, through
// a change or straight into the tables): GRDB's typed subscripts trap on such a value, so
// every read of a row goes through these, which never trap. A field's value is checked
// against its descriptor; one its rule refuses is reported in the record's
// `invalidFields` and read as `nil`.

/// Reads the fields of one materialised row through their ``FieldKey``s, noting which
/// hold invalid values.
struct StoredFields {
    let row: Row
    /// The names of the fields read whose stored value their rule refuses, in read order.
    private(set) var invalid: [String] = []

    init(_ row: Row) { self.row = row }

    /// A register field's value (text fields are read with ``text(_:)``).
    mutating func read<View, Value>(_ key: FieldKey<View, Value>) -> Value? {
        read(key.descriptor, as: Value.self)
    }

    /// The value of the register field `descriptor` describes, read as `Value`.
    mutating func read<Value: FieldRepresentable>(_ descriptor: FieldDescriptor, as: Value.Type) -> Value? {
        guard case .column(let column) = descriptor.storage else { return nil }
        let stored = row.stored(column)
        if stored.isNull { return nil }
        guard let value = storedFieldValue(stored, as: descriptor.rule),
            case .value(let typed) = FieldRead<Value>(value, as: descriptor)
        else {
            invalid.append(descriptor.name)
            return nil
        }
        return typed
    }

    /// A text field's text ("" when absent; an unreadable one is invalid and reads as "").
    mutating func text<View>(_ key: FieldKey<View, String>) -> String {
        guard case .column(let column) = key.descriptor.storage else { return "" }
        let stored = row.stored(column)
        if stored.isNull { return "" }
        guard case .string(let text) = stored.storage else {
            invalid.append(key.name)
            return ""
        }
        return text
    }

    /// Notes a field as invalid (a member of a set or an item of a list that could not be read).
    mutating func noteInvalid(_ field: String) {
        if !invalid.contains(field) { invalid.append(field) }
    }

    /// `invalid` as a record carries it: `nil` when every field was readable.
    var invalidFields: [String]? { invalid.isEmpty ? nil : invalid }
}

/// The field value a column holds, as a field with `rule` stores it, or `nil` when the
/// column holds NULL or a value of another storage class than the rule's (text for a
/// timestamp, a blob for a string…), which no valid write produces.
func storedFieldValue(_ stored: DatabaseValue, as rule: ValueRule) -> FieldValue? {
    switch (rule, stored.storage) {
    case (.timestamp, .int64(let milliseconds)): .timestamp(milliseconds)
    case (.reference, .blob(let data)): EntityID(blob: data).map(FieldValue.reference)
    case (.text, .string(let text)), (.nonEmptyText, .string(let text)), (.date, .string(let text)), (.term, .string(let text)):
        .string(text)
    default: nil
    }
}
