import DialogueModel
import Foundation
import GRDB

// Identifiers are stored as compact blobs (16 bytes) and replica IDs as 64-bit integers.

extension EntityID {
    /// The 16 bytes, as stored.
    var blob: Data { withUnsafeBytes(of: uuid.uuid) { Data($0) } }

    /// Reads a stored 16-byte identifier.
    init?(blob: Data) {
        guard blob.count == 16 else { return nil }
        let bytes = [UInt8](blob)
        self.init(
            UUID(
                uuid: (
                    bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7], bytes[8], bytes[9], bytes[10],
                    bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]
                )))
    }
}

extension SpaceID {
    /// The 16 bytes, as stored.
    var blob: Data { withUnsafeBytes(of: uuid.uuid) { Data($0) } }

    /// Reads a stored 16-byte identifier.
    init?(blob: Data) {
        guard let entity = EntityID(blob: blob) else { return nil }
        self.init(entity.uuid)
    }
}

extension ReplicaID {
    /// The stored form: the 64 bits as a signed integer (SQLite integers are signed).
    var storedValue: Int64 { Int64(bitPattern: rawValue) }

    init?(storedValue: Int64) { self.init(rawValue: UInt64(bitPattern: storedValue)) }
}

// Reading stored rows without trusting them. A column may hold a value of another type
// than the schema's (written by an older version, edited by hand, or damaged): GRDB's
// typed subscripts (`row["counter"] as Int64`) trap on such a value, so every read of a
// stored row goes through `DatabaseValue` and these checked conversions.

/// A stored row holding what no version of Dialogue writes there: a value of another type,
/// an identifier of the wrong size, a change block that does not decode. The database file
/// is damaged (or was edited by hand).
public struct DamagedRow: Error, Equatable, Sendable, CustomStringConvertible {
    /// The table and column read.
    public var table: String
    public var column: String
    /// What the column holds (its type and size; never the content of text or blobs).
    public var found: String

    public init(table: String, column: String, found: String) {
        self.table = table
        self.column = column
        self.found = found
    }

    public var description: String { "table '\(table)', column '\(column)' holds \(found)" }
}

extension DatabaseValue {
    /// The 16-byte identifier stored here, if it is one.
    package var storedEntityID: EntityID? {
        if case .blob(let data) = storage { EntityID(blob: data) } else { nil }
    }

    /// The space identifier stored here, if it is one.
    package var storedSpaceID: SpaceID? {
        if case .blob(let data) = storage { SpaceID(blob: data) } else { nil }
    }

    /// The text stored here, if it is text.
    package var storedString: String? {
        if case .string(let text) = storage { text } else { nil }
    }

    /// The bytes stored here, if they are a blob.
    package var storedBlob: Data? {
        if case .blob(let data) = storage { data } else { nil }
    }

    /// The integer stored here, if it is one. Not inlined: inlined into
    /// `ReplicaQueries.session`, it crashed Swift 6.3.1's optimiser in release builds (an
    /// ownership verification failure in CopyPropagation).
    package var storedInt64: Int64? {
        @inline(never) get {
            if case .int64(let value) = storage { value } else { nil }
        }
    }

    /// What this value is, for a ``DamagedRow``: its type, with the value of an integer and
    /// the size of text or a blob.
    package var storedSummary: String {
        switch storage {
        case .null: "NULL"
        case .int64(let value): "the integer \(value)"
        case .double: "a real number"
        case .string(let text): "text of \(text.utf8.count) bytes"
        case .blob(let data): "a blob of \(data.count) bytes"
        }
    }
}

extension Row {
    /// The value of a column, whatever its storage class (never traps; NULL when absent).
    package func stored(_ column: String) -> DatabaseValue {
        self[column] as DatabaseValue? ?? .null
    }

    /// A column of a stored row converted by `convert` (one of the `stored…` conversions,
    /// maybe narrowed further); a value it refuses is a ``DamagedRow``, never a trap.
    package func required<T>(_ column: String, of table: String, _ convert: (DatabaseValue) -> T?) throws(DamagedRow) -> T {
        let value = stored(column)
        guard let converted = convert(value) else { throw DamagedRow(table: table, column: column, found: value.storedSummary) }
        return converted
    }

    /// Like ``required(_:of:_:)``, by the column's position in the statement (no lookup of
    /// its name, for reads done on every request); `column` names it in a ``DamagedRow``.
    package func required<T>(at index: Int, _ column: String, of table: String, _ convert: (DatabaseValue) -> T?) throws(DamagedRow) -> T {
        let value = self[index] as DatabaseValue? ?? .null
        guard let converted = convert(value) else { throw DamagedRow(table: table, column: column, found: value.storedSummary) }
        return converted
    }

    /// Like ``required(_:of:_:)`` for a column that may hold NULL: `nil` then.
    package func nullable<T>(_ column: String, of table: String, _ convert: (DatabaseValue) -> T?) throws(DamagedRow) -> T? {
        if stored(column).isNull { return nil }
        return try required(column, of: table, convert)
    }

    /// The changes of a stored block (its `body` column, in the binary format).
    package func storedChanges(of table: String) throws(DamagedRow) -> [Change] {
        let body = try required("body", of: table, \.storedBlob)
        do {
            return try ChangeCodec.decode(body)
        } catch {
            throw DamagedRow(table: table, column: "body", found: "a blob of \(body.count) bytes that is no change block (\(error))")
        }
    }
}
