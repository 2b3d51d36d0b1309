import DialogueModel
import Foundation
import Logging
import NIOCore
import PostgresNIO

/// The signed heads of the changes the PostgreSQL store holds (docs/TRUST.md, "Storage").
/// Keyed by space first, like the change tables (distributed by space under Citus).
extension PostgresSyncStore {
    /// Created by ``migrate()`` (idempotent): a database from before it holds no heads.
    static let chainHeadTables: [PostgresQuery] = [
        """
        CREATE TABLE IF NOT EXISTS chain_heads (
            space_id uuid NOT NULL, replica bigint NOT NULL, counter bigint NOT NULL, hash bytea NOT NULL,
            signature bytea NOT NULL, PRIMARY KEY (space_id, replica, counter)
        )
        """
    ]

    /// Records each space's *legacy vector* (docs/TRUST.md, "Migration"): what the
    /// database holds when this version first opens it. Run by ``migrate()`` under its
    /// advisory lock, so of several processes opening one database at once the first
    /// creates the table and copies the vectors, and the others find it there and change
    /// nothing. Never written again: a space created later has none (an empty vector).
    static func recordLegacyVectors(_ connection: PostgresConnection, logger: Logger) async throws {
        var recorded = false
        for try await exists in try await connection.query("SELECT to_regclass('legacy_vectors') IS NOT NULL", logger: logger)
            .decode(Bool.self)
        {
            recorded = exists
        }
        guard !recorded else { return }
        try await connection.query(
            """
            CREATE TABLE legacy_vectors (
                space_id uuid NOT NULL, replica bigint NOT NULL, counter bigint NOT NULL, PRIMARY KEY (space_id, replica)
            )
            """, logger: logger)
        try await connection.query(
            "INSERT INTO legacy_vectors (space_id, replica, counter) SELECT space_id, replica, counter FROM server_vectors", logger: logger)
    }

    /// The legacy vectors of `spaces` (a space the database held nothing of is absent).
    public func legacyVectors(of spaces: [SpaceID]) async throws -> [SpaceID: VersionVector] {
        guard !spaces.isEmpty else { return [:] }
        let rows = try await client.query(
            "SELECT space_id, replica, counter FROM legacy_vectors WHERE space_id = ANY(\(spaces.map(\.uuid))::uuid[])", logger: logger)
        var vectors: [SpaceID: VersionVector] = [:]
        for try await (space, replica, counter) in rows.decode((UUID, Int64, Int64).self) {
            guard let id = ReplicaID(rawValue: UInt64(bitPattern: replica)) else { continue }
            vectors[SpaceID(space), default: VersionVector()][id] = UInt64(bitPattern: counter)
        }
        return vectors
    }

    /// Heads as the column arrays of an `unnest`.
    static func columns(of heads: [ChainHead]) -> (replicas: [Int64], counters: [Int64], hashes: [ByteBuffer], signatures: [ByteBuffer]) {
        (
            heads.map { Int64(bitPattern: $0.replica.rawValue) }, heads.map { Int64(bitPattern: $0.counter) },
            heads.map { ByteBuffer(bytes: $0.hash) }, heads.map { ByteBuffer(bytes: $0.signature) }
        )
    }

    public func chainHeads(in space: SpaceID, covering ranges: [ReplicaID: ClosedRange<UInt64>]) async throws -> [ChainHead] {
        guard !ranges.isEmpty else { return [] }
        let sorted = ranges.sorted { $0.key < $1.key }
        let replicas = sorted.map { Int64(bitPattern: $0.key.rawValue) }
        let lows = sorted.map { Int64(bitPattern: $0.value.lowerBound) }
        let highs = sorted.map { Int64(bitPattern: $0.value.upperBound) }
        let rows = try await client.query(
            """
            SELECT h.replica, h.counter, h.hash, h.signature FROM chain_heads h
            JOIN unnest(\(replicas)::int8[], \(lows)::int8[], \(highs)::int8[]) AS r(replica, low, high) ON h.replica = r.replica
            WHERE h.space_id = \(space.uuid) AND h.counter >= r.low AND h.counter <= r.high ORDER BY h.replica, h.counter
            """, logger: logger)
        var heads: [ChainHead] = []
        for try await (replica, counter, hash, signature) in rows.decode((Int64, Int64, ByteBuffer, ByteBuffer).self) {
            guard let id = ReplicaID(rawValue: UInt64(bitPattern: replica)) else { continue }
            heads.append(
                ChainHead(
                    space: space, replica: id, counter: UInt64(bitPattern: counter), hash: Array(buffer: hash),
                    signature: Array(buffer: signature)))
        }
        return heads
    }

    public func latestChainHeads(in space: SpaceID, of replicas: some Collection<ReplicaID>) async throws -> [ReplicaID: ChainHead] {
        guard !replicas.isEmpty else { return [:] }
        let wanted = replicas.map { Int64(bitPattern: $0.rawValue) }
        // One index seek per replica (primary key space_id, replica, counter), whatever the
        // number of heads the space holds.
        let rows = try await client.query(
            """
            SELECT r.replica, h.counter, h.hash, h.signature FROM unnest(\(wanted)::int8[]) AS r(replica)
            CROSS JOIN LATERAL (
                SELECT counter, hash, signature FROM chain_heads
                WHERE space_id = \(space.uuid) AND replica = r.replica ORDER BY counter DESC LIMIT 1
            ) h
            """, logger: logger)
        var heads: [ReplicaID: ChainHead] = [:]
        for try await (replica, counter, hash, signature) in rows.decode((Int64, Int64, ByteBuffer, ByteBuffer).self) {
            guard let id = ReplicaID(rawValue: UInt64(bitPattern: replica)) else { continue }
            heads[id] = ChainHead(
                space: space, replica: id, counter: UInt64(bitPattern: counter), hash: Array(buffer: hash),
                signature: Array(buffer: signature))
        }
        return heads
    }
}
