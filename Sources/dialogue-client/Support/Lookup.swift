import DialogueModel
import DialogueSync

/// Finding what an identifier names, across the spaces a replica holds: the library's
/// lookups (``Replica/space(holding:kind:)``, ``Replica/soleSpace()``) with the command
/// line's messages.
extension Replica {
    /// The space holding a live entity of `kind` (66 when none does).
    func requireSpace(holding id: EntityID, kind: EntityKind) async throws -> SpaceID {
        guard let space = try space(holding: id, kind: kind) else {
            throw ClientError.notFound("no \(kind.displayName.lowercased()) \(id) in this replica; check the id (or sync first)")
        }
        return space
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
        guard let only = try soleSpace() else {
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
                "this replica does not hold \(named.oneLine.description); hold it with `dialogue-client init --space '\(named.oneLine.name ?? named.id.description)'`"
            )
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
}

extension Replica {
    /// `[given]` when a space is given (checked), else every space held.
    func spacesOrAll(_ given: SpaceID?) async throws -> [SpaceID] {
        if let given { return [try await chooseSpace(given)] }
        return spaces
    }
}
