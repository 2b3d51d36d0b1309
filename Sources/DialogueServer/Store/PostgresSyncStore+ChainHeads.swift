import DialogueModel
import Foundation
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

    public func latestChainHeads(in space: SpaceID) async throws -> [ReplicaID: ChainHead] {
        let rows = try await client.query(
            """
            SELECT DISTINCT ON (replica) replica, counter, hash, signature FROM chain_heads
            WHERE space_id = \(space.uuid) ORDER BY replica, counter DESC
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
