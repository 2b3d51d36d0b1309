import Foundation
import GRDB
import Logging

/// Making removed content unrecoverable from the replica's files, not merely unreachable:
/// what leaving a space (``Replica/leave(_:)``) and applying an erasure
/// (``Replica/forget(_:in:approval:)``, a merge that brings one) both do.
///
/// With SQLite's `secure_delete` on, every cell and page freed is overwritten with zeros
/// (otherwise a deleted row's bytes stay in the page's free space or on the freelist);
/// FTS5 keeps a deleted row's terms in its index segments until they merge (`optimize`);
/// and the WAL holds earlier images of every page written since the last checkpoint, so
/// it is checkpointed and truncated to nothing once the transaction has committed.
package enum SecureErase {
    /// Turns `secure_delete` on for this connection: from now on, in the current
    /// transaction too, what is freed is zeroed. (SQLite reads the flag whenever it frees
    /// a cell, so it may be set inside a transaction.)
    static func begin(_ db: Database) throws {
        try db.execute(sql: "PRAGMA secure_delete = ON")
    }

    /// Back to SQLite's default (off): ordinary writes do not pay for zeroing.
    static func end(_ db: Database) {
        try? db.execute(sql: "PRAGMA secure_delete = OFF")
    }

    /// Merges the full-text index's segments, so none keeps the terms of rows deleted.
    static func mergeSearchIndex(_ db: Database) throws {
        try db.execute(sql: "INSERT INTO search_index (search_index) VALUES ('optimize')")
    }

    /// Checkpoints the WAL into the database file and truncates it to nothing (outside
    /// any transaction: call once the erasing transaction has committed). The database's
    /// own checkpointer (``WALCheckpointer``, another connection) or a reader still on an
    /// older snapshot makes SQLite answer busy: try again, ten times a tenth of a second
    /// apart (holding the writer, so the WAL does not grow meanwhile), then log that the
    /// old pages may stay in the WAL until later writes overwrite them, and return: what
    /// was erased stays erased from the database either way. For the replica and the
    /// server's SQLite store alike.
    package static func truncateWAL(_ db: Database, logger: Logger) {
        for attempt in 1...10 {
            do {
                try db.checkpoint(.truncate)
                return
            } catch let error as DatabaseError where error.resultCode == .SQLITE_BUSY || error.resultCode == .SQLITE_LOCKED {
                if attempt == 10 {
                    logger.error(
                        "the WAL could not be truncated after an erasure; the erased content may stay in the -wal file until it is overwritten",
                        metadata: ["error": "\(error)"])
                    return
                }
                Thread.sleep(forTimeInterval: 0.1)
            } catch {
                logger.error("the WAL could not be truncated after an erasure", metadata: ["error": "\(error)"])
                return
            }
        }
    }

    /// Runs `body` in one transaction with `secure_delete` on, merges the full-text index
    /// in it, and truncates the WAL once it has committed.
    static func transaction(_ database: DatabasePool, logger: Logger, _ body: (Database) throws -> Void) throws {
        try database.writeWithoutTransaction { db in
            try begin(db)
            defer { end(db) }
            try db.inTransaction {
                try body(db)
                try mergeSearchIndex(db)
                return .commit
            }
            truncateWAL(db, logger: logger)
        }
    }
}
