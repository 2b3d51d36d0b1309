public import DialogueModel

/// An in-memory log of one space's changes in the order they were applied (a causal
/// order), answering the sync question "what does this vector lack?".
///
/// The SQLite-backed replica keeps the same log on disk; this form serves tests,
/// tools and peers that hold a space only briefly.
public struct ChangeLog: Sendable {
    public let space: SpaceID
    /// Changes in application order.
    public private(set) var changes: [Change] = []
    /// What the log holds.
    public private(set) var vector = VersionVector()

    public init(space: SpaceID) {
        self.space = space
    }

    /// Appends a change that has just been applied (its causal past is already in the log).
    /// Returns `false`, appending nothing, when the change is already held.
    @discardableResult
    public mutating func append(_ change: Change) -> Bool {
        guard change.lastCounter > vector[change.replica] else { return false }
        changes.append(change)
        vector.record(Dot(change.replica, change.lastCounter))
        return true
    }

    /// The changes `other` lacks, in causal order, at most `limit` of them.
    public func changes(missingFrom other: VersionVector, limit: Int = .max) -> [Change] {
        var result: [Change] = []
        for change in changes where change.lastCounter > other[change.replica] {
            result.append(change)
            if result.count >= limit { break }
        }
        return result
    }
}
