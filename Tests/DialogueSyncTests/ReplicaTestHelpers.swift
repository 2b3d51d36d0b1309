import DialogueModel
import DialogueTestSupport
import Foundation
import GRDB
import Testing

@testable import DialogueSync

/// A wall clock that only moves when the test moves it, so timestamps are reproducible.
final class ManualWallClock: WallClock, @unchecked Sendable {
    private let lock = NSLock()
    private var now: UInt64

    init(_ start: UInt64) { now = start }

    func millisecondsSinceEpoch() -> UInt64 { lock.withLock { now } }

    func advance(by milliseconds: UInt64) { lock.withLock { now += milliseconds } }
}

/// Entity identifiers drawn from a seeded generator, for `Replica(entityIDs:)`.
final class SeededEntityIDs: @unchecked Sendable {
    private let lock = NSLock()
    private var generator: SplitMix64

    init(seed: UInt64) { generator = SplitMix64(seed: seed) }

    func next() -> EntityID { lock.withLock { EntityID.random(using: &generator) } }
}

/// Sends what `to` lacks of `space` from `from`, as one merge.
func sync(_ space: SpaceID, from: Replica, to: Replica) async throws {
    let vector = try to.heldVectors()[space] ?? VersionVector()
    try await to.merge(try from.changes(in: space, missingFrom: vector, limit: 100_000).changes)
}

/// Creates a replica file whose identity is chosen by the test (the replica keeps the
/// `replica_id` it finds in `meta`), so tie-breaks between replicas are reproducible.
func createReplicaFile(at path: String, id: ReplicaID) throws {
    let queue = try DatabaseQueue(path: path)
    try ReplicaSchema.migrator.migrate(queue)
    try queue.write { db in
        try db.execute(sql: "INSERT INTO meta (key, value) VALUES ('replica_id', ?)", arguments: [id.storedValue])
    }
    try queue.close()
}

/// What a refused operation must leave untouched.
struct ReplicaSnapshot: Equatable {
    var exports: [SpaceID: [UInt8]]
    var vectors: [SpaceID: VersionVector]
    var blockCount: Int
    var pendingCount: Int
    var spaceRows: Int
    var sessionRows: Int
    /// Replica identity and clock high-water mark.
    var meta: [String: Int64]

    init(_ replica: Replica) async throws {
        var exports: [SpaceID: [UInt8]] = [:]
        for space in await replica.spaces {
            exports[space] = try #require(await replica.document(space)).canonicalExport()
        }
        self.exports = exports
        vectors = try replica.heldVectors()
        (blockCount, pendingCount, spaceRows, sessionRows) = try await replica.database.read { db in
            (
                try Int.fetchOne(db, sql: "SELECT count(*) FROM change_blocks") ?? -1,
                try Int.fetchOne(db, sql: "SELECT count(*) FROM pending_changes") ?? -1,
                try Int.fetchOne(db, sql: "SELECT count(*) FROM spaces") ?? -1,
                try Int.fetchOne(db, sql: "SELECT count(*) FROM sessions") ?? -1
            )
        }
        meta = try await replica.database.read { db in
            Dictionary(
                uniqueKeysWithValues: try Row.fetchAll(db, sql: "SELECT key, value FROM meta").map { row in
                    (row["key"] as String, row["value"] as Int64)
                })
        }
    }
}

/// Certifies `replica` for `member` as a login would, under a throwaway server key, so its
/// edits may name that member as their author (authorship is derived from the certificate).
func certify(_ replica: Replica, as member: EntityID, memberName: String = "Test Member") async throws {
    let server = SigningKeyPair()
    let school = UUID()
    let certificate = DeviceCertificate.issue(
        replica: replica.id, publicKey: replica.devicePublicKey, member: member.uuid, memberName: memberName, school: school,
        schoolName: "Test School", issuedAt: 1, signedBy: server)
    let directory = SpaceDirectory.issue(member: member.uuid, issuedAt: 1, entries: [], signedBy: server)
    try await replica.adopt(
        VerifiedRegistration(
            ring: ServerKeyRing(pinned: server.publicKey), certificate: certificate, directory: directory, startsNewPin: true))
}
