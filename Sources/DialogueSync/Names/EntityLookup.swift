import DialogueModel
import Foundation

/// One live entity a typed identifier or name matched.
public struct EntityMatch: Sendable, Hashable, Codable {
    /// The entity.
    public var id: EntityID
    /// Its kind.
    public var kind: EntityKind
    /// The space holding it.
    public var space: SpaceID
    /// Its name or title, when its kind has one (a member's display name, a school's or
    /// partnership's name, a session's title, a prompt's text).
    public var label: String?

    /// Creates a match from its parts.
    public init(id: EntityID, kind: EntityKind, space: SpaceID, label: String?) {
        self.id = id
        self.kind = kind
        self.space = space
        self.label = label
    }
}

/// Why what a person typed for an entity resolves to no entity, or to several.
public struct EntityLookupError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What went wrong, as a stable code.
    public enum Code: String, Sendable, Hashable, Codable {
        /// Nothing live matches (`not_found`).
        case notFound = "not_found"
        /// Several live entities match (`ambiguous`): ``EntityLookupError/candidates`` lists them.
        case ambiguous
    }

    /// What went wrong.
    public var code: Code
    /// What was typed.
    public var text: String
    /// The kind looked for; `nil` for any kind.
    public var kind: EntityKind?
    /// The entities matched when ambiguous (by label, then id); empty when none matched.
    public var candidates: [EntityMatch]

    /// Creates an error from its parts.
    public init(code: Code, text: String, kind: EntityKind?, candidates: [EntityMatch] = []) {
        self.code = code
        self.text = text
        self.kind = kind
        self.candidates = candidates
    }

    /// "no member 'f9ab' in this replica" or "'f9ab' matches 2 members: …".
    public var description: String {
        let what = kind.map { $0.displayName.lowercased() } ?? "entity"
        switch code {
        case .notFound: return "no \(what) '\(text)' in this replica"
        case .ambiguous:
            let listed = candidates.map { match in match.label.map { "\($0) (\(match.id))" } ?? match.id.description }
            return "'\(text)' matches \(candidates.count) \(what)s: \(listed.joined(separator: ", "))"
        }
    }
}

extension Replica {
    /// The fewest hex digits an id prefix may have (as git asks for abbreviated hashes):
    /// shorter text is matched only as a name.
    public static let minimumIDPrefix = 4

    /// The live entities (of `kind`, or any kind) that `text` names, in every space held:
    /// by full id; by id prefix (at least ``minimumIDPrefix`` hex digits, hyphens optional,
    /// any case); or by name or title where the kind has one (exactly, else ignoring case
    /// and surrounding spaces). Sorted by label, then id.
    ///
    /// With `deleted`, the same among the entities deleted and not erased instead: what
    /// ``SpaceEditor/restore(_:kind:)`` can bring back.
    public func entities(matching text: String, kind: EntityKind? = nil, deleted: Bool = false) -> [EntityMatch] {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let prefix = Self.idPrefix(trimmed)
        var exactName: [EntityMatch] = []
        var foldedName: [EntityMatch] = []
        var byID: [EntityMatch] = []
        // From the materialised tables: no space's document is built to look a name up.
        let held = Set(spaces)
        let kinds = kind.map { [$0] } ?? EntityKind.allCases
        let candidates = (try? readForQuery { db in try ReplicaQueries.entities(db, kinds: kinds, deleted: deleted) }) ?? []
        for match in candidates where held.contains(match.space) {
            if let prefix, Self.hexDigits(of: match.id).hasPrefix(prefix) { byID.append(match) }
            if let label = match.label, !trimmed.isEmpty {
                if label == trimmed {
                    exactName.append(match)
                } else if label.compare(trimmed, options: [.caseInsensitive]) == .orderedSame {
                    foldedName.append(match)
                }
            }
        }
        // An exact name outranks a name in another case; an id always counts.
        let matches = byID + (exactName.isEmpty ? foldedName : exactName)
        var seen: Set<EntityID> = []
        return matches.filter { seen.insert($0.id).inserted }.sorted { ($0.label ?? "", $0.id) < ($1.label ?? "", $1.id) }
    }

    /// The entities of `kind` hidden by a deletion and not erased, sorted.
    static func deletedIDs(ofKind kind: EntityKind, in document: SpaceDocument) -> [EntityID] {
        document.entities.compactMap { id, lifecycle in
            lifecycle.kind.value == kind.rawValue && !lifecycle.deletions.isEmpty && document.isDeleted(id) && !document.isErased(id)
                ? id : nil
        }.sorted()
    }

    /// The one live entity `text` names (see ``entities(matching:kind:deleted:)``).
    ///
    /// - Throws: ``EntityLookupError`` `not_found` when nothing matches, `ambiguous` (with
    ///   the candidates) when several do.
    public func resolveEntity(_ text: String, kind: EntityKind? = nil) throws(EntityLookupError) -> EntityMatch {
        let matches = entities(matching: text, kind: kind)
        switch matches.count {
        case 1: return matches[0]
        case 0: throw EntityLookupError(code: .notFound, text: text, kind: kind)
        default: throw EntityLookupError(code: .ambiguous, text: text, kind: kind, candidates: matches)
        }
    }

    /// The shortest prefix of `id`'s hex digits, at least `minimum` long, that no other
    /// live entity held shares: what output shows so that it can be typed back.
    public func shortID(_ id: EntityID, minimum: Int = 8) -> String {
        let digits = Self.hexDigits(of: id)
        let others = liveIDs().filter { $0 != id }.map(Self.hexDigits(of:))
        var length = max(Self.minimumIDPrefix, min(minimum, digits.count))
        while length < digits.count, others.contains(where: { $0.hasPrefix(digits.prefix(length)) }) { length += 1 }
        return String(digits.prefix(length))
    }

    /// `text` as lower-case hex digits when it could be an id or id prefix (hex digits and
    /// hyphens, at least ``minimumIDPrefix`` digits), else `nil`.
    static func idPrefix(_ text: String) -> String? {
        let digits = text.lowercased().filter { $0 != "-" }
        guard digits.count >= minimumIDPrefix, digits.count <= 32, digits.allSatisfy(\.isHexDigit) else { return nil }
        return digits
    }

    static func hexDigits(of id: EntityID) -> String { id.description.filter { $0 != "-" } }

    /// The name or title of an entity whose kind has one.
    static func label(of id: EntityID, kind: EntityKind, in document: SpaceDocument) -> String? {
        switch kind {
        case .member: Member(id, in: document)?.displayName
        case .school: School(id, in: document)?.name
        case .partnership: Partnership(id, in: document)?.name
        case .session: DialogueSession(id, in: document)?.title
        case .prompt: Prompt(id, in: document)?.text
        case .insight, .action, .space: nil
        }
    }
}
