import DialogueModel
import Foundation
import GRDB
import Logging

/// Leaving a space (issue 13, item 4): when a school leaves a partnership or a member's
/// access ends, the device stops holding the space's content, and the content is gone
/// from the replica's files, not merely hidden.
extension Replica {
    /// What ``leave(_:)`` removed.
    public struct LeftSpace: Sendable, Equatable {
        /// The space left.
        public var space: SpaceID
        /// Changes of the space that were in the log (its own included).
        public var changes: Int
    }

    /// Stops holding `space` and erases everything the replica held of it: its change log,
    /// waiting changes, version vector, chain heads, sync state, every materialised row
    /// (entities, child rows, conflicts) and its full-text entries. The deletion runs with
    /// SQLite's `secure_delete` on (freed content is overwritten with zeros), the full-text
    /// index is merged so no segment keeps the space's words, and the WAL is checkpointed
    /// and truncated, so the content is not recoverable from the replica's files. Entities
    /// that another held space also holds (a member named in both) are written back from
    /// that space. Certificates and the space directory are kept (they hold no notes).
    ///
    /// - Throws: ``ReplicaError/unknownSpace(_:)`` when the replica does not hold `space`;
    ///   ``ReplicaError/invalidValue(_:)`` for the member's own personal space while the
    ///   verified directory lists it.
    @discardableResult
    public func leave(_ space: SpaceID) throws(ReplicaError) -> LeftSpace {
        guard held.contains(space) else { throw .unknownSpace(space) }
        if let personal = try personalSpace(), personal.space == space {
            throw .invalidValue("«\(personal.name)» is your personal space: your devices hold it while your space directory lists it")
        }
        // Every held space's document: the ids the left one shares with the others.
        try prepareToWrite()
        let all = try loadedDocuments()
        guard let left = all[space] else { throw .unknownSpace(space) }
        let kept = all.filter { $0.key != space }
        var changes = 0
        do {
            try SecureErase.transaction(database, logger: logger) { db in
                changes =
                    try Int.fetchOne(
                        db, sql: "SELECT coalesce(sum(change_count), 0) FROM change_blocks WHERE \(ReplicaSchema.blocksOfSpace)",
                        arguments: [space.blob]) ?? 0
                for statement in Self.leavingStatements { try db.execute(sql: statement, arguments: [space.blob]) }
                // Ids the left space shared with a space still held are materialised from that one.
                for (other, document) in kept {
                    let shared = left.entities.keys.filter { document.entities[$0] != nil }
                    guard !shared.isEmpty else { continue }
                    var touches: [EntityID: Materializer.Touch] = [:]
                    for id in shared { touches[id] = Materializer.Touch(fields: [], lifecycle: true) }
                    var materializer = Materializer(space: other, after: document, conflicted: conflictedRegisters)
                    try materializer.refresh(touches, in: db)
                }
            }
        } catch {
            logger.error("leaving a space failed", metadata: ["space": "\(space)", "error": "\(error)"])
            throw .storage("\(error)", underlying: error)
        }
        documents[space] = nil
        held.remove(space)
        ownChains[space] = nil
        conflictedRegisters = conflictedRegisters.filter { ref in kept.values.contains { $0.entities[ref.entity] != nil } }
        return LeftSpace(space: space, changes: changes)
    }

    /// Every row of one space (`?` is its id), children before the rows that name them.
    private static let leavingStatements = [
        "DELETE FROM partnership_schools WHERE partnership_id IN (SELECT partnership_id FROM partnerships WHERE space_id = ?1)",
        "DELETE FROM space_members WHERE description_id IN (SELECT description_id FROM space_descriptions WHERE space_id = ?1)",
        "DELETE FROM session_participants WHERE session_id IN (SELECT session_id FROM sessions WHERE space_id = ?1)",
        "DELETE FROM agenda_items WHERE session_id IN (SELECT session_id FROM sessions WHERE space_id = ?1)",
        "DELETE FROM insight_hallmarks WHERE insight_id IN (SELECT insight_id FROM insights WHERE space_id = ?1)",
        "DELETE FROM search_index WHERE rowid IN (SELECT search_rowid FROM search_entities WHERE space_id = ?1)",
        "DELETE FROM search_entities WHERE space_id = ?1",
        "DELETE FROM field_conflicts WHERE space_id = ?1",
        "DELETE FROM entity_creations WHERE space_id = ?1",
        "DELETE FROM partnerships WHERE space_id = ?1",
        "DELETE FROM schools WHERE space_id = ?1",
        "DELETE FROM members WHERE space_id = ?1",
        "DELETE FROM space_descriptions WHERE space_id = ?1",
        "DELETE FROM sessions WHERE space_id = ?1",
        "DELETE FROM prompts WHERE space_id = ?1",
        "DELETE FROM insights WHERE space_id = ?1",
        "DELETE FROM actions WHERE space_id = ?1",
        "DELETE FROM change_blocks WHERE \(ReplicaSchema.blocksOfSpace)",
        "DELETE FROM pending_changes WHERE space_id = ?1",
        "DELETE FROM vectors WHERE space_id = ?1",
        "DELETE FROM sync_state WHERE space_id = ?1",
        "DELETE FROM chain_heads WHERE space_id = ?1",
        "DELETE FROM chain_positions WHERE space_id = ?1",
        "DELETE FROM unsigned_legacy WHERE space_id = ?1",
        "DELETE FROM spaces WHERE space_id = ?1",
    ]
}
