import DialogueModel
import DialogueSync
import Foundation
import GRDB
import Logging

/// The default store: one SQLite file (GRDB, WAL) in the server's data directory.
///
/// Checkpoints (copying the write-ahead log into the database file, then syncing it) run
/// on their own connection once a second (``WALCheckpointer``), never in a request: on a
/// busy disk the commit that crossed SQLite's automatic threshold, and every request
/// queued behind it, waited 100–600 ms for the sync.
public final class SQLiteSyncStore: SyncStore {
    let database: DatabasePool
    private let checkpointer: WALCheckpointer
    private let logger: Logger

    /// Opens or creates the store at `path`, migrating its schema. The file and its
    /// `-wal`/`-shm` are private to the server's user (0600), whatever the umask; an
    /// existing store readable by others is tightened, with a warning in the log.
    public init(
        path: String, checkpointInterval: Duration = .seconds(1), logger: Logger = Logger(label: "dialogue.server.store")
    ) throws {
        for file in try PrivateFiles.prepareDatabase(at: path) {
            logger.warning("made a store file private", metadata: ["file": "\(file)"])
        }
        var configuration = Configuration()
        configuration.busyMode = .timeout(5)
        configuration.prepareDatabase { db in
            // secure_delete: content freed anywhere (a row rewritten for an erasure, a page
            // rebuilt by a split) is overwritten with zeros, so no stale copy of an erased
            // change stays in a page's free space (docs/DEPLOYMENT.md, "Erasure").
            try db.execute(sql: "PRAGMA synchronous = NORMAL; PRAGMA wal_autocheckpoint = 0; PRAGMA secure_delete = ON")
        }
        self.logger = logger
        database = try DatabasePool(path: path, configuration: configuration)
        try Self.migrator.migrate(database)
        checkpointer = WALCheckpointer(
            path: path, configuration: configuration, interval: checkpointInterval, logger: logger)
    }

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(
                sql: """
                    CREATE TABLE server_changes (
                        space_id BLOB NOT NULL, seq INTEGER NOT NULL, replica INTEGER NOT NULL, counter INTEGER NOT NULL,
                        last_counter INTEGER NOT NULL, body BLOB NOT NULL, PRIMARY KEY (space_id, seq)
                    ) WITHOUT ROWID;
                    CREATE UNIQUE INDEX server_changes_by_author ON server_changes (space_id, replica, counter);
                    CREATE TABLE server_vectors (
                        space_id BLOB NOT NULL, replica INTEGER NOT NULL, counter INTEGER NOT NULL, PRIMARY KEY (space_id, replica)
                    ) WITHOUT ROWID;
                    CREATE TABLE partnerships (partnership_id BLOB PRIMARY KEY, name TEXT NOT NULL, shared_space BLOB NOT NULL UNIQUE);
                    CREATE TABLE schools (school_id BLOB PRIMARY KEY, name TEXT NOT NULL, private_space BLOB NOT NULL UNIQUE);
                    CREATE TABLE partnership_schools (
                        partnership_id BLOB NOT NULL, school_id BLOB NOT NULL, PRIMARY KEY (partnership_id, school_id)
                    );
                    CREATE TABLE members (
                        member_id BLOB PRIMARY KEY, name TEXT NOT NULL, school_id BLOB NOT NULL REFERENCES schools (school_id),
                        access TEXT NOT NULL
                    );
                    CREATE TABLE tokens (
                        token_id BLOB PRIMARY KEY, token_hash BLOB NOT NULL UNIQUE, member_id BLOB NOT NULL REFERENCES members (member_id),
                        label TEXT NOT NULL, issued_at INTEGER NOT NULL, revoked_at INTEGER
                    );
                    """)
        }
        migrator.registerMigration("v2-trust") { db in try createTrustTables(db) }
        migrator.registerMigration("v3-chain-heads") { db in try createChainHeadTables(db) }
        migrator.registerMigration("v4-legacy-vectors") { db in try recordLegacyVectors(db) }
        migrator.registerMigration("v6-retention-policies") { db in try db.execute(sql: retentionTable) }
        migrator.registerMigration("v7-personal-spaces") { db in try createPersonalSpaces(db) }
        return migrator
    }

    public func ping() async throws {
        _ = try await database.read { db in try Int.fetchOne(db, sql: "SELECT 1") }
    }

    public func close() async throws {
        await checkpointer.stop()
        // Leave little to replay. Best effort: a passive checkpoint answers SQLITE_BUSY at once
        // when another connection (a running server's checkpointer, beside an admin command)
        // is checkpointing the same file, and that one does the same work.
        _ = try? await database.writeWithoutTransaction { db in try db.checkpoint(.passive) }
        try database.close()
    }

    // MARK: Changes

    public func vector(of space: SpaceID) async throws -> VersionVector {
        try await database.read { db in try Self.vector(of: space, db) }
    }

    static func vector(of space: SpaceID, _ db: Database) throws -> VersionVector {
        var vector = VersionVector()
        // Read on every push and pull: a cursor and columns by position (no row copies, no name lookups).
        let rows = try Row.fetchCursor(
            db.cachedStatement(sql: "SELECT replica, counter FROM server_vectors WHERE space_id = ?"), arguments: [space.storeBlob])
        while let row = try rows.next() {
            let replica = try row.required(at: 0, "replica", of: "server_vectors", \.storedReplicaID)
            vector[replica] = try row.required(at: 1, "counter", of: "server_vectors", \.storedCounter)
        }
        return vector
    }

    public func storedChanges(in space: SpaceID, replica: ReplicaID, counters: ClosedRange<UInt64>) async throws -> [Change] {
        try await database.read { db in
            let bodies = try Data.fetchAll(
                db,
                sql: """
                    SELECT body FROM server_changes WHERE space_id = ? AND replica = ? AND last_counter >= ? AND counter <= ?
                    ORDER BY counter
                    """,
                arguments: [
                    space.storeBlob, Int64(bitPattern: replica.rawValue), Int64(bitPattern: counters.lowerBound),
                    Int64(bitPattern: counters.upperBound),
                ])
            return try bodies.flatMap { try ChangeCodec.decode($0) }
        }
    }

    public func append(_ changes: [Change], heads: [ChainHead], to space: SpaceID) async throws {
        guard !changes.isEmpty else { return }
        do {
            try await database.write { db in
                var seq =
                    try Int64.fetchOne(db, sql: "SELECT max(seq) FROM server_changes WHERE space_id = ?", arguments: [space.storeBlob]) ?? 0
                let insert = try db.cachedStatement(
                    sql: "INSERT INTO server_changes (space_id, seq, replica, counter, last_counter, body) VALUES (?, ?, ?, ?, ?, ?)")
                var highest: [ReplicaID: UInt64] = [:]
                for change in changes {
                    seq += 1
                    try insert.execute(arguments: [
                        space.storeBlob, seq, Int64(bitPattern: change.replica.rawValue), Int64(bitPattern: change.id.counter),
                        Int64(bitPattern: change.lastCounter), Data(ChangeCodec.encode([change])),
                    ])
                    highest[change.replica] = max(highest[change.replica] ?? 0, change.lastCounter)
                }
                let upsert = try db.cachedStatement(
                    sql: """
                        INSERT INTO server_vectors (space_id, replica, counter) VALUES (?, ?, ?)
                        ON CONFLICT (space_id, replica) DO UPDATE SET counter = max(counter, excluded.counter)
                        """)
                for (replica, counter) in highest {
                    try upsert.execute(arguments: [space.storeBlob, Int64(bitPattern: replica.rawValue), Int64(bitPattern: counter)])
                }
                try Self.store(heads, in: space, db)
            }
        } catch let error as DatabaseError where error.resultCode == .SQLITE_CONSTRAINT {
            throw StoreError.conflict
        }
    }

    public func rewrite(_ changes: [Change], in space: SpaceID) async throws {
        guard !changes.isEmpty else { return }
        // secure_delete is on for every connection of the store (see init): the old bodies'
        // bytes are zeroed as the rows are rewritten. Then the WAL, which holds earlier
        // images of the pages, is checkpointed and truncated, as the replica does
        // (`SecureErase` in DialogueSync).
        try await database.writeWithoutTransaction { db in
            try db.inTransaction {
                let update = try db.cachedStatement(
                    sql: "UPDATE server_changes SET body = ? WHERE space_id = ? AND replica = ? AND counter = ?")
                for change in changes {
                    try update.execute(arguments: [
                        Data(ChangeCodec.encode([change])), space.storeBlob, Int64(bitPattern: change.replica.rawValue),
                        Int64(bitPattern: change.id.counter),
                    ])
                    guard db.changesCount == 1 else { throw StoreError.notFound("stored change \(change.id) of space \(space)") }
                }
                return .commit
            }
            SecureErase.truncateWAL(db, logger: logger)
        }
    }

    public func changes(in space: SpaceID, missingFrom vector: VersionVector, after: Int64, limit: Int) async throws -> ChangePageResult {
        try await database.read { db in
            let held = try Self.vector(of: space, db)
            var changes: [Change] = []
            var positions: [Int64] = []
            var cursor = after
            // Scan in storage order, skipping what the vector covers. The rows are read
            // lazily (not copied), and the scan stops at the first row past the page.
            let rows = try Row.fetchCursor(
                db.cachedStatement(
                    sql: "SELECT seq, replica, last_counter, body FROM server_changes WHERE space_id = ? AND seq > ? ORDER BY seq"),
                arguments: [space.storeBlob, after])
            while let row = try rows.next() {
                let seq = try row.required("seq", of: "server_changes", \.storedInt64)
                let replica = try row.required("replica", of: "server_changes", \.storedReplicaID)
                if try row.required("last_counter", of: "server_changes", \.storedCounter) <= vector[replica] {
                    cursor = seq
                    continue
                }
                if changes.count == limit {
                    return ChangePageResult(changes: changes, more: true, cursor: cursor, held: held, positions: positions)
                }
                let decoded = try row.withUnsafeData(atIndex: 3) { body in try ChangeCodec.decode(body ?? Data()) }
                changes += decoded
                positions += repeatElement(seq, count: decoded.count)
                cursor = seq
            }
            return ChangePageResult(changes: changes, more: false, cursor: cursor, held: held, positions: positions)
        }
    }

    // MARK: Accounts

    public func createPartnership(name: String) async throws -> PartnershipAccount {
        let account = PartnershipAccount(id: UUID(), name: name, sharedSpace: SpaceID(UUID()))
        try await database.write { db in
            try db.execute(
                sql: "INSERT INTO partnerships (partnership_id, name, shared_space) VALUES (?, ?, ?)",
                arguments: [account.id.storeBlob, name, account.sharedSpace.storeBlob])
        }
        return account
    }

    public func createSchool(name: String) async throws -> SchoolAccount {
        let account = SchoolAccount(id: UUID(), name: name, privateSpace: SpaceID(UUID()), partnerships: [])
        try await database.write { db in
            try db.execute(
                sql: "INSERT INTO schools (school_id, name, private_space) VALUES (?, ?, ?)",
                arguments: [account.id.storeBlob, name, account.privateSpace.storeBlob])
        }
        return account
    }

    public func addSchool(_ school: UUID, toPartnership partnership: UUID) async throws {
        try await database.write { db in
            try Self.require(db, "schools", "school_id", school, "school \(school)")
            try Self.require(db, "partnerships", "partnership_id", partnership, "partnership \(partnership)")
            try db.execute(
                sql: "INSERT OR IGNORE INTO partnership_schools (partnership_id, school_id) VALUES (?, ?)",
                arguments: [partnership.storeBlob, school.storeBlob])
        }
    }

    public func removeSchool(_ school: UUID, fromPartnership partnership: UUID) async throws {
        try await database.write { db in
            try db.execute(
                sql: "DELETE FROM partnership_schools WHERE partnership_id = ? AND school_id = ?",
                arguments: [partnership.storeBlob, school.storeBlob])
        }
    }

    public func createMember(name: String, school: UUID, role: MemberAccess) async throws -> MemberAccount {
        let account = MemberAccount(id: UUID(), name: name, school: school, access: role)
        try await database.write { db in
            try Self.require(db, "schools", "school_id", school, "school \(school)")
            try db.execute(
                sql: "INSERT INTO members (member_id, name, school_id, access) VALUES (?, ?, ?, ?)",
                arguments: [account.id.storeBlob, name, school.storeBlob, role.rawValue])
            _ = try Self.personalSpace(of: account.id, db)
        }
        return account
    }

    public func storeToken(_ token: TokenRecord) async throws {
        try await database.write { db in
            try Self.require(db, "members", "member_id", token.member, "member \(token.member)")
            try db.execute(
                sql: "INSERT INTO tokens (token_id, token_hash, member_id, label, issued_at) VALUES (?, ?, ?, ?, ?)",
                arguments: [
                    token.id.storeBlob, Data(token.hash), token.member.storeBlob, token.label,
                    Int64(token.issuedAt.timeIntervalSince1970 * 1000),
                ])
        }
    }

    public func member(forTokenHash hash: [UInt8]) async throws -> MemberAccount? {
        try await database.read { db in
            guard
                let row = try Row.fetchOne(
                    db,
                    sql: """
                        SELECT m.member_id, m.name, m.school_id, m.access FROM tokens t JOIN members m ON m.member_id = t.member_id
                        WHERE t.token_hash = ? AND t.revoked_at IS NULL
                        """, arguments: [Data(hash)])
            else { return nil }
            return try Self.member(row)
        }
    }

    public func access(forTokenHash hash: [UInt8]) async throws -> (member: MemberAccount, spaces: Set<SpaceID>, personal: SpaceID)? {
        let found = try await database.read { db -> (member: MemberAccount, spaces: Set<SpaceID>, personal: SpaceID?)? in
            guard
                let row = try Row.fetchOne(
                    db.cachedStatement(
                        sql: """
                            SELECT m.member_id, m.name, m.school_id, m.access FROM tokens t JOIN members m ON m.member_id = t.member_id
                            WHERE t.token_hash = ? AND t.revoked_at IS NULL
                            """), arguments: [Data(hash)])
            else { return nil }
            let member = try Self.member(row)
            return (member, try Self.spaces(ofSchool: member.school, db), try Self.storedPersonalSpace(of: member.id, db))
        }
        guard let found else { return nil }
        // Their own personal space, never another member's (made now if they have none yet).
        var personal = found.personal
        if personal == nil { personal = try await personalSpace(of: found.member.id) }
        guard let personal else { return nil }
        return (found.member, found.spaces.union([personal]), personal)
    }

    public func spaces(ofSchool school: UUID) async throws -> Set<SpaceID> {
        try await database.read { db in try Self.spaces(ofSchool: school, db) }
    }

    static func spaces(ofSchool school: UUID, _ db: Database) throws -> Set<SpaceID> {
        var spaces: Set<SpaceID> = []
        do {
            if let own = try Data.fetchOne(db, sql: "SELECT private_space FROM schools WHERE school_id = ?", arguments: [school.storeBlob])
            {
                spaces.insert(SpaceID(uuid: own))
            }
            for shared in try Data.fetchAll(
                db,
                sql: """
                    SELECT p.shared_space FROM partnership_schools ps JOIN partnerships p ON p.partnership_id = ps.partnership_id
                    WHERE ps.school_id = ?
                    """, arguments: [school.storeBlob])
            {
                spaces.insert(SpaceID(uuid: shared))
            }
            return spaces
        }
    }

    public func partnerships() async throws -> [PartnershipAccount] {
        try await database.read { db in
            try Row.fetchAll(db, sql: "SELECT partnership_id, name, shared_space FROM partnerships ORDER BY name").map {
                row throws(DamagedRow) in
                PartnershipAccount(
                    id: try row.required("partnership_id", of: "partnerships", \.storedUUID),
                    name: try row.required("name", of: "partnerships", \.storedString),
                    sharedSpace: try row.required("shared_space", of: "partnerships", \.storedSpaceID))
            }
        }
    }

    public func schools() async throws -> [SchoolAccount] {
        try await database.read { db in
            try Row.fetchAll(db, sql: "SELECT school_id, name, private_space FROM schools ORDER BY name").map { row in
                let id = try row.required("school_id", of: "schools", \.storedUUID)
                let partnerships = try Data.fetchAll(
                    db, sql: "SELECT partnership_id FROM partnership_schools WHERE school_id = ?", arguments: [id.storeBlob]
                ).map(UUID.init(blob:))
                return SchoolAccount(
                    id: id, name: try row.required("name", of: "schools", \.storedString),
                    privateSpace: try row.required("private_space", of: "schools", \.storedSpaceID), partnerships: partnerships)
            }
        }
    }

    public func members() async throws -> [MemberAccount] {
        try await database.read { db in
            try Row.fetchAll(db, sql: "SELECT member_id, name, school_id, access FROM members ORDER BY name").map(Self.member)
        }
    }

    /// A member read from its row (never trusting it: a damaged row is a ``DamagedRow``, a 500).
    static func member(_ row: Row) throws(DamagedRow) -> MemberAccount {
        MemberAccount(
            id: try row.required("member_id", of: "members", \.storedUUID), name: try row.required("name", of: "members", \.storedString),
            school: try row.required("school_id", of: "members", \.storedUUID),
            access: MemberAccess(rawValue: try row.required("access", of: "members", \.storedString)) ?? .observer)
    }

    private static func require(_ db: Database, _ table: String, _ column: String, _ id: UUID, _ what: String) throws {
        guard try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM \(table) WHERE \(column) = ?)", arguments: [id.storeBlob]) == true
        else {
            throw StoreError.notFound(what)
        }
    }
}

extension UUID {
    /// 16 bytes, as stored.
    var storeBlob: Data { withUnsafeBytes(of: uuid) { Data($0) } }

    init(blob: Data) {
        let b = [UInt8](blob) + [UInt8](repeating: 0, count: max(0, 16 - blob.count))
        self.init(uuid: (b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]))
    }
}

extension DatabaseValue {
    /// The 16-byte identifier stored here, if it is one.
    var storedUUID: UUID? { storedBlob.flatMap { $0.count == 16 ? UUID(blob: $0) : nil } }
    /// The replica (a non-zero 64-bit integer) stored here, if it is one.
    var storedReplicaID: ReplicaID? { storedInt64.flatMap { ReplicaID(rawValue: UInt64(bitPattern: $0)) } }
    /// The counter (64 bits stored as a signed integer) stored here, if it is one.
    var storedCounter: UInt64? { storedInt64.map(UInt64.init(bitPattern:)) }
}

extension SpaceID {
    var storeBlob: Data { uuid.storeBlob }

    init(uuid blob: Data) { self.init(UUID(blob: blob)) }
}
