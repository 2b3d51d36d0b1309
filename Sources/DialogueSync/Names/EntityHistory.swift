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
    /// When (hybrid logical clock: milliseconds since 1970 in `HLCTimestamp/wallTime`).
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

extension Replica {
    /// An entity's history: every edit of it this replica holds, in time order, each with
    /// its device, that device's certified member (from the certificates held) and whether
    /// a signed head covers it. Reads the space's change log (one pass).
    ///
    /// - Throws: ``ReplicaError/entityNotFound(_:)`` when no space this replica holds has
    ///   any change to `entity`.
    public func history(of entity: EntityID) throws(ReplicaError) -> EntityHistory {
        // The first space (by id, so every run agrees) whose log holds a change to the entity:
        // its rows are read directly, and no space's document is built.
        var found: (space: SpaceID, changes: [Change])?
        for space in spaces {
            let changes = try readForQuery { db in try Self.changes(to: entity, in: space, db) }
            if !changes.isEmpty {
                found = (space, changes)
                break
            }
        }
        guard let (space, changes) = found else { throw .entityNotFound(entity) }
        let (signedUpTo, legacy) = try readForQuery { db in
            (try Self.signedCounters(in: space, db), try LegacyChanges.ranges(in: space, db))
        }
        // The kind as the document's kind register holds it: the last create in time order.
        let kind = changes.reversed().lazy.compactMap { change -> String? in
            if case .create(let kind, _) = change.operation { return kind }
            return nil
        }.first
        let names = try authorNames()
        var inserted = EditDescriber()
        for change in changes { inserted.record(change) }
        let edits = changes.map { change in
            HistoryEdit(
                field: Self.isLifecycle(change) ? "" : change.field, edit: inserted.describe(change),
                timestamp: change.timestamp, dot: change.id, author: names.author(of: change.replica),
                signing: HistorySigning.classify(change, signedUpTo: signedUpTo, legacy: legacy))
        }
        return EntityHistory(entity: entity, kind: kind, space: space, edits: edits)
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
            db, sql: "SELECT replica, max(counter) AS counter FROM chain_heads WHERE space_id = ? GROUP BY replica", arguments: [space.blob]
        ) {
            guard let replica = (row["replica"] as DatabaseValue).storedInt64.flatMap(ReplicaID.init(storedValue:)),
                let counter = (row["counter"] as DatabaseValue).storedInt64
            else { continue }
            signed[replica] = UInt64(bitPattern: counter)
        }
        return signed
    }
}
