import DialogueModel
import Foundation
import GRDB
import Logging

/// A leader's local replica: one SQLite file holding every change it has seen and a
/// queryable, materialised state of the spaces it holds.
///
/// All writes go through this actor, one SQLite transaction each, and never suspend
/// while holding the in-memory state, so a write is atomic with respect to every
/// other. Reads (queries, observation) go straight to the database pool and run
/// concurrently with writes (WAL).
public actor Replica {
    /// This replica's identity, created with the file and kept for ever.
    public nonisolated let id: ReplicaID
    /// The database pool. Not public: every write goes through the replica (signed, merged,
    /// materialised); apps read through the query API or ``reader``.
    package nonisolated let database: DatabasePool
    /// Where the file lives.
    public nonisolated let path: String
    /// This device's public signing key (Ed25519, 32 raw bytes), made with the replica and
    /// kept for ever; the server certifies it for this replica's id at `login`.
    public nonisolated var devicePublicKey: PublicSigningKey { deviceKey.publicKey }
    /// The device key pair; its private half never leaves the replica's database.
    nonisolated let deviceKey: SigningKeyPair
    let logger: Logger
    /// The clock. Until ``prepareToWrite()`` it knows only the high-water mark `meta` holds
    /// (its wall clock serves as is); from then on every timestamp the log holds.
    var clock: HybridLogicalClock<AnyWallClock>
    /// The spaces this replica holds (the `spaces` table, as last committed through it).
    var held: Set<SpaceID> = []
    /// The merge documents built so far, per held space: built from the space's log at
    /// its first use (``loadedDocument(_:)``), never at opening. A command that only reads
    /// is served from the materialised tables and builds none (issue 14, item 7).
    var documents: [SpaceID: SpaceDocument] = [:]
    /// Whether ``prepareToWrite()`` has run since opening.
    private var preparedToWrite = false
    /// This device's hash chain per space, as last signed (read from the database at a
    /// space's first edit after opening).
    var ownChains: [SpaceID: DeviceChain] = [:]
    /// Registers whose concurrent writes are materialised in `field_conflicts` (read by
    /// ``prepareToWrite()``: only writes use them).
    var conflictedRegisters: Set<FieldRef> = []
    var makeEntityID: @Sendable () -> EntityID
    /// The member this device's certificate names (the author of its edits), `nil` before the first login.
    var certifiedMember: EntityID?
    /// A space's frame of at least this many changes integrates its text on a second
    /// thread (``TextThreads``): worth a thread for a bundle
    /// or a large pull, not for a handful of changes. Tests lower it to cover that path.
    package private(set) var concurrentTextThreshold = defaultConcurrentTextThreshold
    static let defaultConcurrentTextThreshold = 1024

    /// Sets ``concurrentTextThreshold`` (tests: 1 sends every merge's text to the thread).
    package func integrateTextConcurrently(fromFrameSize changes: Int) {
        concurrentTextThreshold = max(1, changes)
    }
    private let checkpointer: WALCheckpointer

    /// Opens (creating or migrating as needed) the replica at `path`.
    ///
    /// - Parameters:
    ///   - path: the replica's SQLite file (its `-wal` and `-shm` beside it).
    ///   - wallClock: the physical clock behind timestamps (injected in tests).
    ///   - entityIDs: where new entity identifiers come from (injected in tests).
    ///   - logger: where the replica logs; it never prints.
    public init(
        path: String, wallClock: some WallClock = SystemWallClock(),
        entityIDs: @escaping @Sendable () -> EntityID = { EntityID(UUID()) },
        logger: Logger = Logger(label: "dialogue.replica")
    ) throws(ReplicaError) {
        self.path = path
        self.makeEntityID = entityIDs
        var configuration = Configuration()
        // Another connection may hold a lock for a moment: this replica's checkpointer, a
        // CLI run beside an app, or recovery after a crash.
        configuration.busyMode = .timeout(10)
        configuration.prepareDatabase { db in
            // WAL + NORMAL: durable across crashes of the app. Checkpoints run on their own
            // connection (`WALCheckpointer`), not inside whichever commit crosses SQLite's threshold.
            try db.execute(sql: "PRAGMA synchronous = NORMAL; PRAGMA wal_autocheckpoint = 0")
        }
        // Created 0600 before SQLite opens it, so the file and its -wal/-shm are private.
        let tightened: [PrivateFiles.Tightened]
        do { tightened = try PrivateFiles.prepareDatabase(at: path) } catch { throw .storage(error.description, underlying: error) }
        do {
            database = try DatabasePool(path: path, configuration: configuration)
            try database.read { db in try ReplicaSchema.checkOpenable(db, path: path) }
            try ReplicaSchema.migrator.migrate(database)
            let (id, storedTimestamp) = try database.write { db in try Self.identity(db) }
            self.id = id
            (deviceKey, certifiedMember) = try database.read { db in
                (try DeviceKeyStore.load(db), try TrustCache.certificate(of: id, db).map { EntityID($0.member) })
            }
            // A replica older than signing signs what it wrote before, once (docs/TRUST.md, "Migration").
            if try !database.read({ db in try Self.spacesWithUnsignedChanges(of: id, db) }).isEmpty {
                let key = deviceKey
                _ = try database.write { db in try Self.signUnsignedChanges(of: id, key: key, db) }
            }
            var logger = logger
            logger[metadataKey: "replica.id"] = "\(id)"
            self.logger = logger
            for file in tightened { logger.warning("made a replica file private", metadata: ["file": "\(file)"]) }
            // Opening reads no change log: documents are built per space at first use and the
            // clock catches up with the log at the first write (`prepareToWrite`). What opening
            // used to check on the way, that every stored block decodes and applies, is checked
            // where a block is read (a write or merge in its space, `changes`, a bundle export),
            // which refuses a damaged one as opening did; a read served by the materialised
            // tables does not need it. Waiting changes are buffered again with their space's
            // document. SQLite's own recovery (WAL) and the signing migration above still run here.
            held = Set(try database.read { db in try Self.heldSpaces(db) })
            clock = HybridLogicalClock(wall: AnyWallClock(wallClock), last: storedTimestamp)
        } catch let error as ReplicaError {
            throw error
        } catch let row as DamagedRow {
            throw .damagedRow(row)
        } catch {
            throw .storage("cannot open replica at \(path): \(error)", underlying: error)
        }
        checkpointer = WALCheckpointer(path: path, configuration: configuration, logger: logger)
        let spaceCount = held.count
        logger.debug("replica opened", metadata: ["path": "\(path)", "spaces": "\(spaceCount)"])
    }

    /// Reads or creates the replica identity and the clock's high-water mark as stored
    /// (replicas before this version stored it with every edit; the log now holds it).
    private static func identity(_ db: Database) throws -> (ReplicaID, HLCTimestamp) {
        let id: ReplicaID
        if let stored = try metaInteger("replica_id", db) {
            guard let existing = ReplicaID(storedValue: stored) else {
                throw DamagedRow(table: "meta", column: "value of 'replica_id'", found: "the integer \(stored)")
            }
            id = existing
        } else {
            id = ReplicaID.random()
            try db.execute(sql: "INSERT INTO meta (key, value) VALUES ('replica_id', ?)", arguments: [id.storedValue])
        }
        let packed = UInt64(bitPattern: try metaInteger("hlc", db) ?? 0)
        return (id, HLCTimestamp(wallTime: packed >> 16, logical: UInt16(truncatingIfNeeded: packed)))
    }

    /// The integer `meta` holds under `key`, or `nil` when it holds none.
    private static func metaInteger(_ key: String, _ db: Database) throws -> Int64? {
        guard let row = try Row.fetchOne(db, sql: "SELECT value FROM meta WHERE key = ?", arguments: [key]) else { return nil }
        do {
            return try row.required("value", of: "meta", \.storedInt64)
        } catch {
            throw DamagedRow(table: "meta", column: "value of '\(key)'", found: error.found)
        }
    }

    /// The newest timestamp among the stored changes, waiting ones included, or `latest` if
    /// none is newer: the clock's high-water mark (every timestamp the clock issued or
    /// received is in a stored change). Decodes every block; applies none.
    private static func newestTimestamp(_ db: Database, after latest: HLCTimestamp) throws -> HLCTimestamp {
        var latest = latest
        for (table, sql) in [
            ("change_blocks", "SELECT space_id, body FROM change_blocks ORDER BY block_id"),
            ("pending_changes", "SELECT space_id, body FROM pending_changes"),
        ] {
            let rows = try Row.fetchCursor(db, sql: sql)
            while let row = try rows.next() {
                _ = try row.required("space_id", of: table, \.storedSpaceID)
                for change in try row.storedChanges(of: table) where change.timestamp > latest { latest = change.timestamp }
            }
        }
        return latest
    }

    /// Reads what a write needs and opening leaves unread, once: the clock's high-water mark
    /// from the whole log (a write in one space must still come after every timestamp this
    /// device has seen in any, as when opening replayed the log) and the conflicted registers.
    /// Every write (edit, merge, erasure, leaving) calls it before it starts.
    func prepareToWrite() throws(ReplicaError) {
        guard !preparedToWrite else { return }
        let last = clock.last
        let (latest, registers) = try readLog { db in
            (try Self.newestTimestamp(db, after: last), try Self.loadConflictedRegisters(db))
        }
        clock.advance(to: latest)
        conflictedRegisters = registers
        preparedToWrite = true
    }

    /// Runs a read of the change log, mapping failures to ``ReplicaError`` (a damaged row to
    /// ``ReplicaError/damagedRow(_:)``).
    private func readLog<T>(_ body: (Database) throws -> T) throws(ReplicaError) -> T {
        do {
            return try database.read { db in try body(db) }
        } catch {
            throw ReplicaError(storageFailure: error)
        }
    }

    /// The merge document of `space`, built from its log at first use (and kept); `nil`
    /// when the replica does not hold the space.
    ///
    /// - Throws: ``ReplicaError/damagedRow(_:)`` or ``ReplicaError/storage(_:underlying:)`` when the
    ///   space's stored log cannot be read or applied.
    func loadedDocument(_ space: SpaceID) throws(ReplicaError) -> SpaceDocument? {
        if let built = documents[space] { return built }
        guard held.contains(space) else { return nil }
        let document = try readLog { db in try Self.loadDocument(space, db) }
        documents[space] = document
        return document
    }

    /// ``loadedDocument(_:)`` of every held space.
    func loadedDocuments() throws(ReplicaError) -> [SpaceID: SpaceDocument] {
        for space in held.sorted() { _ = try loadedDocument(space) }
        return documents
    }

    /// Inside a write transaction: takes `space`'s document out of ``documents`` to change
    /// it in place, building it from the log first if it was not built; `nil` when the
    /// replica does not hold the space.
    func takeDocument(_ space: SpaceID, _ db: Database) throws -> SpaceDocument? {
        if let built = documents.removeValue(forKey: space) { return built }
        guard held.contains(space) else { return nil }
        do { return try Self.loadDocument(space, db) } catch { throw ReplicaError(storageFailure: error) }
    }

    /// A stored change that cannot apply (refused on a text thread while the log replayed).
    private static func unreadableLog(of space: SpaceID, _ refusal: RefusedTextChange) -> ReplicaError {
        ReplicaError.storage(
            "the stored log of space \(space) holds change \(refusal.change), which cannot apply: \(refusal.error)", underlying: refusal)
    }

    /// Rebuilds one space's pure state from the database.
    static func loadDocument(_ space: SpaceID, _ db: Database) throws -> SpaceDocument {
        var document = SpaceDocument(space: space)
        let blocks = try Row.fetchCursor(
            db, sql: "SELECT body FROM change_blocks WHERE \(ReplicaSchema.blocksOfSpace) ORDER BY block_id", arguments: [space.blob])
        var textThreads = TextThreads(threshold: defaultConcurrentTextThreshold)  // one space: never past the cap
        /// A refusal on the text thread: a stored change that cannot apply.
        func readable(_ step: () throws(RefusedTextChange) -> Void) throws(ReplicaError) {
            do throws(RefusedTextChange) { try step() } catch { throw unreadableLog(of: space, error) }
        }
        while let row = try blocks.next() {
            let changes = try row.storedChanges(of: "change_blocks")
            _ = textThreads.start(space, &document, frameSize: changes.count)
            // In slices, so that the thread integrates one while the next replays.
            var start = changes.startIndex
            while start < changes.endIndex {
                let end = min(start + TextThreads.batchSize, changes.endIndex)
                try document.replay(changes[start..<end])
                try readable { () throws(RefusedTextChange) in try textThreads.feed(space, &document, all: true) }
                start = end
            }
        }
        for row in try Row.fetchAll(db, sql: "SELECT body FROM pending_changes WHERE space_id = ?", arguments: [space.blob]) {
            try document.apply(try row.storedChanges(of: "pending_changes"))
            try readable { () throws(RefusedTextChange) in try textThreads.feed(space, &document, all: true) }
        }
        try readable { () throws(RefusedTextChange) in try textThreads.end(space, &document) }
        return document
    }

    /// The spaces the `spaces` table lists.
    static func heldSpaces(_ db: Database) throws -> [SpaceID] {
        try Row.fetchAll(db, sql: "SELECT space_id FROM spaces").map { row throws(DamagedRow) in
            try row.required("space_id", of: "spaces", \.storedSpaceID)
        }
    }

    private static func loadConflictedRegisters(_ db: Database) throws -> Set<FieldRef> {
        var registers: Set<FieldRef> = []
        for row in try Row.fetchAll(db, sql: "SELECT DISTINCT entity_id, field FROM field_conflicts") {
            if let entity = (row["entity_id"] as DatabaseValue).storedEntityID, let field = String.fromDatabaseValue(row["field"]) {
                registers.insert(FieldRef(entity, field))
            }
        }
        return registers
    }

    /// The spaces this replica holds.
    public var spaces: [SpaceID] { held.sorted() }

    /// The pure merged state of a space (a value: later edits do not change it), built from
    /// the space's change log at the first call after opening.
    ///
    /// `nil` when the replica does not hold the space, or when its stored log cannot be
    /// rebuilt (a damaged file: logged as an error; the space's next write refuses, saying why).
    public func document(_ space: SpaceID) -> SpaceDocument? {
        do {
            return try loadedDocument(space)
        } catch {
            logger.error("cannot build a space from its change log", metadata: ["space.id": "\(space)", "error": "\(error)"])
            return nil
        }
    }

    /// Starts holding a space (nothing to do when already held).
    public func addSpace(_ space: SpaceID) throws(ReplicaError) {
        guard !held.contains(space) else { return }
        try write { db in try Self.insertSpace(space, db, clock: self.clock) }
        held.insert(space)
        documents[space] = SpaceDocument(space: space)
    }

    static func insertSpace(_ space: SpaceID, _ db: Database, clock: HybridLogicalClock<AnyWallClock>) throws {
        try db.execute(
            sql:
                "INSERT OR IGNORE INTO spaces (space_id, added_at, number) VALUES (?, ?, (SELECT coalesce(max(number), 0) + 1 FROM spaces))",
            arguments: [space.blob, Int64(bitPattern: clock.wall.millisecondsSinceEpoch())])
    }

    /// Runs a write transaction, mapping database failures to ``ReplicaError/storage(_:underlying:)``.
    func write<T>(_ body: (Database) throws -> T) throws(ReplicaError) -> T {
        do {
            return try database.write { db in try body(db) }
        } catch let error as ReplicaError {
            throw error
        } catch {
            logger.error("write failed", metadata: ["error": "\(error)"])
            throw .storage("\(error)", underlying: error)
        }
    }

    /// Stores the changes applied to a space, in application order, as one block.
    static func appendBlock(_ changes: [Change], space: SpaceID, _ db: Database) throws {
        guard !changes.isEmpty else { return }
        try appendEncodedBlock(Data(ChangeCodec.encode(changes)), count: changes.count, space: space, db)
    }

    /// Stores applied changes as blocks of at most 4,096.
    static func appendBlocks(_ changes: [Change], space: SpaceID, _ db: Database) throws {
        var start = 0
        while start < changes.count {
            let end = min(start + 4096, changes.count)
            try appendBlock(Array(changes[start..<end]), space: space, db)
            start = end
        }
    }

    /// Stores a block already in the binary format (a bundle frame applied verbatim).
    static func appendEncodedBlock(_ bytes: Data, count: Int, space: SpaceID, _ db: Database) throws {
        guard count > 0 else { return }
        try db.cachedStatement(sql: ReplicaSchema.appendBlock)
            .execute(arguments: [space.blob, count, bytes])
    }

    /// Raises the stored version vector of a space to cover `changes`.
    static func storeVector(of changes: [Change], space: SpaceID, _ db: Database) throws {
        var highest: [ReplicaID: UInt64] = [:]
        var run: (replica: ReplicaID, last: UInt64)?  // one author's consecutive changes, without hashing each
        for change in changes {
            if let current = run, current.replica == change.replica {
                run = (current.replica, max(current.last, change.lastCounter))
                continue
            }
            if let current = run { highest[current.replica] = max(highest[current.replica] ?? 0, current.last) }
            run = (change.replica, change.lastCounter)
        }
        if let current = run { highest[current.replica] = max(highest[current.replica] ?? 0, current.last) }
        let statement = try db.cachedStatement(
            sql: """
                INSERT INTO vectors (space_id, replica, counter) VALUES (?, ?, ?)
                ON CONFLICT (space_id, replica) DO UPDATE SET counter = max(counter, excluded.counter)
                """)
        for (replica, counter) in highest {
            try statement.execute(arguments: [space.blob, replica.storedValue, Int64(bitPattern: counter)])
        }
    }
}

/// A type-erased ``WallClock``, so the replica can hold any clock.
struct AnyWallClock: WallClock {
    let base: any WallClock

    init(_ base: some WallClock) { self.base = base }

    func millisecondsSinceEpoch() -> UInt64 { base.millisecondsSinceEpoch() }
}
