import DialogueModel
import Foundation
import GRDB
import Testing

@testable import DialogueSync

/// A database written by the first schema version (migrations up to "v1-materialized")
/// opens, migrates and keeps its data, identity and clock.
///
/// The fixture `Fixtures/replica-v1.sqlite` is a file exactly as a v1 replica left it
/// (code as of commit 8c3e5ff): one space holding one session with a title and a summary,
/// made in one edit. ``generateFixture()`` wrote it; it is checked in and never
/// regenerated unless the v1 layout itself was described wrongly.
@Suite("Replica migrations")
struct ReplicaMigrationTests {
    /// What the fixture holds.
    enum V1 {
        static let replica = ReplicaID(rawValue: 0x00D1_A10C_0E00_0001)!
        static let space = SpaceID(UUID(uuidString: "5ace0000-0000-4000-8000-0000000f1a7e")!)
        static let session = EntityID(UUID(uuidString: "5e550000-0000-4000-8000-000000000001")!)
        static let title = "Feedback that moves learning on"
        static let summary = "We agreed to try feedback-first marking in Year 5."
        /// 2026-01-01T00:00:00Z: the wall time of the edit that made the fixture.
        static let wallTime: UInt64 = 1_767_225_600_000
        static let lastMigration = "v1-materialized"
    }

    static var fixtureSourceURL: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/replica-v1.sqlite")
    }

    // MARK: The fixture generator

    @Test("regenerate Fixtures/replica-v1.sqlite", .disabled("regenerates the fixture"))
    func regenerateFixture() throws {
        try FileManager.default.createDirectory(
            at: Self.fixtureSourceURL.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Self.generateFixture(at: Self.fixtureSourceURL.path)
    }

    /// Writes a replica file exactly as the first schema version's code did after one
    /// edit (create a session, title it, mark it planned, type its summary), with the
    /// SQL of that version spelled out here so that later code changes cannot alter it.
    static func generateFixture(at path: String) throws {
        for suffix in ["", "-wal", "-shm", "-journal"] { try? FileManager.default.removeItem(atPath: path + suffix) }
        // The edit, made with the pure model as `SpaceEditor` made it: one clock reading per operation.
        var document = SpaceDocument(space: V1.space)
        var logical: UInt16 = 0
        func context() -> EditContext {
            defer { logical += 1 }
            return EditContext(replica: V1.replica, timestamp: HLCTimestamp(wallTime: V1.wallTime, logical: logical))
        }
        var changes: [Change] = []
        changes.append(document.create(V1.session, kind: .session, by: context()))
        changes.append(document.set(DialogueSession.Field.title, of: V1.session, to: .string(V1.title), by: context()))
        changes.append(
            document.set(DialogueSession.Field.status, of: V1.session, to: .string(SessionStatus.planned.rawValue), by: context()))
        changes += try document.editText(DialogueSession.Field.summary, of: V1.session, at: 0, insert: V1.summary, by: context())
        let last = changes.map(\.timestamp).max()!

        var configuration = Configuration()
        configuration.journalMode = .default  // rollback journal: no -wal or -shm beside the fixture
        let queue = try DatabaseQueue(path: path, configuration: configuration)
        try ReplicaSchema.migrator.migrate(queue, upTo: V1.lastMigration)
        try queue.write { db in
            let spaceBlob = V1.space.blob
            // Replica identity and the clock's high-water mark, as v1 stored them (two rows).
            try db.execute(sql: "INSERT INTO meta (key, value) VALUES ('replica_id', ?)", arguments: [V1.replica.storedValue])
            try db.execute(sql: "INSERT INTO spaces (space_id, added_at) VALUES (?, ?)", arguments: [spaceBlob, Int64(V1.wallTime)])
            try db.execute(
                sql: "INSERT INTO change_blocks (space_id, change_count, body) VALUES (?, ?, ?)",
                arguments: [spaceBlob, changes.count, Data(ChangeCodec.encode(changes))])
            try db.execute(
                sql: "INSERT INTO vectors (space_id, replica, counter) VALUES (?, ?, ?)",
                arguments: [spaceBlob, V1.replica.storedValue, Int64(document.vector[V1.replica])])
            try db.execute(sql: "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", arguments: ["hlc_wall", Int64(last.wallTime)])
            try db.execute(sql: "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", arguments: ["hlc_logical", Int64(last.logical)])
            // The materialised session row and its full-text entry (title — focus, summary).
            try db.execute(
                sql: """
                    INSERT INTO sessions (
                        session_id, space_id, title, scheduled_at, host_school, facilitator, focus, strategy, status, summary, deleted)
                    VALUES (?, ?, ?, NULL, NULL, NULL, NULL, NULL, ?, ?, 0)
                    """,
                arguments: [V1.session.blob, spaceBlob, V1.title, SessionStatus.planned.rawValue, V1.summary])
            try db.execute(
                sql: "INSERT INTO search_entities (entity_id, space_id, kind) VALUES (?, ?, ?)",
                arguments: [V1.session.blob, spaceBlob, EntityKind.session.rawValue])
            try db.execute(
                sql: "INSERT INTO search_index (rowid, title, body) VALUES (?, ?, ?)",
                arguments: [db.lastInsertedRowID, V1.title, V1.summary])
        }
        try queue.writeWithoutTransaction { db in try db.execute(sql: "VACUUM") }
        try queue.close()
    }

    // MARK: Opening a v1 file

    /// A copy of the fixture in a temporary directory (the fixture itself is never opened for writing).
    func copyOfFixture(_ directory: TemporaryDirectory) throws -> String {
        let fixture = try #require(
            Bundle.module.url(forResource: "replica-v1", withExtension: "sqlite", subdirectory: "Fixtures"),
            "Fixtures/replica-v1.sqlite is not a resource of the test target")
        let path = directory.path("replica-v1.sqlite")
        try FileManager.default.copyItem(atPath: fixture.path, toPath: path)
        return path
    }

    @Test("the fixture is a v1 database, as committed")
    func fixtureIsV1() async throws {
        let directory = TemporaryDirectory()
        let path = try copyOfFixture(directory)
        let applied = try await DatabaseQueue(path: path).read { db in
            try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations ORDER BY rowid")
        }
        let v1 = try #require(ReplicaSchema.migrationIdentifiers.firstIndex(of: V1.lastMigration))
        #expect(applied == Array(ReplicaSchema.migrationIdentifiers[...v1]))
        #expect(applied.last == V1.lastMigration)
        for suffix in ["-wal", "-shm", "-journal"] {
            #expect(
                !FileManager.default.fileExists(atPath: Self.fixtureSourceURL.path + suffix), "the fixture has a \(suffix) file beside it")
        }
    }

    @Test("a v1 database opens, migrates and keeps its identity, data and materialised rows")
    func v1DatabaseMigrates() async throws {
        let directory = TemporaryDirectory()
        let path = try copyOfFixture(directory)
        let replica = try Replica(path: path)

        // Every migration is recorded.
        let applied = try await replica.database.read { db in
            try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations")
        }
        #expect(Set(applied) == Set(ReplicaSchema.migrationIdentifiers), "applied migrations: \(applied)")
        #expect(try await replica.database.read { db in try db.tableExists("sync_state") })

        // Identity and content.
        #expect(replica.id == V1.replica)
        #expect(await replica.spaces == [V1.space])
        let document = try #require(await replica.document(V1.space))
        let session = try #require(DialogueSession(V1.session, in: document))
        #expect(session.title == V1.title)
        #expect(session.summary == V1.summary)
        #expect(session.status == .planned)
        #expect(document.sessions.map(\.id) == [V1.session])
        let held = try replica.heldVectors()
        #expect(held[V1.space] == document.vector)
        #expect(held[V1.space]?[V1.replica] == UInt64(4 + V1.summary.unicodeScalars.count - 1))

        // The materialised row survived the migration.
        let row = try await replica.database.read { db in
            try Row.fetchOne(
                db, sql: "SELECT title, summary, status, deleted FROM sessions WHERE session_id = ?", arguments: [V1.session.blob])
        }
        let stored = try #require(row, "the v1 session row is gone")
        #expect(stored["title"] as String? == V1.title)
        #expect(stored["summary"] as String? == V1.summary)
        #expect(stored["status"] as String? == SessionStatus.planned.rawValue)
        #expect(stored["deleted"] as Bool? == false)
    }

    @Test("a migrated v1 replica takes new edits, continuing its counters and its clock")
    func editAfterMigration() async throws {
        let directory = TemporaryDirectory()
        let path = try copyOfFixture(directory)
        // A wall clock an hour behind the fixture's last edit: the stored high-water mark must still win.
        let clock = ManualWallClock(V1.wallTime - 3_600_000)
        let replica = try Replica(path: path, wallClock: clock)
        let before = try #require(try replica.heldVectors()[V1.space])[V1.replica]
        let session = V1.session
        try await replica.edit(in: V1.space) { editor in
            try editor.set(DialogueSession.Field.title, of: session, to: .string("Feedback, revisited"))
            try editor.editText(DialogueSession.Field.summary, of: session, at: 0, insert: "Update: ")
            try editor.set(DialogueSession.Field.status, of: session, to: .string(SessionStatus.held.rawValue))
        }
        let document = try #require(await replica.document(V1.space))
        let view = try #require(DialogueSession(session, in: document))
        #expect(view.title == "Feedback, revisited")
        #expect(view.summary == "Update: " + V1.summary)
        #expect(view.status == .held)

        // The new changes continue the fixture's counters and come after its last timestamp.
        let log = try replica.changes(in: V1.space, missingFrom: VersionVector([V1.replica: before])).changes
        #expect(log.first?.id == Dot(V1.replica, before + 1))
        let fixtureLast = HLCTimestamp(wallTime: V1.wallTime, logical: 3)
        for change in log {
            #expect(
                change.timestamp > fixtureLast,
                "change \(change.id) is timestamped \(change.timestamp), before the v1 replica's last edit \(fixtureLast)")
        }

        // Materialised, and still there after reopening.
        let row = try await replica.database.read { db in
            try Row.fetchOne(db, sql: "SELECT title, summary, status FROM sessions WHERE session_id = ?", arguments: [session.blob])
        }
        #expect(row?["title"] as String? == "Feedback, revisited")
        #expect(row?["summary"] as String? == "Update: " + V1.summary)
        #expect(row?["status"] as String? == SessionStatus.held.rawValue)
        let reopened = try Replica(path: path)
        #expect(await reopened.document(V1.space)?.canonicalExport() == document.canonicalExport())
    }
}

/// v5 gave each space a range of block ids instead of an index on (space, block): blocks
/// written by v4 code, two spaces interleaved, keep their spaces and their order.
@Suite("Replica migrations: block ranges")
struct ReplicaBlockRangeMigrationTests {
    @Test("interleaved blocks of two spaces written before v5 keep their spaces and order, and new blocks follow them")
    func interleavedSpacesMigrate() async throws {
        let directory = TemporaryDirectory()
        let path = directory.path("replica-v4.sqlite")
        let author = ReplicaID(rawValue: 0x0004_0000_0000_0001)!
        let spaces = [
            SpaceID(UUID(uuidString: "5ace0000-0000-4000-8000-0000000000a1")!),
            SpaceID(UUID(uuidString: "5ace0000-0000-4000-8000-0000000000b2")!),
        ]
        var documents = spaces.map { SpaceDocument(space: $0) }
        var blocks: [(space: Int, changes: [Change])] = []
        var logical: UInt16 = 0
        func context() -> EditContext {
            logical += 1
            return EditContext(replica: author, timestamp: HLCTimestamp(wallTime: 1_767_225_600_000, logical: logical))
        }
        // Three blocks per space, alternating: A1 B1 A2 B2 A3 B3; each creates a session and titles it.
        for round in 0..<3 {
            for space in 0..<2 {
                let session = EntityID(UUID())
                var changes = [documents[space].create(session, kind: .session, by: context())]
                changes.append(
                    documents[space].set(
                        DialogueSession.Field.title, of: session, to: .string("Space \(space) round \(round)"), by: context()))
                blocks.append((space, changes))
            }
        }
        let queue = try DatabaseQueue(path: path)
        try ReplicaSchema.migrator.migrate(queue, upTo: "v4-packed-clock")
        let counters = documents.map { $0.vector[author] }
        let written = blocks
        try await queue.write { db in
            try db.execute(sql: "INSERT INTO meta (key, value) VALUES ('replica_id', ?)", arguments: [author.storedValue])
            for (index, space) in spaces.enumerated() {
                try db.execute(
                    sql: "INSERT INTO spaces (space_id, added_at) VALUES (?, ?)", arguments: [space.blob, 1_767_225_600_000 + index])
                try db.execute(
                    sql: "INSERT INTO vectors (space_id, replica, counter) VALUES (?, ?, ?)",
                    arguments: [space.blob, author.storedValue, Int64(counters[index])])
            }
            for block in written {
                try db.execute(
                    sql: "INSERT INTO change_blocks (space_id, change_count, body) VALUES (?, ?, ?)",
                    arguments: [spaces[block.space].blob, block.changes.count, Data(ChangeCodec.encode(block.changes))])
            }
        }
        try queue.close()

        let replica = try Replica(path: path)
        for (index, space) in spaces.enumerated() {
            let expected = blocks.filter { $0.space == index }.flatMap(\.changes)
            #expect(try replica.changes(in: space, missingFrom: VersionVector()).changes == expected)
            #expect(await replica.document(space)?.canonicalExport() == documents[index].canonicalExport())
        }
        let layout = try await replica.database.read { db in
            (
                try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'change_blocks'"),
                try Int64.fetchAll(db, sql: "SELECT block_id FROM change_blocks ORDER BY block_id")
            )
        }
        #expect(layout.0.isEmpty, "indexes left on change_blocks: \(layout.0)")
        let first: Int64 = 1 << 40
        let second: Int64 = 2 << 40
        #expect(layout.1 == [first + 1, first + 2, first + 3, second + 1, second + 2, second + 3])

        // A new edit in the first space lands after its blocks and is found there; so does a new space's first block.
        let title = try await replica.edit(in: spaces[0]) { editor in try editor.createSession(title: "After the migration") }
        let third = SpaceID(UUID(uuidString: "5ace0000-0000-4000-8000-0000000000c3")!)
        try await replica.addSpace(third)
        try await replica.edit(in: third) { editor in _ = try editor.createSession(title: "A new space") }
        let ids = try await replica.database.read { db in
            try Int64.fetchAll(db, sql: "SELECT block_id FROM change_blocks ORDER BY block_id")
        }
        let thirdRange: Int64 = 3 << 40
        #expect(ids == [first + 1, first + 2, first + 3, first + 4, second + 1, second + 2, second + 3, thirdRange + 1])
        let firstSpaceLog = try replica.changes(in: spaces[0], missingFrom: VersionVector()).changes
        #expect(firstSpaceLog.contains { $0.entity == title })
        let thirdLog = try replica.changes(in: third, missingFrom: VersionVector()).changes
        #expect(!thirdLog.isEmpty && thirdLog.allSatisfy { $0.space == third })
    }
}
