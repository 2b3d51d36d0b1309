import DialogueModel
import Foundation
import GRDB

/// The changes of a space waiting for their causal past (table `pending_changes`), stored
/// with the space's document so they survive a restart.
enum WaitingChanges {
    /// Replaces what `space` has waiting with `changes` (one row per change), inside the
    /// caller's transaction. Under `secure_delete` the rows replaced are zeroed on disk.
    static func store(_ changes: [Change], of space: SpaceID, _ db: Database) throws {
        try db.execute(sql: "DELETE FROM pending_changes WHERE space_id = ?", arguments: [space.blob])
        let insert = try db.cachedStatement(
            sql: "INSERT OR REPLACE INTO pending_changes (space_id, replica, counter, body) VALUES (?, ?, ?, ?)")
        for change in changes {
            try insert.execute(arguments: [
                space.blob, change.replica.storedValue, Int64(bitPattern: change.id.counter), Data(ChangeCodec.encode([change])),
            ])
        }
    }
}
