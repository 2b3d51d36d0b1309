import DialogueModel
import DialogueSync
import Foundation
import GRDB

/// Personal spaces in the SQLite store: table `personal_spaces` (member, space), made by
/// migration `v7-personal-spaces`, which gives every existing member one.
extension SQLiteSyncStore {
    static func createPersonalSpaces(_ db: Database) throws {
        try db.execute(
            sql: """
                CREATE TABLE personal_spaces (
                    member_id BLOB PRIMARY KEY REFERENCES members (member_id), space_id BLOB NOT NULL UNIQUE
                ) WITHOUT ROWID
                """)
        for member in try Data.fetchAll(db, sql: "SELECT member_id FROM members") {
            try db.execute(
                sql: "INSERT INTO personal_spaces (member_id, space_id) VALUES (?, ?)", arguments: [member, UUID().storeBlob])
        }
    }

    public func personalSpace(of member: UUID) async throws -> SpaceID {
        if let known = try await database.read({ db in try Self.storedPersonalSpace(of: member, db) }) { return known }
        return try await database.write { db in try Self.personalSpace(of: member, db) }
    }

    /// The member's personal space, made if absent (inside the caller's write transaction).
    static func personalSpace(of member: UUID, _ db: Database) throws -> SpaceID {
        guard
            try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM members WHERE member_id = ?)", arguments: [member.storeBlob])
                == true
        else { throw StoreError.notFound("member \(member)") }
        try db.execute(
            sql: "INSERT OR IGNORE INTO personal_spaces (member_id, space_id) VALUES (?, ?)",
            arguments: [member.storeBlob, UUID().storeBlob])
        guard let space = try storedPersonalSpace(of: member, db) else { throw StoreError.notFound("member \(member)") }
        return space
    }

    static func storedPersonalSpace(of member: UUID, _ db: Database) throws -> SpaceID? {
        guard
            let row = try Row.fetchOne(
                db.cachedStatement(sql: "SELECT space_id FROM personal_spaces WHERE member_id = ?"), arguments: [member.storeBlob])
        else { return nil }
        return try row.required("space_id", of: "personal_spaces", \.storedSpaceID)
    }

    public func personalSpaces() async throws -> [UUID: SpaceID] {
        try await database.read { db in
            var spaces: [UUID: SpaceID] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT member_id, space_id FROM personal_spaces") {
                spaces[try row.required("member_id", of: "personal_spaces", \.storedUUID)] =
                    try row.required("space_id", of: "personal_spaces", \.storedSpaceID)
            }
            return spaces
        }
    }
}
