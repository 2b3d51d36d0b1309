import DialogueModel
import DialogueSync
import Foundation

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
        // A prefix of 4+ hex digits names a held space, as ids of entities do; else it is a name.
        if let prefix = Self.typedIDPrefix(given.text) {
            let matching = spaces.filter { $0.uuid.uuidString.lowercased().filter { $0 != "-" }.hasPrefix(prefix) }
            if matching.count == 1 { return matching[0] }
            if matching.count > 1 {
                let names = try spaceNames()
                throw ClientError.usage(
                    "'\(Terminal.line(given.text))' matches \(matching.count) spaces; type more of the id: "
                        + Self.list(matching.map { names.space($0) })
                ).with(code: EntityLookupError.Code.ambiguous.rawValue)
            }
        }
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

extension Replica {
    /// The entity of `kind` (any kind when `nil`) that `argument` names: the one place the
    /// command line turns a typed id, prefix or name into an id. Besides the live entities
    /// held (``Replica/entities(matching:kind:)``), a member or school the server names
    /// (people directory, device certificates), and a starter prompt, count.
    ///
    /// - Throws: ``ClientError`` 66 (`not_found`) when nothing matches; 64 (`ambiguous`),
    ///   listing the candidates with their short ids, when several do. With no kind, a full
    ///   id that matches nothing live is passed through (the history of a deleted entity),
    ///   and so is a full id of another kind (refused by the command as the wrong kind, 65).
    func resolve(_ argument: IDArgument, _ kind: EntityKind?) async throws -> EntityID {
        try await resolveOne(argument, kind)
    }

    /// ``resolve(_:_:)`` among the deleted (not erased) entities instead of the live ones:
    /// what `restore` names.
    func resolveDeleted(_ argument: IDArgument, _ kind: EntityKind) async throws -> EntityID {
        try await resolveOne(argument, kind, deleted: true)
    }

    /// ``resolve(_:_:)`` for an optional argument.
    func resolve(_ argument: IDArgument?, _ kind: EntityKind?) async throws -> EntityID? {
        guard let argument else { return nil }
        return try await resolveOne(argument, kind)
    }

    private func resolveOne(_ argument: IDArgument, _ kind: EntityKind?, deleted: Bool = false) async throws -> EntityID {
        var matches = entities(matching: argument.text, kind: kind, deleted: deleted)
        for extra in deleted ? [] : try unheldMatches(argument.text, kind: kind) where !matches.contains(where: { $0.id == extra.id }) {
            matches.append(extra)
        }
        if matches.count == 1 { return matches[0].id }
        let what = (deleted ? "deleted " : "") + (kind.map { $0.displayName.lowercased() } ?? "entity")
        let typed = Terminal.line(argument.text)
        if matches.isEmpty {
            if deleted {
                throw ClientError.notFound("no \(what) '\(typed)' in this replica; check the id or name (or sync first)")
                    .with(code: EntityLookupError.Code.notFound.rawValue)
            }
            // A full id of another kind goes on, for the library's "not a session" (65).
            if let id = EntityID(argument.text), kind == nil || !entities(matching: argument.text).isEmpty { return id }
            throw ClientError.notFound("no \(what) '\(typed)' in this replica; check the id or name (or sync first)")
                .with(code: EntityLookupError.Code.notFound.rawValue)
        }
        let short = shortIDs(matches.map(\.id))
        let listed = matches.map { match in
            "  \(short[match.id] ?? match.id.description)  \(match.kind.displayName.lowercased())"
                + (match.label.map { "  \(Terminal.line($0))" } ?? "")
        }
        throw ClientError.usage("'\(typed)' matches \(matches.count) \(what)s; type more of the id:\n" + listed.joined(separator: "\n"))
            .with(code: EntityLookupError.Code.ambiguous.rawValue)
    }

    /// Members and schools that the server names (people directory, device certificates),
    /// and starter prompts, that `text` names by id prefix or (ignoring case) by name: known
    /// without being entities held.
    private func unheldMatches(_ text: String, kind: EntityKind?) throws -> [EntityMatch] {
        let prefix = Self.typedIDPrefix(text)
        let name = text.trimmingCharacters(in: .whitespaces)
        func named(_ id: EntityID, _ label: String) -> Bool {
            (prefix.map { Self.id(id, hasPrefix: $0) } ?? false) || label.compare(name, options: .caseInsensitive) == .orderedSame
        }
        // Entities not held have no space: the match's space is unused by the caller.
        let nowhere = SpaceID(UUID(uuid: (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)))
        var found: [EntityMatch] = []
        if kind == nil || kind == .member || kind == .school {
            let names = try authorNames()
            if kind != .school {
                for member in names.members where named(member.id, member.name) {
                    found.append(EntityMatch(id: member.id, kind: .member, space: nowhere, label: member.name))
                }
            }
            if kind != .member {
                for school in names.schools where named(school.id, school.name) {
                    found.append(EntityMatch(id: school.id, kind: .school, space: nowhere, label: school.name))
                }
            }
        }
        if kind == nil || kind == .prompt {
            for starter in PromptLibrary.starter where named(starter.id, starter.text) {
                found.append(EntityMatch(id: starter.id, kind: .prompt, space: nowhere, label: starter.text))
            }
        }
        var seen: Set<EntityID> = []
        return found.filter { seen.insert($0.id).inserted }
    }
}
