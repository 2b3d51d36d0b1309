import DialogueModel
import DialogueSync
import Foundation
import GRDB

/// What subject access reads from the SQLite store beyond the other requests.
extension SQLiteSyncStore {
    public func tokens(ofMember member: UUID) async throws -> [TokenListing] {
        try await database.read { db in
            try Row.fetchAll(
                db, sql: "SELECT token_id, label, issued_at, revoked_at FROM tokens WHERE member_id = ? ORDER BY issued_at, token_id",
                arguments: [member.storeBlob]
            ).map { row throws(DamagedRow) in
                TokenListing(
                    id: try row.required("token_id", of: "tokens", \.storedUUID),
                    label: try row.required("label", of: "tokens", \.storedString),
                    issuedAt: try row.required("issued_at", of: "tokens", \.storedInt64),
                    revokedAt: try row.nullable("revoked_at", of: "tokens", \.storedInt64))
            }
        }
    }

    public func legacyVectors(of spaces: [SpaceID]) async throws -> [SpaceID: VersionVector] {
        try await database.read { db in
            var vectors: [SpaceID: VersionVector] = [:]
            for space in spaces {
                let vector = try Self.legacyVector(of: space, db)
                if !vector.counters.isEmpty { vectors[space] = vector }
            }
            return vectors
        }
    }
}
