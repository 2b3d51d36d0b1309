import DialogueModel
import Foundation
import GRDB
import Synchronization

/// A position in a space's change log, for paging through "what a vector lacks".
public struct ChangeCursor: Hashable, Sendable, Codable {
    public var block: Int64
    public var index: Int

    public static let start = ChangeCursor(block: 0, index: 0)

    public init(block: Int64, index: Int) {
        self.block = block
        self.index = index
    }
}

/// One bounded page of changes, in causal order.
public struct ChangePage: Sendable {
    public var changes: [Change]
    /// The signed heads the page's changes reach (each author's run ends at one, unless
    /// its changes were stored before signing).
    public var heads: [ChainHead] = []
    /// Where the next page starts; `nil` when there is nothing more.
    public var next: ChangeCursor?
}

extension Replica {
    /// What this replica holds: per space, the version vector (as committed to disk).
    public nonisolated func heldVectors() throws(ReplicaError) -> [SpaceID: VersionVector] {
        do {
            return try database.read { db in
                var vectors: [SpaceID: VersionVector] = [:]
                for space in try Self.heldSpaces(db) { vectors[space] = VersionVector() }
                for row in try Row.fetchAll(db, sql: "SELECT space_id, replica, counter FROM vectors") {
                    let space = try row.required("space_id", of: "vectors", \.storedSpaceID)
                    let replica = try row.required("replica", of: "vectors") { $0.storedInt64.flatMap(ReplicaID.init(storedValue:)) }
                    let counter = try row.required("counter", of: "vectors") { $0.storedInt64.map(UInt64.init(bitPattern:)) }
                    vectors[space, default: VersionVector()][replica] = counter
                }
                return vectors
            }
        } catch {
            throw ReplicaError(storageFailure: error)
        }
    }

    /// The changes of `space` that `vector` lacks, in causal order, about `limit` per
    /// page, reading one stored block at a time (never the whole space), with the signed
    /// heads that cover them.
    ///
    /// A page is cut only where every author in it has reached one of its signed heads, so
    /// each author's run verifies on its own (docs/TRUST.md, "Verification"): a page may run
    /// past `limit` to reach one. (Changes of an author after its last signed head, stored
    /// before signing existed, never hold a page back.)
    ///
    /// A page holding a change whose content was erased is not cut before the next erasure
    /// in the log after it: the server (like any receiver of a relayed batch) accepts a
    /// stripped change only with an erasure that covers it, and a stripped change is
    /// stored before the erasure that stripped it. (Docs/TRUST.md, "Erasure".)
    ///
    /// `withholding` leaves out, per author, every change from that counter on (what
    /// ``changesHeldBack(in:serverHas:)`` says a push must leave out).
    public nonisolated func changes(
        in space: SpaceID, missingFrom vector: VersionVector, after cursor: ChangeCursor = .start, limit: Int = 1000,
        withholding: [ReplicaID: UInt64] = [:]
    ) throws(ReplicaError) -> ChangePage {
        precondition(limit > 0)
        do {
            return try database.read { db in
                // A vector holding every change stored lacks none: no block to read (what
                // `status` asks of a space the server holds in full). An empty one lacks all.
                if !vector.lastDots.isEmpty, try Self.covers(vector, storedIn: space, db) { return ChangePage(changes: [], next: nil) }
                var page: [Change] = []
                var cut = PageCut(space: space, vector: vector)
                var awaitingErasure = false  // a stripped change is in the page, no erasure after it yet
                let blocks = try Row.fetchCursor(
                    db,
                    sql:
                        "SELECT block_id, body FROM change_blocks WHERE \(ReplicaSchema.blocksOfSpace) AND block_id >= ?2 ORDER BY block_id",
                    arguments: [space.blob, cursor.block])
                while let row = try blocks.next() {
                    let blockID = try row.required("block_id", of: "change_blocks", \.storedInt64)
                    let changes = try row.storedChanges(of: "change_blocks")
                    let first = blockID == cursor.block ? cursor.index : 0
                    for index in first..<changes.count where changes[index].lastCounter > vector[changes[index].replica] {
                        if let held = withholding[changes[index].replica], changes[index].id.counter >= held { continue }
                        page.append(changes[index])
                        try cut.reach(changes[index], db)
                        if changes[index].isContentErased {
                            awaitingErasure = true
                        } else if case .erase = changes[index].operation {
                            awaitingErasure = false
                        }
                        if page.count >= limit, cut.settled, !awaitingErasure {
                            return ChangePage(changes: page, heads: try cut.heads(db), next: ChangeCursor(block: blockID, index: index + 1))
                        }
                    }
                }
                return ChangePage(changes: page, heads: try cut.heads(db), next: nil)
            }
        } catch {
            throw ReplicaError(storageFailure: error)
        }
    }

    /// Whether `vector` holds every change of `space` the log holds (its stored version vector).
    private static func covers(_ vector: VersionVector, storedIn space: SpaceID, _ db: Database) throws -> Bool {
        let rows = try Row.fetchCursor(db, sql: "SELECT replica, counter FROM vectors WHERE space_id = ?", arguments: [space.blob])
        while let row = try rows.next() {
            let replica = try row.required("replica", of: "vectors") { $0.storedInt64.flatMap(ReplicaID.init(storedValue:)) }
            let counter = try row.required("counter", of: "vectors") { $0.storedInt64.map(UInt64.init(bitPattern:)) }
            if counter > vector[replica] { return false }
        }
        return true
    }

    /// Every page of `changes(in:missingFrom:after:limit:)` as an asynchronous sequence.
    public nonisolated func changeBatches(
        in space: SpaceID, missingFrom vector: VersionVector, batchSize: Int = 1000
    ) -> AsyncThrowingStream<[Change], any Error> {
        // The stream calls the closure one page at a time; the mutex only satisfies the
        // compiler that the cursor is not shared between concurrent calls.
        let cursor = Mutex<ChangeCursor?>(.start)
        return AsyncThrowingStream {
            guard let current = cursor.withLock({ $0 }) else { return nil }
            let page = try self.changes(in: space, missingFrom: vector, after: current, limit: batchSize)
            cursor.withLock { $0 = page.next }
            return page.changes.isEmpty && page.next == nil ? nil : page.changes
        }
    }
}

extension Replica {
    /// Notes that a space finished syncing with a server now (for `status`), and where the
    /// server's scan of the space stopped, so the next sync resumes there.
    public func recordSync(of space: SpaceID, with server: String, cursor: Int64 = 0) throws(ReplicaError) {
        let now = Int64(bitPattern: clock.wall.millisecondsSinceEpoch())
        try write { db in
            try db.execute(
                sql: """
                    INSERT INTO sync_state (space_id, server, last_sync_at, acknowledged_seq) VALUES (?, ?, ?, ?)
                    ON CONFLICT (space_id, server) DO UPDATE SET last_sync_at = excluded.last_sync_at,
                        acknowledged_seq = excluded.acknowledged_seq
                    """, arguments: [space.blob, server, now, cursor])
        }
    }

    /// Where the last sync of a space with a server left the server's scan (0: the start).
    public nonisolated func syncCursor(of space: SpaceID, with server: String) throws(ReplicaError) -> Int64 {
        do {
            return try database.read { db in
                try Row.fetchOne(
                    db, sql: "SELECT acknowledged_seq FROM sync_state WHERE space_id = ? AND server = ?", arguments: [space.blob, server]
                )?.required("acknowledged_seq", of: "sync_state", \.storedInt64) ?? 0
            }
        } catch {
            throw ReplicaError(storageFailure: error)
        }
    }

    /// When each space last synced with each server (milliseconds since the epoch).
    public nonisolated func lastSyncs() throws(ReplicaError) -> [(space: SpaceID, server: String, at: Int64)] {
        do {
            return try database.read { db in
                try Row.fetchAll(db, sql: "SELECT space_id, server, last_sync_at FROM sync_state ORDER BY server").map {
                    row throws(DamagedRow) in
                    (
                        try row.required("space_id", of: "sync_state", \.storedSpaceID),
                        try row.required("server", of: "sync_state", \.storedString),
                        try row.required("last_sync_at", of: "sync_state", \.storedInt64)
                    )
                }
            }
        } catch {
            throw ReplicaError(storageFailure: error)
        }
    }
}

/// Where a page of changes may end: once every author in it stands at one of its signed
/// heads (or past its last one: changes stored before signing).
private struct PageCut {
    let space: SpaceID
    let vector: VersionVector
    /// Per author in the page: the last counter reached, and the counters it signed past `vector`.
    private var reached: [ReplicaID: UInt64] = [:]
    private var signedCounters: [ReplicaID: [UInt64]] = [:]
    private var unsettled: Set<ReplicaID> = []

    init(space: SpaceID, vector: VersionVector) {
        self.space = space
        self.vector = vector
    }

    var settled: Bool { unsettled.isEmpty }

    mutating func reach(_ change: Change, _ db: Database) throws {
        let author = change.replica
        let end = change.lastCounter
        reached[author] = end
        if signedCounters[author] == nil {
            signedCounters[author] = try ChainStore.headCounters(of: author, in: space, after: vector[author], db)
        }
        let counters = signedCounters[author]!
        if let last = counters.last, end < last, !Self.contains(counters, end) {
            unsettled.insert(author)
        } else {
            unsettled.remove(author)
        }
    }

    /// The heads of every author in the page, from past `vector` to where the page reaches.
    func heads(_ db: Database) throws -> [ChainHead] {
        var heads: [ChainHead] = []
        for (author, end) in reached.sorted(by: { $0.key < $1.key }) where !(signedCounters[author]?.isEmpty ?? true) {
            heads += try ChainStore.heads(of: author, in: space, in: (vector[author] + 1)...end, db)
        }
        return heads
    }

    private static func contains(_ sorted: [UInt64], _ value: UInt64) -> Bool {
        var low = 0
        var high = sorted.count
        while low < high {
            let middle = (low + high) / 2
            if sorted[middle] < value { low = middle + 1 } else { high = middle }
        }
        return low < sorted.count && sorted[low] == value
    }
}
