import DialogueModel
import DialogueTestSupport
import Foundation
import GRDB
import Testing

@testable import DialogueSync

/// The errors an app meets: stable codes, the context they name, and the cause kept (a real
/// SQLite failure keeps GRDB's `DatabaseError` with its result code); and the read-only
/// reader that replaces the public database pool.
@Suite("Public errors and the read-only reader")
struct PublicErrorTests {
    typealias Fixture = ReplicaBadInputTests.Fixture

    @Test("a write SQLite refuses is a storage error keeping GRDB's DatabaseError and its result codes; nothing changes")
    func storageFailureKeepsTheDatabaseError() async throws {
        let f = try await Fixture.make()
        // A real SQLite failure inside the replica's own write transaction: a trigger
        // refusing every new change block, as a full or failing disk would refuse the write.
        try await f.replica.database.write { db in
            try db.execute(
                sql: "CREATE TRIGGER refuse_blocks BEFORE INSERT ON change_blocks BEGIN SELECT RAISE(ABORT, 'disk says no'); END")
        }
        let before = try await ReplicaSnapshot(f.replica)
        let session = f.session!
        do {
            try await f.replica.edit(in: f.space) { editor in
                try editor.set(DialogueSession.Field.title, of: session, to: .string("Renamed"))
            }
            Issue.record("the edit was stored despite the trigger")
        } catch let error as ReplicaError {
            #expect(error.code == .storage)
            #expect(error.code.rawValue == "storage")
            let database = try #require(error.databaseError, "the DatabaseError was dropped: \(error)")
            #expect(database.resultCode == .SQLITE_CONSTRAINT)
            #expect(database.extendedResultCode == .SQLITE_CONSTRAINT_TRIGGER)
            #expect(database.message == "disk says no")
            #expect(error.underlying is DatabaseError)
            #expect(error.message.contains("disk says no"))
        }
        #expect(try await ReplicaSnapshot(f.replica) == before)
    }

    @Test("opening a file that is not a database keeps SQLite's SQLITE_NOTADB")
    func openingNotADatabaseKeepsTheResultCode() throws {
        let directory = TemporaryDirectory()
        let path = directory.path("notes.sqlite")
        try Data(String(repeating: "Minutes of the partnership meeting.\n", count: 200).utf8).write(to: URL(fileURLWithPath: path))
        do throws(ReplicaError) {
            _ = try Replica(path: path)
            Issue.record("a text file opened as a replica")
        } catch {
            #expect(error.code == .storage)
            #expect(error.databaseError?.resultCode == .SQLITE_NOTADB, "\(String(describing: error.underlying))")
        }
    }

    @Test("each refusal has its stable code and names its context")
    func stableCodesAndContext() {
        let entity = EntityID(UUID(uuidString: "00000000-0000-4000-8000-000000000001")!)
        let space = SpaceID(UUID(uuidString: "5ace0000-0000-4000-8000-000000000002")!)
        let dot = Dot(ReplicaID(rawValue: 7)!, 3)
        let notFound = ReplicaError.entityNotFound(entity)
        #expect(notFound.code.rawValue == "entity_not_found" && notFound.entity == entity && notFound.underlying == nil)
        #expect(ReplicaError.unknownSpace(space).space == space)
        let rejected = ReplicaError.changeRejected(dot, code: .invalidValue, reason: "no")
        #expect(rejected.code == .changeRejected && rejected.change == dot && rejected.rejection == .invalidValue)
        // The codes the server gives the same refusals.
        #expect(ReplicaError.spaceNotPermitted(space, name: nil).code.rawValue == "space_not_permitted")
        #expect(ReplicaError.noPinnedServerKey.code.rawValue == "not_logged_in")
        #expect(ReplicaError.loginRequired("exporting").code == .notLoggedIn)
        #expect(SyncClientError.notLoggedIn(ReplicaID(rawValue: 7)!).code.rawValue == "not_logged_in")
        let refused = SyncClientError.refused(status: 403, code: "forbidden", message: "not yours", rejected: [])
        #expect(refused.code == .refused && refused.status == 403 && refused.serverCode == "forbidden")
        // A local failure keeps the replica's error, and its own cause behind it.
        let cause = DatabaseError(resultCode: .SQLITE_FULL, message: "database or disk is full")
        let local = SyncClientError.local(.storage("\(cause)", underlying: cause))
        #expect(local.code == .local && local.replicaError?.databaseError?.resultCode == .SQLITE_FULL)
        // New codes need no new case: an app compares what it knows.
        #expect(ReplicaError.Code(rawValue: "entity_not_found") == .entityNotFound)
    }

    @Test("the reader cannot write, even through its reentrant read, and cannot close the replica")
    func readerIsReadOnly() async throws {
        let f = try await Fixture.make()
        let before = try await ReplicaSnapshot(f.replica)
        let reader = f.replica.reader
        let write: @Sendable (Database) throws -> Void = { db in try db.execute(sql: "DELETE FROM change_blocks") }
        for attempt in ["read", "unsafeReentrantRead"] {
            do {
                if attempt == "read" { try await reader.read(write) } else { try reader.unsafeReentrantRead(write) }
                Issue.record("\(attempt): the reader wrote")
            } catch let error as DatabaseError {
                #expect(error.resultCode == .SQLITE_READONLY, "\(attempt): \(error)")
            }
        }
        try reader.close()
        #expect(try await reader.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM change_blocks") } ?? 0 > 0)
        #expect(try await ReplicaSnapshot(f.replica) == before)
    }
}
