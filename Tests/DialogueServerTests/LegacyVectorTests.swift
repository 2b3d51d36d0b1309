import DialogueModel
import DialogueServer
import DialogueSync
import DialogueTestSupport
import Foundation
import GRDB
import Testing

/// A server store from before signing, first opened by this version, records each space's
/// legacy vector once, and signs it into the space directory (docs/TRUST.md, "Migration").
@Suite("Migration: the server's legacy vector")
struct LegacyVectorTests {
    typealias Old = PreSigningStore

    /// Writes the old store of `kind`; `open` opens it with this version (any number of times).
    final class OldStore: Sendable {
        let kind: StoreKind
        let directory = ServerTestDirectory()
        let database: PostgresTestDatabase?

        init(_ kind: StoreKind) async throws {
            self.kind = kind
            switch kind {
            case .sqlite:
                database = nil
                try Old.writeSQLite(at: directory.path("server.sqlite"))
            case .postgres:
                let database = try await PostgresTestDatabase.create()
                self.database = database
                let result = try await runProcess(
                    PostgresTestDatabase.psql, [database.url, "-v", "ON_ERROR_STOP=1", "-qAt", "-c", Old.postgresSQL])
                guard result.status == 0 else {
                    throw TestSetupFailure(description: "cannot write the old PostgreSQL store: \(result.stderr)")
                }
            }
        }

        func open() async throws -> any SyncStore {
            switch kind {
            case .sqlite: try SQLiteSyncStore(path: directory.path("server.sqlite"))
            case .postgres:
                try await PostgresSyncStore.connect(
                    url: database!.url, logger: quietLogger("dialogue.test.postgres"), timeout: postgresTestTimeout)
            }
        }

        func legacyRows() async throws -> Int {
            switch kind {
            case .sqlite:
                let queue = try DatabaseQueue(path: directory.path("server.sqlite"))
                defer { try? queue.close() }
                return try await queue.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM legacy_vectors") ?? -1 }
            case .postgres:
                let result = try await runProcess(
                    PostgresTestDatabase.psql, [database!.url, "-qAt", "-c", "SELECT count(*) FROM legacy_vectors"])
                return Int(result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1
            }
        }

        func dispose() async { await database?.drop() }
    }

    func entries(_ store: any SyncStore) async throws -> [SpaceID: VersionVector] {
        Dictionary(uniqueKeysWithValues: try await store.spaceListings(ofSchool: Old.school).map { ($0.space, $0.legacy) })
    }

    @Test(
        "an old store opened by this version records what it held per space, once; later appends and spaces never change it",
        arguments: StoreKind.allCases)
    func oldStoreRecordsItsLegacyVector(_ kind: StoreKind) async throws {
        let old = try await OldStore(kind)
        do {
            // PostgreSQL: several processes open the old database at once; the first records, the others read it.
            let stores: [any SyncStore]
            if kind == .postgres {
                async let first = old.open()
                async let second = old.open()
                stores = try await [first, second]
            } else {
                stores = [try await old.open()]
            }
            for store in stores {
                #expect(try await entries(store) == [Old.sharedSpace: Old.legacy, Old.privateSpace: VersionVector()])
            }
            let store = stores[0]
            #expect(try await store.vector(of: Old.sharedSpace) == Old.legacy)

            // New changes after the first open (another device's) never move it.
            let newcomer = ReplicaID(rawValue: 0x0000_0000_0000_0e11)!
            var document = SpaceDocument(space: Old.sharedSpace)
            let change = document.create(
                EntityID(UUID()), kind: .session,
                by: EditContext(replica: newcomer, timestamp: HLCTimestamp(wallTime: 1_767_225_700_000, logical: 0)))
            try await store.append([change], to: Old.sharedSpace)
            // A partnership made afterwards starts with an empty one.
            let south = try await store.createPartnership(name: "South")
            try await store.addSchool(Old.school, toPartnership: south.id)
            for store in stores { try await store.close() }

            let reopened = try await old.open()
            #expect(try await reopened.vector(of: Old.sharedSpace)[newcomer] == 1)
            #expect(
                try await entries(reopened) == [
                    Old.sharedSpace: Old.legacy, Old.privateSpace: VersionVector(), south.sharedSpace: VersionVector(),
                ])

            // The server signs it into the member's directory.
            let authority = ServerAuthority(store: reopened)
            let keys = try await authority.keys()
            let member = try #require(try await reopened.members().first { $0.id == Old.member })
            let directory = try await authority.directory(for: member, keys: keys)
            try directory.verify(trusting: try keys.ring)
            #expect(directory.entry(for: Old.sharedSpace)?.legacy == Old.legacy)
            #expect(directory.entry(for: south.sharedSpace)?.legacy == VersionVector())
            try await reopened.close()
            #expect(try await old.legacyRows() == 1)
        } catch {
            await old.dispose()
            throw error
        }
        await old.dispose()
    }

    @Test("a store created by this version has empty legacy vectors", arguments: StoreKind.allCases)
    func newStoreHasNoLegacy(_ kind: StoreKind) async throws {
        try await withFreshStore(kind) { fresh in
            let accounts = try await AccountFixture.make(fresh.store)
            var document = SpaceDocument(space: accounts.partnership.sharedSpace)
            let change = document.create(
                EntityID(UUID()), kind: .session,
                by: EditContext(replica: ReplicaID(rawValue: 7)!, timestamp: HLCTimestamp(wallTime: 1_767_225_600_000, logical: 0)))
            try await fresh.store.append([change], to: accounts.partnership.sharedSpace)
            for listing in try await fresh.store.spaceListings(ofSchool: accounts.hill.id) {
                #expect(listing.legacy == VersionVector(), "\(listing.space)")
            }
        }
    }
}

/// Writes Tests/DialogueClientTests/Fixtures/server-pre-signing.sqlite, the store the
/// client's upgrade test runs the real server over (`DIALOGUE_REGENERATE_FIXTURES=1`).
@Test(
    "regenerate Tests/DialogueClientTests/Fixtures/server-pre-signing.sqlite",
    .enabled(if: ProcessInfo.processInfo.environment["DIALOGUE_REGENERATE_FIXTURES"] == "1"))
func regeneratePreSigningServerFixture() throws {
    let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("DialogueClientTests/Fixtures/server-pre-signing.sqlite").path
    try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
    for suffix in ["", "-wal", "-shm", "-journal"] { try? FileManager.default.removeItem(atPath: path + suffix) }
    try PreSigningStore.writeSQLite(at: path)
}
