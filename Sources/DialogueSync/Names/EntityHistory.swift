import DialogueModel
import Foundation
import GRDB

/// "Who wrote this, when": an entity's edits, oldest first, each with the device that
/// made it, the member that device is certified for, and whether a signed head covers it.
/// Read with ``Replica/history(of:)``.
public struct EntityHistory: Sendable, Hashable, Codable {
    /// The entity.
    public var entity: EntityID
    /// Its kind as created ("insight", "session"…); `nil` while its creation has not arrived.
    public var kind: String?
    /// The space that holds it.
    public var space: SpaceID
    /// Its edits in time order (hybrid logical clock, then device, then counter): the same
    /// order on every replica that holds the same changes.
    public var edits: [HistoryEdit]

    /// Creates a history from its parts.
    public init(entity: EntityID, kind: String?, space: SpaceID, edits: [HistoryEdit]) {
        self.entity = entity
        self.kind = kind
        self.space = space
        self.edits = edits
    }
}

/// One edit of an entity: one change of its log (a run of typing is one change).
public struct HistoryEdit: Sendable, Hashable, Codable {
    /// The field edited; "" for the entity's creation and deletion.
    public var field: String
    /// What the edit did.
    public var edit: HistoryEditKind
    /// When (hybrid logical clock: milliseconds since 1970 in ``HLCTimestamp/wallTime``).
    public var timestamp: HLCTimestamp
    /// The change's first dot: its device (replica id) and counter.
    public var dot: Dot
    /// Who wrote it: the device's certified member, or an unverified device.
    public var author: DeviceAuthor
    /// Whether a head signed by the device covers it.
    public var signing: HistorySigning

    /// Creates an edit from its parts.
    public init(field: String, edit: HistoryEditKind, timestamp: HLCTimestamp, dot: Dot, author: DeviceAuthor, signing: HistorySigning) {
        self.field = field
        self.edit = edit
        self.timestamp = timestamp
        self.dot = dot
        self.author = author
        self.signing = signing
    }

    /// When, in milliseconds since 1970 (UTC).
    public var milliseconds: Int64 { Int64(clamping: timestamp.wallTime) }
}

/// Whether an edit is covered by its device's signature (docs/TRUST.md, "Hash chains",
/// "Migration").
public enum HistorySigning: String, Sendable, Hashable, Codable {
    /// A ``ChainHead`` signed by the device, held by this replica, covers the change: the
    /// device's key vouches for it, as it stands, in its place in the device's chain.
    case signed
    /// Accepted without a signature as written before signing existed: at or below the
    /// space's legacy vector in the verified directory (``Replica/isUnsignedLegacy(_:in:)``).
    /// Its author is the server's word, not a signature.
    case unsignedLegacy
    /// No signed head held covers it and it was not accepted as legacy (merged without
    /// verification, by a replica that had not logged in).
    case unsigned

    /// How a person reads it: "signed", "unsigned, before protocol 2", "unsigned".
    public var displayName: String {
        switch self {
        case .signed: "signed"
        case .unsignedLegacy: "unsigned, before protocol 2"
        case .unsigned: "unsigned"
        }
    }
}

/// What one edit did, with a short excerpt of text (at most ``excerptLimit`` characters,
/// "…" marking a cut) and its full length.
///
/// JSON: `{"type": "created"|"deleted"|"set"|"added"|"removed"|"insertedText"|"deletedText"
/// |"listInserted"|"listMoved"|"listRemoved", …}` with `kind` (created), `value` (set,
/// added, removed, listInserted: a ``FieldValue``), `excerpt` and `length` (text; a
/// deletion's excerpt is left out when the deleted characters are not held).
public enum HistoryEditKind: Sendable, Hashable, Codable {
    /// The entity was created with this kind.
    case created(kind: String)
    /// The entity was deleted.
    case deleted
    /// A register was set to a value.
    case set(FieldValue)
    /// A value was added to a set.
    case added(FieldValue)
    /// A value was removed from a set.
    case removed(FieldValue)
    /// Text was inserted: an excerpt of it and its length in characters (Unicode scalars).
    case insertedText(excerpt: String, length: Int)
    /// Text was deleted: an excerpt of what was deleted (`nil` when the deleted characters
    /// are not held) and how many characters.
    case deletedText(excerpt: String?, length: Int)
    /// An element was inserted into a list.
    case listInserted(FieldValue)
    /// A list element was moved.
    case listMoved
    /// A list element was removed.
    case listRemoved

    /// The most characters an excerpt holds before it is cut.
    public static let excerptLimit = 40

    /// `text` cut to ``excerptLimit`` characters, "…" marking the cut.
    static func excerpt(_ scalars: some Collection<Unicode.Scalar>) -> String {
        var view = String.UnicodeScalarView()
        view.append(contentsOf: scalars.prefix(excerptLimit))
        return String(view) + (scalars.count > excerptLimit ? "…" : "")
    }

    private enum CodingKeys: String, CodingKey { case type, kind, value, excerpt, length }

    /// The `type` in JSON.
    public var type: String {
        switch self {
        case .created: "created"
        case .deleted: "deleted"
        case .set: "set"
        case .added: "added"
        case .removed: "removed"
        case .insertedText: "insertedText"
        case .deletedText: "deletedText"
        case .listInserted: "listInserted"
        case .listMoved: "listMoved"
        case .listRemoved: "listRemoved"
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(type, forKey: .type)
        switch self {
        case .created(let kind): try container.encode(kind, forKey: .kind)
        case .set(let value), .added(let value), .removed(let value), .listInserted(let value):
            try container.encode(value, forKey: .value)
        case .insertedText(let excerpt, let length):
            try container.encode(excerpt, forKey: .excerpt)
            try container.encode(length, forKey: .length)
        case .deletedText(let excerpt, let length):
            try container.encodeIfPresent(excerpt, forKey: .excerpt)
            try container.encode(length, forKey: .length)
        case .deleted, .listMoved, .listRemoved: break
        }
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let type = try container.decode(String.self, forKey: .type)
        switch type {
        case "created": self = .created(kind: try container.decode(String.self, forKey: .kind))
        case "deleted": self = .deleted
        case "set": self = .set(try container.decode(FieldValue.self, forKey: .value))
        case "added": self = .added(try container.decode(FieldValue.self, forKey: .value))
        case "removed": self = .removed(try container.decode(FieldValue.self, forKey: .value))
        case "insertedText":
            self = .insertedText(
                excerpt: try container.decode(String.self, forKey: .excerpt), length: try container.decode(Int.self, forKey: .length))
        case "deletedText":
            self = .deletedText(
                excerpt: try container.decodeIfPresent(String.self, forKey: .excerpt),
                length: try container.decode(Int.self, forKey: .length))
        case "listInserted": self = .listInserted(try container.decode(FieldValue.self, forKey: .value))
        case "listMoved": self = .listMoved
        case "listRemoved": self = .listRemoved
        default:
            throw DecodingError.dataCorruptedError(forKey: .type, in: container, debugDescription: "unknown edit type \(type)")
        }
    }
}

extension Replica {
    /// An entity's history: every edit of it this replica holds, in time order, each with
    /// its device, that device's certified member (from the certificates held) and whether
    /// a signed head covers it. Reads the space's change log (one pass).
    ///
    /// - Throws: ``ReplicaError/entityNotFound(_:)`` when no space this replica holds has
    ///   any change to `entity`.
    public func history(of entity: EntityID) throws(ReplicaError) -> EntityHistory {
        // The first space (by id, so every run agrees) whose state knows the entity.
        guard let space = spaces.first(where: { documents[$0]?.lifecycle(of: entity) != nil || documents[$0]?.kind(of: entity) != nil })
        else { throw .entityNotFound(entity) }
        let kind = documents[space]?.kind(of: entity)
        let (changes, signedUpTo, legacy) = try readForQuery { db in
            (try Self.changes(to: entity, in: space, db), try Self.signedCounters(in: space, db), try LegacyChanges.ranges(in: space, db))
        }
        guard !changes.isEmpty else { throw .entityNotFound(entity) }
        let names = try authorNames()
        var inserted = InsertedText()
        for change in changes { inserted.record(change) }
        let edits = changes.map { change in
            HistoryEdit(
                field: Self.isLifecycle(change) ? "" : change.field, edit: inserted.describe(change.operation),
                timestamp: change.timestamp, dot: change.id, author: names.author(of: change.replica),
                signing: Self.signing(of: change, signedUpTo: signedUpTo, legacy: legacy))
        }
        return EntityHistory(entity: entity, kind: kind, space: space, edits: edits)
    }

    /// Accepted as legacy (the migration's mark, kept even once the author's later heads
    /// chain over it: it was accepted unsigned), else signed when a head of its device
    /// reaches its last counter, else unsigned.
    private static func signing(
        of change: Change, signedUpTo: [ReplicaID: UInt64], legacy: [ReplicaID: [ClosedRange<UInt64>]]
    ) -> HistorySigning {
        if legacy[change.replica]?.contains(where: { $0.contains(change.id.counter) }) == true { return .unsignedLegacy }
        return change.lastCounter <= (signedUpTo[change.replica] ?? 0) ? .signed : .unsigned
    }

    private static func isLifecycle(_ change: Change) -> Bool {
        switch change.operation {
        case .create, .delete: true
        default: false
        }
    }

    /// The changes to `entity` in the log of `space`, in time order.
    private static func changes(to entity: EntityID, in space: SpaceID, _ db: Database) throws -> [Change] {
        var found: [Change] = []
        let blocks = try Row.fetchCursor(
            db, sql: "SELECT body FROM change_blocks WHERE \(ReplicaSchema.blocksOfSpace) ORDER BY block_id", arguments: [space.blob])
        while let row = try blocks.next() {
            found += try row.storedChanges(of: "change_blocks").filter { $0.entity == entity }
        }
        return found.sorted { ($0.timestamp, $0.replica, $0.id.counter) < ($1.timestamp, $1.replica, $1.id.counter) }
    }

    /// Per device, the highest counter a head it signed in `space` covers (the chain is
    /// verified from counter 1 up to each head, so every change at or below it is covered).
    private static func signedCounters(in space: SpaceID, _ db: Database) throws -> [ReplicaID: UInt64] {
        var signed: [ReplicaID: UInt64] = [:]
        for row in try Row.fetchAll(
            db, sql: "SELECT replica, max(counter) AS counter FROM chain_heads WHERE space_id = ? GROUP BY replica", arguments: [space.blob])
        {
            guard let replica = (row["replica"] as DatabaseValue).storedInt64.flatMap(ReplicaID.init(storedValue:)),
                let counter = (row["counter"] as DatabaseValue).storedInt64
            else { continue }
            signed[replica] = UInt64(bitPattern: counter)
        }
        return signed
    }
}

/// The characters each text insertion of one entity wrote, so a deletion can show what
/// it deleted.
private struct InsertedText {
    /// Per device, insertions by first counter: the scalars at counters first, first + 1…
    private var runs: [ReplicaID: [(first: UInt64, scalars: [Unicode.Scalar])]] = [:]

    mutating func record(_ change: Change) {
        guard case .insertText(_, _, let text) = change.operation else { return }
        runs[change.replica, default: []].append((change.id.counter, Array(text.unicodeScalars)))
    }

    /// The character inserted at `counter` by `replica`, if held.
    func scalar(_ replica: ReplicaID, _ counter: UInt64) -> Unicode.Scalar? {
        guard let list = runs[replica] else { return nil }
        for run in list where counter >= run.first && counter - run.first < UInt64(run.scalars.count) {
            return run.scalars[Int(counter - run.first)]
        }
        return nil
    }

    func describe(_ operation: DialogueModel.Operation) -> HistoryEditKind {
        switch operation {
        case .create(let kind, _): return .created(kind: kind)
        case .delete: return .deleted
        case .set(let value, _): return .set(value)
        case .add(let value): return .added(value)
        case .remove(let value, _): return .removed(value)
        case .insertText(_, _, let text):
            return .insertedText(excerpt: HistoryEditKind.excerpt(text.unicodeScalars), length: text.unicodeScalars.count)
        case .deleteText(let ranges):
            let length = ranges.reduce(0) { $0 + Int(clamping: $1.length) }
            // Enough to show the excerpt and know whether it was cut.
            let wanted = min(length, HistoryEditKind.excerptLimit + 1)
            var deleted: [Unicode.Scalar] = []
            outer: for range in ranges {
                for offset in 0..<range.length {
                    if deleted.count == wanted { break outer }
                    guard let scalar = scalar(range.replica, range.firstCounter + offset) else {
                        return .deletedText(excerpt: nil, length: length)
                    }
                    deleted.append(scalar)
                }
            }
            return .deletedText(excerpt: HistoryEditKind.excerpt(deleted), length: length)
        case .insertItem(_, _, let value): return .listInserted(value)
        case .moveItem: return .listMoved
        case .removeItem: return .listRemoved
        }
    }
}
