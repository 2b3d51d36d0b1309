import GRDB

/// Making removed content unrecoverable from the replica's files, not merely unreachable:
/// what leaving a space (``Replica/leave(_:)``) and applying an erasure
/// (``Replica/forget(_:in:approval:)``, a merge that brings one) both do.
///
/// With SQLite's `secure_delete` on, every cell and page freed is overwritten with zeros
/// (otherwise a deleted row's bytes stay in the page's free space or on the freelist);
/// FTS5 keeps a deleted row's terms in its index segments until they merge (`optimize`);
/// and the WAL holds earlier images of every page written since the last checkpoint, so
/// it is checkpointed and truncated to nothing once the transaction has committed.
enum SecureErase {
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
    /// any transaction: call once the erasing transaction has committed).
    static func truncateWAL(_ db: Database) throws {
        try db.checkpoint(.truncate)
    }

    /// Runs `body` in one transaction with `secure_delete` on, merges the full-text index
    /// in it, and truncates the WAL once it has committed.
    static func transaction(_ database: DatabasePool, _ body: (Database) throws -> Void) throws {
        try database.writeWithoutTransaction { db in
            try begin(db)
            defer { end(db) }
            try db.inTransaction {
                try body(db)
                try mergeSearchIndex(db)
                return .commit
            }
            try truncateWAL(db)
        }
    }
}
