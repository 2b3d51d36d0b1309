import DialogueModel
import Foundation
import GRDB

/// Changes written before signing existed, accepted once without a signed head
/// (docs/TRUST.md, "Migration"): what the replica marks as "unsigned, before protocol 2".
///
/// A change no head covers is accepted only when it is at or below its space's *legacy
/// vector* in the verified space directory (what the server held when it first ran a
/// version that signs). Its author's chain advances over it, so the author's later heads
/// (whose chains start at counter 1) verify, and its counters are recorded here, per
/// space and author, as ranges.
enum LegacyChanges {
    /// The table (created by the "v9-unsigned-legacy" migration).
    static let createTable = """
        CREATE TABLE unsigned_legacy (
            space_id BLOB NOT NULL,
            replica INTEGER NOT NULL,
            first_counter INTEGER NOT NULL,
            last_counter INTEGER NOT NULL,
            PRIMARY KEY (space_id, replica, first_counter)
        ) WITHOUT ROWID;
        """

    /// The legacy vector of `space` in the cached (verified) space directory; empty when
    /// there is none, or the directory does not list the space.
    static func legacyVector(of space: SpaceID, _ db: Database) throws -> VersionVector {
        try TrustCache.directory(db)?.entry(for: space)?.legacy ?? VersionVector()
    }

    /// Marks `replica`'s counters `range` in `space` as accepted unsigned.
    static func record(_ range: ClosedRange<UInt64>, of replica: ReplicaID, in space: SpaceID, _ db: Database) throws {
        try db.execute(
            sql: "INSERT OR REPLACE INTO unsigned_legacy (space_id, replica, first_counter, last_counter) VALUES (?, ?, ?, ?)",
            arguments: [space.blob, replica.storedValue, Int64(bitPattern: range.lowerBound), Int64(bitPattern: range.upperBound)])
    }

    /// The ranges marked in `space`, per author, ascending.
    static func ranges(in space: SpaceID, _ db: Database) throws -> [ReplicaID: [ClosedRange<UInt64>]] {
        var ranges: [ReplicaID: [ClosedRange<UInt64>]] = [:]
        for row in try Row.fetchAll(
            db, sql: "SELECT replica, first_counter, last_counter FROM unsigned_legacy WHERE space_id = ? ORDER BY replica, first_counter",
            arguments: [space.blob])
        {
            let replica = try row.required("replica", of: "unsigned_legacy") { $0.storedInt64.flatMap(ReplicaID.init(storedValue:)) }
            let first = try row.required("first_counter", of: "unsigned_legacy") { $0.storedInt64.map(UInt64.init(bitPattern:)) }
            let last = try row.required("last_counter", of: "unsigned_legacy") { $0.storedInt64.map(UInt64.init(bitPattern:)) }
            guard first <= last else {
                throw DamagedRow(table: "unsigned_legacy", column: "last_counter", found: "a counter below first_counter")
            }
            ranges[replica, default: []].append(first...last)
        }
        return ranges
    }
}

extension Replica {
    /// Whether the change `dot` of `space` was accepted unsigned, as written before signing
    /// existed ("unsigned, before protocol 2": docs/TRUST.md, "Migration"). `history` and
    /// any view of who wrote what say so beside its author, whose name then rests on the
    /// server's word alone, not on a signature. `false` for every change a signed head
    /// covers (this device's own earlier changes included: its first head vouches for them).
    ///
    /// A change spanning several counters (a run of text) is marked as a whole: any of its
    /// counters answers the same.
    public nonisolated func isUnsignedLegacy(_ dot: Dot, in space: SpaceID) throws(ReplicaError) -> Bool {
        do {
            return try database.read { db in
                try Bool.fetchOne(
                    db,
                    sql: """
                        SELECT EXISTS (SELECT 1 FROM unsigned_legacy
                        WHERE space_id = ? AND replica = ? AND first_counter <= ?3 AND last_counter >= ?3)
                        """,
                    arguments: [space.blob, dot.replica.storedValue, Int64(bitPattern: dot.counter)]) ?? false
            }
        } catch {
            throw ReplicaError(storageFailure: error)
        }
    }

    /// The counters of each author in `space` accepted unsigned (``isUnsignedLegacy(_:in:)``),
    /// as ascending ranges: for a view that marks many changes at once.
    public nonisolated func unsignedLegacyCounters(in space: SpaceID) throws(ReplicaError) -> [ReplicaID: [ClosedRange<UInt64>]] {
        do {
            return try database.read { db in try LegacyChanges.ranges(in: space, db) }
        } catch {
            throw ReplicaError(storageFailure: error)
        }
    }
}
