import DialogueModel
import Foundation

extension Replica {
    /// The short form of each of `ids` (see ``shortID(_:minimum:)``), computed in one pass
    /// over the live entities held: what a listing shows, so that each can be typed back.
    /// An id that is not held (a starter prompt not yet added) still gets a prefix no held
    /// entity shares.
    public func shortIDs(_ ids: [EntityID], minimum: Int = 8) -> [EntityID: String] {
        var all: Set<String> = Set(ids.map(Self.hexDigits(of:)))
        for id in liveIDs() { all.insert(Self.hexDigits(of: id)) }
        // In sorted order the ids sharing the longest prefix with one are its neighbours.
        let sorted = all.sorted()
        var index: [String: Int] = [:]
        for (position, digits) in sorted.enumerated() { index[digits] = position }
        var result: [EntityID: String] = [:]
        for id in ids {
            let digits = Self.hexDigits(of: id)
            guard let position = index[digits] else { continue }
            var shared = 0
            for neighbour in [position - 1, position + 1] where sorted.indices.contains(neighbour) {
                shared = max(shared, Self.commonPrefixLength(digits, sorted[neighbour]))
            }
            let length = min(digits.count, max(Self.minimumIDPrefix, minimum, shared + 1))
            result[id] = String(digits.prefix(length))
        }
        return result
    }

    /// Every live entity held, of every kind, from the materialised tables (no document built).
    func liveIDs() -> [EntityID] {
        let held = Set(spaces)
        let all = (try? readForQuery { db in try ReplicaQueries.entities(db, kinds: EntityKind.allCases) }) ?? []
        return all.filter { held.contains($0.space) }.map(\.id)
    }

    /// `text` as lower-case hex digits when it could be an id or an id prefix (hex digits
    /// and hyphens, at least ``minimumIDPrefix`` digits), else `nil`: for matching ids this
    /// replica does not hold as entities (a starter prompt, a certified member).
    public static func typedIDPrefix(_ text: String) -> String? {
        idPrefix(text.trimmingCharacters(in: .whitespaces))
    }

    /// Whether `id`'s hex digits begin with `prefix` (as ``typedIDPrefix(_:)`` returns it).
    public static func id(_ id: EntityID, hasPrefix prefix: String) -> Bool {
        hexDigits(of: id).hasPrefix(prefix)
    }

    private static func commonPrefixLength(_ a: String, _ b: String) -> Int {
        zip(a, b).prefix { $0 == $1 }.count
    }
}
