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

    /// The space a command works in: `--space`, or the only one held besides the member's
    /// personal space (which is chosen by naming it, unless it is the only space held).
    /// Errors list the spaces held by name (from the verified directory) and id.
    func chooseSpace(_ given: SpaceID?) async throws -> SpaceID {
        let held = spaces
        if let given {
            guard held.contains(given) else {
                let names = try spaceNames()
                throw ClientError.notFound(
                    "this replica holds no space \(names.space(given).oneLine.description)"
                        + (held.isEmpty ? "; run `dialogue-client init --space UUID`" : "; it holds \(Self.list(names.heldSpaces))"))
            }
            return given
        }
        // Your personal space is where you reflect alone: it is used when named.
        let personal = try personalSpace()?.space
        let candidates = held.count > 1 ? held.filter { $0 != personal } : held
        guard candidates.count == 1, let only = candidates.first else {
            throw ClientError.usage(
                held.isEmpty
                    ? "this replica holds no space; run `dialogue-client init --space UUID`"
                    : "this replica holds \(held.count) spaces; pass --space (one of \(Self.list(try spaceNames().heldSpaces)))")
        }
        return only
    }

    /// The space a command works in, as typed (`--space UUID|NAME`), or the only one held.
    /// A name is looked up in the verified directory; a space the member may hold but this
    /// replica does not is refused, saying how to hold it.
    func chooseSpace(_ given: SpaceArgument?) async throws -> SpaceID {
        guard let given else { return try await chooseSpace(nil as SpaceID?) }
        if let id = SpaceID(given.text) { return try await chooseSpace(id) }
        let named = try space(named: given.text)
        guard named.held else {
            throw ClientError.notFound(
                "this replica does not hold \(named.oneLine.description); hold it with `dialogue-client init --space '\(named.oneLine.name ?? named.id.description)'`")
        }
        return named.id
    }

    /// `[given]` when a space is given (resolved and checked), else every space held.
    func spacesOrAll(_ given: SpaceArgument?) async throws -> [SpaceID] {
        if let given { return [try await chooseSpace(given)] }
        return spaces
    }

    /// Spaces as an error lists them: "North Partnership (5ace…), 5ace… (not in your directory)".
    static func list(_ spaces: [NamedSpace]) -> String {
        spaces.map(\.oneLine.description).joined(separator: ", ")
    }

    /// A display name for a member or school id held in a space; else, for a member, the
    /// name a certificate of one of their devices gives; else the id.
    func name(of id: EntityID?, in space: SpaceID) -> String {
        guard let id else { return "-" }
        if let document = document(space) {
            if let member = Member(id, in: document), let name = member.displayName { return name }
            if let school = School(id, in: document), let name = school.name { return name }
        }
        return (try? authorNames().member(id)?.name) ?? id.description
    }

    /// A member's name and school's name, for a column: from the certificate of one of
    /// their devices when held (what the server certified), else as named in the space.
    func person(_ id: EntityID, in space: SpaceID, names: AuthorNames) -> (name: String, school: String) {
        if let certified = names.member(id) { return (certified.name, certified.schoolName) }
        let document = document(space)
        let home = document.flatMap { Member(id, in: $0)?.homeSchool }
        return (name(of: id, in: space), home.map { name(of: $0, in: space) } ?? "")
    }
}

extension Replica {
    /// `[given]` when a space is given (checked), else every space held.
    func spacesOrAll(_ given: SpaceID?) async throws -> [SpaceID] {
        if let given { return [try await chooseSpace(given)] }
        return spaces
    }
}
