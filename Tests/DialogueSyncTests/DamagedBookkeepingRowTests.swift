import DialogueModel
import DialogueTestSupport
import Foundation
import GRDB
import Testing

@testable import DialogueSync

/// The replica's bookkeeping tables (`meta`, `spaces`, `vectors`, `change_blocks`,
/// `pending_changes`, `sync_state`, `device_key`) holding what Dialogue never writes there (a value of
/// another type, an identifier of the wrong size, a change block cut short or garbage), as
/// an older version, a hand edit or a damaged disk may leave them. Every operation that
/// reads such a row refuses with ``ReplicaError/damagedRow(_:)`` naming the table and the
/// column; none traps (GRDB's typed subscripts used to: exit 132 through the binary, see
/// `DamagedReplicaClientTests`), and the others carry on.
@Suite("Damaged bookkeeping rows")
struct DamagedBookkeepingRowTests {
    typealias Fixture = ReplicaBadInputTests.Fixture

    /// The operations checked on a damaged replica. Opening reads no change log (issue 14,
    /// item 7): `firstWrite`, an edit on a replica opened afresh, reads the log and the
    /// waiting changes (the clock's high-water mark, the space's document).
    enum Operation: String, CaseIterable, Sendable {
        case open, firstWrite, heldVectors, changes, exportBundle, importBundle, lastSyncs, syncCursor
    }

    /// A row planted by `sql` (`?` is the fixture's space), and which operations must
    /// refuse it, naming `table` and `column`.
    struct Planting: Sendable, CustomTestStringConvertible {
        var name: String
        var sql: String
        var table: String
        var column: String
        var refusedBy: Set<Operation>
        var testDescription: String { name }
    }

    /// A space this test adds beside the fixture's (so rows naming it pass the foreign keys).
    static let otherSpace = SpaceID(UUID(uuidString: "5ace0000-0000-4000-8000-0000000000b2")!)

    static let plantings: [Planting] = [
        Planting(
            name: "meta: replica id stored as text", sql: "UPDATE meta SET value = 'alice' WHERE key = 'replica_id'",
            table: "meta", column: "value of 'replica_id'", refusedBy: [.open, .firstWrite]),
        Planting(
            name: "meta: replica id 0", sql: "UPDATE meta SET value = 0 WHERE key = 'replica_id'",
            table: "meta", column: "value of 'replica_id'", refusedBy: [.open, .firstWrite]),
        Planting(
            name: "meta: clock stored as a blob", sql: "INSERT OR REPLACE INTO meta (key, value) VALUES ('hlc', x'0102')",
            table: "meta", column: "value of 'hlc'", refusedBy: [.open, .firstWrite]),
        Planting(
            name: "spaces: a 2-byte space id", sql: "INSERT INTO spaces (space_id, added_at, number) VALUES (x'0102', 0, 99)",
            table: "spaces", column: "space_id", refusedBy: [.open, .heldVectors, .exportBundle, .firstWrite]),
        Planting(
            name: "spaces: a space id stored as text", sql: "INSERT INTO spaces (space_id, added_at, number) VALUES ('school', 0, 99)",
            table: "spaces", column: "space_id", refusedBy: [.open, .heldVectors, .exportBundle, .firstWrite]),
        Planting(
            name: "vectors: a counter stored as text", sql: "UPDATE vectors SET counter = 'many' WHERE space_id = ?",
            table: "vectors", column: "counter", refusedBy: [.heldVectors, .exportBundle]),
        Planting(
            name: "vectors: a replica stored as a real", sql: "UPDATE vectors SET replica = 1.5 WHERE space_id = ?",
            table: "vectors", column: "replica", refusedBy: [.heldVectors, .exportBundle]),
        Planting(
            name: "vectors: replica 0", sql: "UPDATE vectors SET replica = 0 WHERE space_id = ?",
            table: "vectors", column: "replica", refusedBy: [.heldVectors, .exportBundle]),
        Planting(
            name: "vectors: a space id stored as an integer", sql: "INSERT INTO vectors (space_id, replica, counter) VALUES (7, 1, 1)",
            table: "vectors", column: "space_id", refusedBy: [.heldVectors, .exportBundle]),
        Planting(
            name: "change_blocks: a body cut in half", sql: "UPDATE change_blocks SET body = substr(body, 1, length(body) / 2)",
            table: "change_blocks", column: "body", refusedBy: [.changes, .exportBundle, .firstWrite]),
        Planting(
            name: "change_blocks: a garbage body", sql: "UPDATE change_blocks SET body = x'00ff00ff00ff'",
            table: "change_blocks", column: "body", refusedBy: [.changes, .exportBundle, .firstWrite]),
        Planting(
            name: "change_blocks: a body stored as an integer", sql: "UPDATE change_blocks SET body = 42",
            table: "change_blocks", column: "body", refusedBy: [.changes, .exportBundle, .firstWrite]),
        Planting(
            name: "change_blocks: a body stored as text", sql: "UPDATE change_blocks SET body = 'changes'",
            table: "change_blocks", column: "body", refusedBy: [.changes, .exportBundle, .firstWrite]),
        Planting(
            name: "pending_changes: a garbage body",
            sql: "INSERT INTO pending_changes (space_id, replica, counter, body) VALUES (?, 5, 1, x'dead')",
            table: "pending_changes", column: "body", refusedBy: [.firstWrite]),
        Planting(
            name: "pending_changes: a space id of 3 bytes",
            sql: "INSERT INTO pending_changes (space_id, replica, counter, body) VALUES (x'010203', 5, 1, x'dead')",
            table: "pending_changes", column: "space_id", refusedBy: [.firstWrite]),
        Planting(
            name: "sync_state: last sync stored as text",
            sql: "INSERT INTO sync_state (space_id, server, last_sync_at) VALUES (?, 'https://example.org', 'yesterday')",
            table: "sync_state", column: "last_sync_at", refusedBy: [.lastSyncs]),
        Planting(
            name: "sync_state: server stored as a blob",
            sql: "INSERT INTO sync_state (space_id, server, last_sync_at) VALUES (?, x'00', 1)",
            table: "sync_state", column: "server", refusedBy: [.lastSyncs]),
        Planting(
            name: "sync_state: cursor stored as text",
            sql: "INSERT INTO sync_state (space_id, server, last_sync_at, acknowledged_seq) VALUES (?, 'https://example.org', 1, 'far')",
            table: "sync_state", column: "acknowledged_seq", refusedBy: [.syncCursor]),
        Planting(
            name: "device_key: the private key stored as text", sql: "UPDATE device_key SET private_key = 'secret'",
            table: "device_key", column: "private_key", refusedBy: [.open, .firstWrite]),
    ]

    @Test("a damaged bookkeeping row gives a typed error in every operation that reads it, and no trap", arguments: plantings)
    func damagedRow(_ planting: Planting) async throws {
        let f = try await Fixture.make()
        // A clean bundle to import, made before the damage.
        let bundle = f.directory.url.appendingPathComponent("clean.dlgb")
        try f.replica.exportBundle(to: bundle)
        // Planted through a connection of its own, foreign keys off (as a hand edit would be).
        var configuration = Configuration()
        configuration.foreignKeysEnabled = false
        let queue = try DatabaseQueue(path: f.directory.path("alice.sqlite"), configuration: configuration)
        let arguments: StatementArguments = planting.sql.contains("?") ? [f.space.blob] : []
        try await queue.write { db in
            try db.execute(sql: planting.sql, arguments: arguments)
            #expect(db.changesCount > 0, "\(planting.name): planted nothing")
        }
        try queue.close()

        for operation in Operation.allCases {
            let outcome: Result<Void, ReplicaError>
            do throws(ReplicaError) {
                try await Self.run(operation, on: f, bundle: bundle)
                outcome = .success(())
            } catch {
                outcome = .failure(error)
            }
            switch outcome {
            case .failure(let error) where error.damaged != nil && planting.refusedBy.contains(operation):
                let row = error.damaged!
                #expect(row.table == planting.table && row.column == planting.column, "\(planting.name), \(operation): \(row)")
                let message = ReplicaError.damagedRow(row).description
                for words in ["replica file is damaged", planting.table, planting.column, "backup"] {
                    #expect(message.contains(words), "\(planting.name), \(operation): '\(message)' lacks '\(words)'")
                }
            case .failure(let error):
                Issue.record("\(planting.name), \(operation): \(error)")
            case .success where planting.refusedBy.contains(operation):
                Issue.record("\(planting.name), \(operation): succeeded on a damaged row")
            case .success:
                break
            }
        }
    }

    static func run(_ operation: Operation, on f: Fixture, bundle: URL) async throws(ReplicaError) {
        switch operation {
        case .open:
            _ = try Replica(path: f.directory.path("alice.sqlite"), wallClock: f.clock)
        case .heldVectors:
            _ = try f.replica.heldVectors()
        case .changes:
            _ = try f.replica.changes(in: f.space, missingFrom: VersionVector())
        case .exportBundle:
            try f.replica.exportBundle(to: f.directory.url.appendingPathComponent("out.dlgb"), spaces: [f.space])
        case .importBundle:
            try await f.replica.importBundle(from: bundle)
        case .lastSyncs:
            _ = try f.replica.lastSyncs()
        case .syncCursor:
            _ = try f.replica.syncCursor(of: f.space, with: "https://example.org")
        case .firstWrite:
            let opened = try Replica(path: f.directory.path("alice.sqlite"), wallClock: f.clock)
            let session = f.session!
            do {
                try await opened.edit(in: f.space) { editor in
                    try editor.set(DialogueSession.Field.title, of: session, to: .string("Renamed"))
                }
            } catch let error as ReplicaError {
                throw error
            } catch {
                Issue.record("the first write threw \(error), not a ReplicaError")
            }
        }
    }
}
