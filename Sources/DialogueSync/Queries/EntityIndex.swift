import DialogueModel
import Foundation
import GRDB

// Looking entities up in the materialised tables: kinds, spaces, names and titles, the
// people and prompts of a space. What name and prefix resolution, short ids and the
// exports read, so that none of them builds a space's document from its change log.

extension ReplicaQueries {
    /// The field holding the name or title of a kind that has one.
    private static func labelField(of kind: EntityKind) -> FieldDescriptor? {
        switch kind {
        case .member: Member.Key.displayName.descriptor
        case .school: School.Key.name.descriptor
        case .partnership: Partnership.Key.name.descriptor
        case .session: DialogueSession.Key.title.descriptor
        case .prompt: Prompt.Key.text.descriptor
        case .insight, .action, .space: nil
        }
    }

    /// The name or title of a kind that has one, read from its row's `fields`.
    static func label(of kind: EntityKind, _ fields: inout StoredFields) -> String? {
        labelField(of: kind).flatMap { fields.read($0, as: String.self) }
    }

    /// The column of ``label(of:_:)``, for a SELECT list.
    private static func labelColumn(of kind: EntityKind) -> String? {
        guard case .column(let column) = labelField(of: kind)?.storage else { return nil }
        return column
    }

    /// Every entity of `kinds` held, live or (with `deleted`) hidden by a deletion and not
    /// erased (erased entities have no row), with its space and label; by kind, then id.
    static func entities(_ db: Database, kinds: [EntityKind], deleted: Bool = false) throws -> [EntityMatch] {
        var found: [EntityMatch] = []
        for kind in kinds {
            guard let spec = MaterializedTables.spec(for: kind) else { continue }
            let label = labelColumn(of: kind).map { ", \($0)" } ?? ""
            let rows = try Row.fetchAll(
                db, sql: "SELECT \(spec.key), space_id\(label) FROM \(spec.table) WHERE deleted = ? ORDER BY \(spec.key)",
                arguments: [deleted])
            for row in rows {
                guard let id = entityID(row, spec.key), let space = spaceID(row, "space_id") else { continue }
                var fields = StoredFields(row)
                found.append(EntityMatch(id: id, kind: kind, space: space, label: Self.label(of: kind, &fields)))
            }
        }
        return found
    }

    /// The kind and space of the live entity `id`, or `nil` when none is held.
    static func liveEntity(_ db: Database, _ id: EntityID) throws -> (kind: EntityKind, space: SpaceID)? {
        for kind in EntityKind.allCases {
            guard let spec = MaterializedTables.spec(for: kind) else { continue }
            let row = try Row.fetchOne(
                db, sql: "SELECT space_id FROM \(spec.table) WHERE \(spec.key) = ? AND deleted = 0 ORDER BY space_id",
                arguments: [id.blob])
            if let row, let space = spaceID(row, "space_id") { return (kind, space) }
        }
        return nil
    }

    /// The row of entity `id` of `kind` in `space`, deleted or not (a deleted entity still
    /// has its name), or `nil`.
    static func row(_ db: Database, of kind: EntityKind, _ id: EntityID, in space: SpaceID) throws -> Row? {
        guard let spec = MaterializedTables.spec(for: kind) else { return nil }
        return try Row.fetchOne(
            db, sql: "SELECT * FROM \(spec.table) WHERE \(spec.key) = ? AND space_id = ?", arguments: [id.blob, space.blob])
    }

    /// The live members of a space, by id.
    static func members(_ db: Database, in space: SpaceID) throws -> [MemberRecord] {
        try Row.fetchAll(db, sql: "SELECT * FROM members WHERE space_id = ? AND deleted = 0 ORDER BY member_id", arguments: [space.blob])
            .compactMap { row in
                guard let id = entityID(row, "member_id") else { return nil }
                var fields = StoredFields(row)
                return MemberRecord(
                    id: id, space: space, name: fields.read(Member.Key.displayName), role: fields.read(Member.Key.role),
                    homeSchool: fields.read(Member.Key.homeSchool))
            }
    }

    /// The live prompts of a space, by id.
    static func prompts(_ db: Database, in space: SpaceID) throws -> [PromptExport] {
        try Row.fetchAll(db, sql: "SELECT * FROM prompts WHERE space_id = ? AND deleted = 0 ORDER BY prompt_id", arguments: [space.blob])
            .compactMap { row in
                guard let id = entityID(row, "prompt_id") else { return nil }
                var fields = StoredFields(row)
                return PromptExport(
                    id: id, text: fields.read(Prompt.Key.text), theme: fields.read(Prompt.Key.theme), source: fields.read(Prompt.Key.source)
                )
            }
    }
}

/// A member as a space records them (``Replica/members(in:)``).
public struct MemberRecord: Sendable, Hashable, Codable {
    /// The member.
    public var id: EntityID
    /// The space holding the record.
    public var space: SpaceID
    /// Their display name, as the space records it.
    public var name: String?
    /// Their role.
    public var role: MemberRole?
    /// Their home school.
    public var homeSchool: EntityID?

    /// Creates a member record from its parts.
    public init(id: EntityID, space: SpaceID, name: String?, role: MemberRole?, homeSchool: EntityID?) {
        (self.id, self.space, self.name, self.role, self.homeSchool) = (id, space, name, role, homeSchool)
    }
}

extension Replica {
    /// The live members a space records, by id (from the materialised tables).
    public nonisolated func members(in space: SpaceID) throws(ReplicaError) -> [MemberRecord] {
        try readForQuery { db in try ReplicaQueries.members(db, in: space) }
    }

    /// The live schools a space records, by id: each one's id and name.
    public nonisolated func schools(in space: SpaceID) throws(ReplicaError) -> [EntityMatch] {
        try readForQuery { db in try ReplicaQueries.entities(db, kinds: [.school]).filter { $0.space == space } }
    }

    /// The live prompts a space holds, by id (from the materialised tables).
    public nonisolated func prompts(in space: SpaceID) throws(ReplicaError) -> [PromptExport] {
        try readForQuery { db in try ReplicaQueries.prompts(db, in: space) }
    }

    /// The text of prompt `id` as `space` holds it (deleted or not), or `nil`.
    public nonisolated func promptText(_ id: EntityID, in space: SpaceID) -> String? {
        try? readForQuery { db in
            try ReplicaQueries.row(db, of: .prompt, id, in: space).flatMap { row in
                var fields = StoredFields(row)
                return fields.read(Prompt.Key.text)
            }
        }
    }

    /// Whether the merge document of `space` has been built in this process (for tests
    /// proving a read builds none).
    func hasBuiltDocument(_ space: SpaceID) -> Bool { documents[space] != nil }
}
