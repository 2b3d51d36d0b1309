import DialogueModel
import DialogueSync
import Foundation
import GRDB

/// The signed heads of the changes the SQLite store holds (docs/TRUST.md, "Storage").
extension SQLiteSyncStore {
    /// The table of migration `v3-chain-heads`. A store from before it holds no heads: its
    /// changes are served as they were stored.
    static func createChainHeadTables(_ db: Database) throws {
        try db.execute(
            sql: """
                CREATE TABLE chain_heads (
                    space_id BLOB NOT NULL, replica INTEGER NOT NULL, counter INTEGER NOT NULL, hash BLOB NOT NULL,
                    signature BLOB NOT NULL, PRIMARY KEY (space_id, replica, counter)
                ) WITHOUT ROWID;
                """)
    }

    /// Migration `v4-legacy-vectors`: what the store holds of each space when this version
    /// first opens it is its *legacy vector* (docs/TRUST.md, "Migration"), recorded once,
    /// in the migration's transaction, and never written again (a space created later has
    /// none: an empty vector).
    static func recordLegacyVectors(_ db: Database) throws {
        try db.execute(
            sql: """
                CREATE TABLE legacy_vectors (
                    space_id BLOB NOT NULL, replica INTEGER NOT NULL, counter INTEGER NOT NULL, PRIMARY KEY (space_id, replica)
                ) WITHOUT ROWID;
                INSERT INTO legacy_vectors (space_id, replica, counter) SELECT space_id, replica, counter FROM server_vectors;
                """)
    }

    /// The legacy vector of `space` (empty when the store held nothing of it before signing).
    static func legacyVector(of space: SpaceID, _ db: Database) throws -> VersionVector {
        var vector = VersionVector()
        for row in try Row.fetchAll(
            db.cachedStatement(sql: "SELECT replica, counter FROM legacy_vectors WHERE space_id = ?"), arguments: [space.storeBlob])
        {
            vector[try row.required("replica", of: "legacy_vectors", \.storedReplicaID)] =
                try row.required("counter", of: "legacy_vectors", \.storedCounter)
        }
        return vector
    }

    static func store(_ heads: [ChainHead], in space: SpaceID, _ db: Database) throws {
        guard !heads.isEmpty else { return }
        let insert = try db.cachedStatement(
            sql: "INSERT OR IGNORE INTO chain_heads (space_id, replica, counter, hash, signature) VALUES (?, ?, ?, ?, ?)")
        for head in heads where head.space == space {
            try insert.execute(arguments: [
                space.storeBlob, Int64(bitPattern: head.replica.rawValue), Int64(bitPattern: head.counter), Data(head.hash),
                Data(head.signature),
            ])
        }
    }

    public func chainHeads(in space: SpaceID, covering ranges: [ReplicaID: ClosedRange<UInt64>]) async throws -> [ChainHead] {
        guard !ranges.isEmpty else { return [] }
        return try await database.read { db in
            let select = try db.cachedStatement(
                sql: """
                    SELECT counter, hash, signature FROM chain_heads WHERE space_id = ? AND replica = ? AND counter >= ? AND counter <= ?
                    ORDER BY counter
                    """)
            var heads: [ChainHead] = []
            for (replica, range) in ranges.sorted(by: { $0.key < $1.key }) {
                let rows = try Row.fetchAll(
                    select,
                    arguments: [
                        space.storeBlob, Int64(bitPattern: replica.rawValue), Int64(bitPattern: range.lowerBound),
                        Int64(bitPattern: range.upperBound),
                    ])
                for row in rows { heads.append(Self.head(row, space: space, replica: replica)) }
            }
            return heads
        }
    }

    public func latestChainHeads(in space: SpaceID, of replicas: some Collection<ReplicaID>) async throws -> [ReplicaID: ChainHead] {
        guard !replicas.isEmpty else { return [:] }
        let replicas = Array(replicas)
        return try await database.read { db in
            // The primary key (space_id, replica, counter) makes each an index seek.
            let select = try db.cachedStatement(
                sql: "SELECT counter, hash, signature FROM chain_heads WHERE space_id = ? AND replica = ? ORDER BY counter DESC LIMIT 1")
            var heads: [ReplicaID: ChainHead] = [:]
            for replica in replicas {
                guard let row = try Row.fetchOne(select, arguments: [space.storeBlob, Int64(bitPattern: replica.rawValue)]) else {
                    continue
                }
                heads[replica] = Self.head(row, space: space, replica: replica)
            }
            return heads
        }
    }

    private static func head(_ row: Row, space: SpaceID, replica: ReplicaID) -> ChainHead {
        ChainHead(
            space: space, replica: replica, counter: UInt64(bitPattern: row[0]), hash: [UInt8](row[1] as Data? ?? Data()),
            signature: [UInt8](row[2] as Data? ?? Data()))
    }
}
