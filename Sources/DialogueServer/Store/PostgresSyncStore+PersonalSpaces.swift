import DialogueModel
import Foundation
import PostgresNIO

/// Personal spaces in PostgreSQL: table `personal_spaces` (member, space), a small
/// reference table like the other account tables.
extension PostgresSyncStore {
    /// Created by ``migrate()`` (idempotent); then every member without one gets one, under
    /// the migration's lock (members made later get theirs with the member, or at first use).
    static let personalSpaceTables: [PostgresQuery] = [
        """
        CREATE TABLE IF NOT EXISTS personal_spaces (
            member_id uuid PRIMARY KEY REFERENCES members, space_id uuid NOT NULL UNIQUE
        )
        """,
        """
        INSERT INTO personal_spaces (member_id, space_id) SELECT member_id, gen_random_uuid() FROM members
        ON CONFLICT (member_id) DO NOTHING
        """,
    ]

    public func personalSpace(of member: UUID) async throws -> SpaceID {
        if let known = try await storedPersonalSpace(of: member) { return known }
        try await requirePersonalSpaceOwner(member)
        // Of two processes making it at once, one inserts and the other reads the same row.
        try await client.query(
            "INSERT INTO personal_spaces (member_id, space_id) VALUES (\(member), \(UUID())) ON CONFLICT (member_id) DO NOTHING",
            logger: logger)
        guard let space = try await storedPersonalSpace(of: member) else { throw StoreError.notFound("member \(member)") }
        return space
    }

    func storedPersonalSpace(of member: UUID) async throws -> SpaceID? {
        let rows = try await client.query("SELECT space_id FROM personal_spaces WHERE member_id = \(member)", logger: logger)
        for try await space in rows.decode(UUID.self) { return SpaceID(space) }
        return nil
    }

    private func requirePersonalSpaceOwner(_ member: UUID) async throws {
        let rows = try await client.query("SELECT 1 FROM members WHERE member_id = \(member)", logger: logger)
        for try await _ in rows.decode(Int32.self) { return }
        throw StoreError.notFound("member \(member)")
    }

    public func personalSpaces() async throws -> [UUID: SpaceID] {
        var spaces: [UUID: SpaceID] = [:]
        let rows = try await client.query("SELECT member_id, space_id FROM personal_spaces", logger: logger)
        for try await (member, space) in rows.decode((UUID, UUID).self) { spaces[member] = SpaceID(space) }
        return spaces
    }
}
