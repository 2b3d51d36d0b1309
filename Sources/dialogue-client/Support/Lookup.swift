import DialogueModel
import DialogueSync

/// Finding what an identifier names, across the spaces a replica holds.
extension Replica {
    /// The space holding a live entity of `kind` (66 when none does).
    func space(holding id: EntityID, kind: EntityKind) async throws -> SpaceID {
        for space in spaces {
            guard let document = document(space), let found = document.kind(of: id), !document.isDeleted(id) else { continue }
            guard found == kind.rawValue else { throw ReplicaError.wrongKind(id, expected: kind, found: found) }
            return space
        }
        throw ClientError.notFound("no \(kind.displayName.lowercased()) \(id) in this replica; check the id (or sync first)")
    }

    /// The space a command works in: `--space`, or the only one held.
    func chooseSpace(_ given: SpaceID?) async throws -> SpaceID {
        let held = spaces
        if let given {
            guard held.contains(given) else { throw ReplicaError.unknownSpace(given) }
            return given
        }
        guard held.count == 1, let only = held.first else {
            throw ClientError.usage(
                held.isEmpty
                    ? "this replica holds no space; run `dialogue-client init --space UUID`"
                    : "this replica holds \(held.count) spaces; pass --space (one of \(held.map(\.description).joined(separator: ", ")))")
        }
        return only
    }

    /// A display name for a member, school or prompt id held in a space, else the id.
    func name(of id: EntityID?, in space: SpaceID) -> String {
        guard let id else { return "-" }
        guard let document = document(space) else { return id.description }
        if let member = Member(id, in: document), let name = member.displayName { return name }
        if let school = School(id, in: document), let name = school.name { return name }
        return id.description
    }
}

extension Replica {
    /// `[given]` when a space is given (checked), else every space held.
    func spacesOrAll(_ given: SpaceID?) async throws -> [SpaceID] {
        if let given { return [try await chooseSpace(given)] }
        return spaces
    }
}
