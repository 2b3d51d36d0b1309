import DialogueModel
import Foundation
import GRDB

/// The replica's SQLite schema, created and evolved only through named migrations
/// registered in order (GRDB's `DatabaseMigrator`). Never edit a shipped migration:
/// add a new one.
enum ReplicaSchema {
    /// Migration identifiers in order; tests pin fixtures to a prefix of this list.
    static let migrationIdentifiers = [
        "v1-change-log", "v1-materialized", "v2-sync-state", "v3-query-indexes", "v4-packed-clock", "v5-block-ranges",
        "v6-device-key", "v7-trust-cache", "v8-chain-heads", "v9-unsigned-legacy", "v10-people-directory",
        "v11-archived-sessions", "v12-entity-creations",
    ]

    /// Refuses a database this build must not migrate: another application's (tables,
    /// but no record of migrations), or one written by a newer Dialogue (migrations this
    /// build does not know, so a schema it cannot read). Checked before migrating, so
    /// such a file is left exactly as it was.
    static func checkOpenable(_ db: Database, path: String) throws {
        let tables = try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
        guard !tables.isEmpty else { return }
        guard tables.contains("grdb_migrations") else {
            throw ReplicaError.storage(
                "cannot open replica at \(path): it is not a Dialogue replica (it holds other tables: \(tables.sorted().prefix(5).joined(separator: ", ")))"
            )
        }
        if try migrator.hasBeenSuperseded(db) {
            throw ReplicaError.storage(
                "cannot open replica at \(path): it was written by a newer version of Dialogue; update Dialogue to open it")
        }
    }

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1-change-log") { db in
            // Replica identity, HLC high-water mark and other single values.
            try db.execute(sql: "CREATE TABLE meta (key TEXT PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID")
            // The spaces this replica holds.
            try db.execute(sql: "CREATE TABLE spaces (space_id BLOB PRIMARY KEY, added_at INTEGER NOT NULL) WITHOUT ROWID")
            // Every change applied, in application order (a causal order), stored as blocks:
            // each block is one transaction's changes in the columnar binary format. One row
            // per transaction rather than per change is what keeps local edits near raw
            // SQLite speed (Automerge and Loro store change chunks the same way).
            try db.execute(
                sql: """
                    CREATE TABLE change_blocks (
                        block_id INTEGER PRIMARY KEY,
                        space_id BLOB NOT NULL REFERENCES spaces (space_id),
                        change_count INTEGER NOT NULL,
                        body BLOB NOT NULL
                    )
                    """)
            try db.execute(sql: "CREATE INDEX change_blocks_by_space ON change_blocks (space_id, block_id)")
            // What the log holds, per space: the version vectors.
            try db.execute(
                sql: """
                    CREATE TABLE vectors (
                        space_id BLOB NOT NULL, replica INTEGER NOT NULL, counter INTEGER NOT NULL,
                        PRIMARY KEY (space_id, replica)
                    ) WITHOUT ROWID
                    """)
            // Changes received before their causal past, waiting (they survive restarts).
            try db.execute(
                sql: """
                    CREATE TABLE pending_changes (
                        space_id BLOB NOT NULL, replica INTEGER NOT NULL, counter INTEGER NOT NULL, body BLOB NOT NULL,
                        PRIMARY KEY (space_id, replica, counter)
                    ) WITHOUT ROWID
                    """)
        }
        migrator.registerMigration("v1-materialized") { db in
            try MaterializedSchema.create(db)
        }
        migrator.registerMigration("v2-sync-state") { db in
            // When each space last synced with which server, for `status`.
            try db.execute(
                sql: """
                    CREATE TABLE sync_state (
                        space_id BLOB NOT NULL, server TEXT NOT NULL,
                        last_sync_at INTEGER NOT NULL, acknowledged_seq INTEGER NOT NULL DEFAULT 0,
                        PRIMARY KEY (space_id, server)
                    ) WITHOUT ROWID
                    """)
        }
        migrator.registerMigration("v3-query-indexes") { db in
            // A session record finds actions linked through its insights; open and overdue
            // lists without an owner filter by status and date.
            try db.execute(sql: "CREATE INDEX actions_by_insight ON actions (insight_id)")
            try db.execute(sql: "CREATE INDEX actions_by_status ON actions (status, due_date)")
        }
        migrator.registerMigration("v4-packed-clock") { db in
            // v1 kept the clock's high-water mark in two rows; it is one packed row now.
            let wall = try Int64.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'hlc_wall'") ?? 0
            let logical = try Int64.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'hlc_logical'") ?? 0
            if wall != 0 || logical != 0 {
                let packed = Int64(bitPattern: UInt64(bitPattern: wall) << 16 | UInt64(UInt16(clamping: logical)))
                try db.execute(sql: "INSERT OR REPLACE INTO meta (key, value) VALUES ('hlc', ?)", arguments: [packed])
            }
            try db.execute(sql: "DELETE FROM meta WHERE key IN ('hlc_wall', 'hlc_logical')")
        }
        migrator.registerMigration("v5-block-ranges") { db in
            // Each space gets a number, and its blocks the ids `number << 40 + 1, + 2…`, so a
            // space's log is a range of the table's own key: the index on (space, block) went,
            // and with it one page written by every edit. Blocks keep their order.
            try db.execute(
                sql: """
                    ALTER TABLE spaces ADD COLUMN number INTEGER;
                    UPDATE spaces SET number = (
                        SELECT count(*) FROM spaces AS earlier
                        WHERE earlier.added_at < spaces.added_at OR (earlier.added_at = spaces.added_at AND earlier.space_id <= spaces.space_id));
                    CREATE UNIQUE INDEX spaces_by_number ON spaces (number);
                    CREATE TABLE change_blocks_by_range (
                        block_id INTEGER PRIMARY KEY,
                        space_id BLOB NOT NULL REFERENCES spaces (space_id),
                        change_count INTEGER NOT NULL,
                        body BLOB NOT NULL
                    );
                    INSERT INTO change_blocks_by_range (block_id, space_id, change_count, body)
                        SELECT (spaces.number << 40) + row_number() OVER (PARTITION BY blocks.space_id ORDER BY blocks.block_id),
                            blocks.space_id, blocks.change_count, blocks.body
                        FROM change_blocks AS blocks JOIN spaces ON spaces.space_id = blocks.space_id;
                    DROP TABLE change_blocks;
                    ALTER TABLE change_blocks_by_range RENAME TO change_blocks;
                    """)
        }
        migrator.registerMigration("v6-device-key") { db in
            // The device key, made here for a new replica and for one older than keys alike
            // (`DeviceKeyStore`): the private half stays in this file (0600).
            try db.execute(sql: DeviceKeyStore.createTable)
            try DeviceKeyStore.createIfAbsent(db, now: Int64(Date().timeIntervalSince1970 * 1000))
        }
        migrator.registerMigration("v7-trust-cache") { db in
            try TrustCache.create(db)
        }
        migrator.registerMigration("v8-chain-heads") { db in
            // Heads signed or accepted, and each device's verified position (`ChainStore`).
            // A replica's own earlier changes need nothing here: its chain starts over them.
            try db.execute(sql: ChainStore.createTables)
        }
        migrator.registerMigration("v9-unsigned-legacy") { db in
            // Changes accepted once without a signed head, below the server's legacy vector
            // (`LegacyChanges`): nothing to copy, an older replica never accepted any.
            try db.execute(sql: LegacyChanges.createTable)
        }
        migrator.registerMigration("v10-people-directory") { db in
            // Who the member may see named (`PeopleDirectory`): nothing to copy, it comes
            // with the next sync.
            try db.execute(sql: TrustCache.createPeopleDirectory)
        }
        migrator.registerMigration("v11-archived-sessions") { db in
            try addArchivedSessions(db)
        }
        migrator.registerMigration("v12-entity-creations") { db in
            // Capture order and authorship without a space's document (`EntityCreations`).
            try EntityCreations.addTable(db)
        }
        return migrator
    }

    /// Adds the column of `DialogueSession.Key.archivedAt`, and fills it for the sessions
    /// that already hold the field: an older version stores and forwards the field without
    /// materialising it, so a newer device's archiving may be in the log already. Only the
    /// spaces whose stored changes name the field (its name is plain UTF-8 in the batch's
    /// string table) are rebuilt, so an upgrade replays no log that cannot hold it.
    static func addArchivedSessions(_ db: Database) throws {
        let key = DialogueSession.Key.archivedAt
        let column = MaterializedTables.column(key)
        try db.execute(sql: "ALTER TABLE sessions ADD COLUMN \(column) INTEGER")
        let named = try Row.fetchAll(
            db,
            sql: """
                SELECT DISTINCT space_id FROM change_blocks WHERE instr(body, CAST(?1 AS BLOB)) > 0
                UNION SELECT DISTINCT space_id FROM pending_changes WHERE instr(body, CAST(?1 AS BLOB)) > 0
                """, arguments: [key.name])
        for row in named {
            let space = try row.required("space_id", of: "change_blocks", \.storedSpaceID)
            let document = try Replica.loadDocument(space, db)
            for id in document.entityIDs(ofKind: EntityKind.session.rawValue) {
                guard let archived = document.read(key, of: id).value else { continue }
                try db.execute(
                    sql: "UPDATE sessions SET \(column) = ? WHERE session_id = ?", arguments: [archived.millisecondsSinceEpoch, id.blob])
            }
        }
    }

    /// The condition selecting one space's blocks (the space's id bound as `?1`).
    static let blocksOfSpace = """
        block_id BETWEEN (SELECT number << 40 FROM spaces WHERE space_id = ?1) \
        AND (SELECT (number << 40) + 1099511627775 FROM spaces WHERE space_id = ?1)
        """

    /// Appends a block at the end of a space's range (the space's id bound as `?1`, then
    /// the change count and the body).
    static let appendBlock = """
        INSERT INTO change_blocks (block_id, space_id, change_count, body) VALUES (
            coalesce((SELECT max(block_id) FROM change_blocks WHERE \(blocksOfSpace)), (SELECT number << 40 FROM spaces WHERE space_id = ?1)) + 1,
            ?1, ?2, ?3)
        """
}
