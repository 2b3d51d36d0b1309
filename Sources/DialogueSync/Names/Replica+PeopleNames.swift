import DialogueModel
import GRDB

/// A person as a column shows them: their name and their school's name ("" when unknown).
public struct PersonName: Sendable, Hashable {
    /// The member's name (or their id when nothing names them).
    public var name: String
    /// Their school's name; "" when no school is known.
    public var school: String

    /// Creates a person's names from their parts.
    public init(name: String, school: String) {
        self.name = name
        self.school = school
    }
}

extension Replica {
    /// What ``displayName(of:in:names:)`` shows for an absent reference.
    public static let noName = "-"

    /// A display name for a member or school id held in `space`: the member's display name
    /// or the school's name as the space records them; else the name the server gives
    /// them (`names`: the people directory and device certificates, read from this replica
    /// when `nil`); else the id. ``noName`` ("-") when `id` is `nil`.
    public func displayName(of id: EntityID?, in space: SpaceID, names: AuthorNames? = nil) -> String {
        guard let id else { return Self.noName }
        if let name = recordedName(of: id, in: space) { return name }
        guard let names = names ?? (try? authorNames()) else { return id.description }
        return names.member(id)?.name ?? names.school(id) ?? id.description
    }

    /// ``displayName(of:in:names:)`` of each of `ids`, read in one pass over the tables (a
    /// record's participants: one read, not one per person).
    func displayNames(of ids: [EntityID], in space: SpaceID, names: AuthorNames?) -> [EntityID: String] {
        guard !ids.isEmpty else { return [:] }
        let placeholders = Array(repeating: "?", count: ids.count).joined(separator: ", ")
        let recorded =
            (try? readForQuery { db -> [EntityID: String] in
                var found: [EntityID: String] = [:]
                // Schools first, so that a member's name wins, as displayName reads them.
                for kind in [EntityKind.school, .member] {
                    guard let spec = MaterializedTables.spec(for: kind) else { continue }
                    let rows = try Row.fetchAll(
                        db, sql: "SELECT * FROM \(spec.table) WHERE space_id = ? AND \(spec.key) IN (\(placeholders))",
                        arguments: StatementArguments([space.blob] + ids.map(\.blob)))
                    for row in rows {
                        guard let id = ReplicaQueries.entityID(row, spec.key) else { continue }
                        var fields = StoredFields(row)
                        if let name = ReplicaQueries.label(of: kind, &fields) { found[id] = name }
                    }
                }
                return found
            }) ?? [:]
        let names = names ?? (try? authorNames())
        var result: [EntityID: String] = [:]
        for id in ids { result[id] = recorded[id] ?? names?.member(id)?.name ?? names?.school(id) ?? id.description }
        return result
    }

    /// A member's name and school's name, for a column: from the certificate of one of
    /// their devices when `names` holds one (what the server certified), else as the space
    /// names them and their home school (``displayName(of:in:names:)``).
    public func person(_ id: EntityID, in space: SpaceID, names: AuthorNames) -> PersonName {
        if let certified = names.member(id) { return PersonName(name: certified.name, school: certified.schoolName) }
        let home = memberRow(id, in: space).flatMap { row in
            var fields = StoredFields(row)
            return fields.read(Member.Key.homeSchool)
        }
        return PersonName(
            name: displayName(of: id, in: space, names: names), school: home.map { displayName(of: $0, in: space, names: names) } ?? "")
    }

    /// The space holding a live entity `id`, searched in space-id order; `nil` when no space
    /// held has it live.
    ///
    /// - Throws: ``ReplicaError/wrongKind(_:expected:found:)`` when the entity found is not a `kind`.
    public func space(holding id: EntityID, kind: EntityKind) throws(ReplicaError) -> SpaceID? {
        guard let found = try readForQuery({ db in try ReplicaQueries.liveEntity(db, id) }), spaces.contains(found.space) else {
            return nil
        }
        guard found.kind == kind else { throw .wrongKind(id, expected: kind, found: found.kind.rawValue) }
        return found.space
    }

    /// The name `space` records for member or school `id` (deleted or not), from the
    /// materialised tables.
    private func recordedName(of id: EntityID, in space: SpaceID) -> String? {
        if let row = memberRow(id, in: space) {
            var fields = StoredFields(row)
            if let name = fields.read(Member.Key.displayName) { return name }
        }
        let school = try? readForQuery { db in try ReplicaQueries.row(db, of: .school, id, in: space) }
        guard let row = school ?? nil else { return nil }
        var fields = StoredFields(row)
        return fields.read(School.Key.name)
    }

    private func memberRow(_ id: EntityID, in space: SpaceID) -> Row? {
        (try? readForQuery { db in try ReplicaQueries.row(db, of: .member, id, in: space) }) ?? nil
    }

    /// The space to work in when none is named: the only space held besides the member's
    /// personal space (which is used only when named, unless it is the only space held);
    /// `nil` when no space is held or several are.
    public func soleSpace() throws(ReplicaError) -> SpaceID? {
        let held = spaces
        // Your personal space is where you reflect alone: it is used when named.
        let personal = try personalSpace()?.space
        let candidates = held.count > 1 ? held.filter { $0 != personal } : held
        return candidates.count == 1 ? candidates[0] : nil
    }
}
