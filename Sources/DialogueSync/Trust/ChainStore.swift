import DialogueModel
import Foundation
import GRDB

/// Where the replica keeps the hash chains of the devices whose changes it holds
/// (docs/TRUST.md, "Storage"): every ``ChainHead`` it signed or accepted (`chain_heads`,
/// so it can relay them) and, per space and device, the position its log is verified up
/// to (`chain_positions`: counter and chain hash, the device's own included).
enum ChainStore {
    /// The tables (created by the "v8-chain-heads" migration).
    static let createTables = """
        CREATE TABLE chain_heads (
            space_id BLOB NOT NULL,
            replica INTEGER NOT NULL,
            counter INTEGER NOT NULL,
            hash BLOB NOT NULL,
            signature BLOB NOT NULL,
            PRIMARY KEY (space_id, replica, counter)
        ) WITHOUT ROWID;
        CREATE TABLE chain_positions (
            space_id BLOB NOT NULL,
            replica INTEGER NOT NULL,
            counter INTEGER NOT NULL,
            hash BLOB NOT NULL,
            PRIMARY KEY (space_id, replica)
        ) WITHOUT ROWID;
        """

    /// Where `replica`'s chain in `space` stands over what the log holds of it (`counter`,
    /// as the stored vector says): the stored position, advanced over any changes of the
    /// log after it (changes stored before signing, or merged without verification), so
    /// an existing replica's chain starts at counter 1 over its earlier changes. Changes
    /// past `counter` (a transaction being stored) are left out.
    static func held(of replica: ReplicaID, in space: SpaceID, upTo counter: UInt64, _ db: Database) throws -> DeviceChain {
        var chain = try position(of: replica, in: space, db) ?? DeviceChain(space: space, replica: replica)
        guard counter > chain.counter else { return chain }
        let blocks = try Row.fetchCursor(
            db, sql: "SELECT body FROM change_blocks WHERE \(ReplicaSchema.blocksOfSpace) ORDER BY block_id", arguments: [space.blob])
        while let row = try blocks.next() {
            let changes = try row.storedChanges(of: "change_blocks")
            // One author's changes are stored in counter order (the log is causal).
            let after = chain.counter
            try chain.advance(over: changes.lazy.filter { $0.replica == replica && $0.id.counter > after && $0.lastCounter <= counter })
        }
        return chain
    }

    /// The stored position of `replica` in `space`, if any.
    static func position(of replica: ReplicaID, in space: SpaceID, _ db: Database) throws -> DeviceChain? {
        guard
            let row = try Row.fetchOne(
                db, sql: "SELECT counter, hash FROM chain_positions WHERE space_id = ? AND replica = ?",
                arguments: [space.blob, replica.storedValue])
        else { return nil }
        let counter = try row.required("counter", of: "chain_positions") { $0.storedInt64.map(UInt64.init(bitPattern:)) }
        let hash = try row.required("hash", of: "chain_positions") { $0.storedBlob.flatMap { $0.count == 32 ? [UInt8]($0) : nil } }
        return DeviceChain(space: space, replica: replica, counter: counter, hash: hash)
    }

    /// Records where a chain stands (after a signed transaction or a verified run).
    static func store(_ chain: DeviceChain, _ db: Database) throws {
        try db.cachedStatement(
            sql: """
                INSERT INTO chain_positions (space_id, replica, counter, hash) VALUES (?, ?, ?, ?)
                ON CONFLICT (space_id, replica) DO UPDATE SET counter = excluded.counter, hash = excluded.hash
                """
        ).execute(arguments: [chain.space.blob, chain.replica.storedValue, Int64(bitPattern: chain.counter), Data(chain.hash)])
    }

    /// Stores heads signed or accepted (one already held is kept).
    static func store(_ heads: some Sequence<ChainHead>, _ db: Database) throws {
        let statement = try db.cachedStatement(
            sql: "INSERT OR IGNORE INTO chain_heads (space_id, replica, counter, hash, signature) VALUES (?, ?, ?, ?, ?)")
        for head in heads {
            try statement.execute(arguments: [
                head.space.blob, head.replica.storedValue, Int64(bitPattern: head.counter), Data(head.hash), Data(head.signature),
            ])
        }
    }

    /// The last counter at which `replica` signed in `space` (0: never); one index lookup.
    static func lastHeadCounter(of replica: ReplicaID, in space: SpaceID, _ db: Database) throws -> UInt64 {
        try Int64.fetchOne(
            db, sql: "SELECT max(counter) FROM chain_heads WHERE space_id = ? AND replica = ?",
            arguments: [space.blob, replica.storedValue]
        ).map { UInt64(bitPattern: $0) } ?? 0
    }

    /// The counters at which `replica` signed in `space` after `counter`, ascending.
    static func headCounters(of replica: ReplicaID, in space: SpaceID, after counter: UInt64, _ db: Database) throws -> [UInt64] {
        try Int64.fetchAll(
            db, sql: "SELECT counter FROM chain_heads WHERE space_id = ? AND replica = ? AND counter > ? ORDER BY counter",
            arguments: [space.blob, replica.storedValue, Int64(bitPattern: counter)]
        ).map { UInt64(bitPattern: $0) }
    }

    /// The heads of `replica` in `space` at counters in `range`, ascending.
    static func heads(of replica: ReplicaID, in space: SpaceID, in range: ClosedRange<UInt64>, _ db: Database) throws -> [ChainHead] {
        try Row.fetchAll(
            db,
            sql:
                "SELECT counter, hash, signature FROM chain_heads WHERE space_id = ? AND replica = ? AND counter BETWEEN ? AND ? ORDER BY counter",
            arguments: [space.blob, replica.storedValue, Int64(bitPattern: range.lowerBound), Int64(bitPattern: range.upperBound)]
        ).map { row throws(DamagedRow) in
            ChainHead(
                space: space, replica: replica,
                counter: try row.required("counter", of: "chain_heads") { $0.storedInt64.map(UInt64.init(bitPattern:)) },
                hash: try row.required("hash", of: "chain_heads") { $0.storedBlob.flatMap { $0.count == 32 ? [UInt8]($0) : nil } },
                signature: try row.required("signature", of: "chain_heads") { $0.storedBlob.flatMap { $0.count == 64 ? [UInt8]($0) : nil } }
            )
        }
    }
}
