import DialogueModel
import Foundation

/// A space as a person knows it: its id with the name and kind the verified space
/// directory gives it (docs/TRUST.md, "Spaces have names").
///
/// A space the replica holds but its directory does not list (held before the first
/// login, or no longer listed for this member) has no name: ``displayName`` then shows
/// its id and says so, never a made-up name.
public struct NamedSpace: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The space.
    public var id: SpaceID
    /// The name the directory gives it (the school's name for its private space, the
    /// partnership's for a shared one); `nil` when the directory does not list it.
    public var name: String?
    /// Private to one school, or shared by a partnership; `nil` when not listed.
    public var kind: SpaceDirectory.Kind?
    /// Whether this replica holds it.
    public var held: Bool

    /// Creates a named space from its parts.
    public init(id: SpaceID, name: String?, kind: SpaceDirectory.Kind?, held: Bool) {
        self.id = id
        self.name = name
        self.kind = kind
        self.held = held
    }

    /// Whether the verified directory lists this space.
    public var inDirectory: Bool { name != nil }

    /// How a person reads it: "North Partnership", or
    /// "5ace0000-… (not in your directory)" when the directory does not list it.
    public var displayName: String { name ?? "\(id) \(Self.notInDirectory)" }

    /// What follows the id of a space the directory does not list.
    public static let notInDirectory = "(not in your directory)"

    /// ``displayName`` followed by the id (when named), as errors that list spaces show it:
    /// "North Partnership (5ace0000-…)".
    public var description: String { name.map { "\($0) (\(id))" } ?? displayName }
}

/// The names of spaces, read once from the verified directory: for rendering many rows
/// (a list that mixes spaces) without reading the directory per row.
public struct SpaceNames: Sendable {
    /// The directory the names come from; `nil` before the first login.
    public let directory: SpaceDirectory?
    /// The spaces the replica holds.
    public let held: Set<SpaceID>

    /// Names from `directory` for a replica holding `held`.
    public init(directory: SpaceDirectory?, held: some Sequence<SpaceID>) {
        self.directory = directory
        self.held = Set(held)
    }

    /// The space `id`, named if the directory lists it.
    public func space(_ id: SpaceID) -> NamedSpace {
        let entry = directory?.entry(for: id)
        return NamedSpace(id: id, name: entry?.name, kind: entry?.kind, held: held.contains(id))
    }

    /// The spaces held, named, by name (unnamed ones after, by id).
    public var heldSpaces: [NamedSpace] { Self.sorted(held.map(space)) }

    /// The spaces held or listed by the directory, named, by name (unnamed after, by id).
    public var knownSpaces: [NamedSpace] {
        Self.sorted(Set(held).union(directory?.entries.map(\.space) ?? []).map(space))
    }

    /// Resolves what a person typed for a space: its id (held or listed), or its name as
    /// the directory gives it (exactly, else ignoring case), among the spaces held and listed.
    ///
    /// - Throws: ``ReplicaError/spaceNotFound(_:known:)`` when nothing matches (listing the
    ///   spaces known, named), ``ReplicaError/ambiguousSpaceName(_:matches:)`` when a name
    ///   matches several.
    public func resolve(_ text: String) throws(ReplicaError) -> NamedSpace {
        let known = knownSpaces
        if let id = SpaceID(text) {
            if let found = known.first(where: { $0.id == id }) { return found }
            throw .spaceNotFound(text, known: known)
        }
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        var matches = known.filter { $0.name == trimmed }
        if matches.isEmpty {
            matches = known.filter { $0.name?.compare(trimmed, options: [.caseInsensitive]) == .orderedSame }
        }
        switch matches.count {
        case 1: return matches[0]
        case 0: throw .spaceNotFound(text, known: known)
        default: throw .ambiguousSpaceName(text, matches: matches)
        }
    }

    private static func sorted(_ spaces: [NamedSpace]) -> [NamedSpace] {
        spaces.sorted { a, b in
            switch (a.name, b.name) {
            case (let x?, let y?): x != y ? x < y : a.id < b.id
            case (.some, nil): true
            case (nil, .some): false
            case (nil, nil): a.id < b.id
            }
        }
    }
}

extension Replica {
    /// The names of spaces as this replica's verified directory gives them, with the set of
    /// spaces it holds: the lookup for lists that mix spaces.
    public func spaceNames() throws(ReplicaError) -> SpaceNames {
        SpaceNames(directory: try spaceDirectory(), held: held)
    }

    /// The spaces this replica holds, with their names and kinds from its verified space
    /// directory, by name (spaces the directory does not list after, by id).
    public func namedSpaces() throws(ReplicaError) -> [NamedSpace] {
        try spaceNames().heldSpaces
    }

    /// Resolves a space a person named: its id or its directory name, among the spaces this
    /// replica holds and those its directory lists (``NamedSpace/held`` says which).
    ///
    /// - Throws: ``ReplicaError/spaceNotFound(_:known:)`` or
    ///   ``ReplicaError/ambiguousSpaceName(_:matches:)``, both listing the candidates by name.
    public func space(named text: String) throws(ReplicaError) -> NamedSpace {
        try spaceNames().resolve(text)
    }
}
