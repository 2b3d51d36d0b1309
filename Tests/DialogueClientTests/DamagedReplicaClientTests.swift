import Foundation
import GRDB
import Testing

/// A replica whose bookkeeping tables hold what Dialogue never writes there (an older
/// version, a hand edit, a damaged disk), through the real `dialogue-client`: GRDB's typed
/// subscripts trapped on such rows (`status`, `bundle export`, opening the replica: exit
/// 132). Each command now names the damaged table and column and exits 74.
@Suite("dialogue-client on a damaged replica")
struct DamagedReplicaClientTests {
    @Test(
        "status, bundle export and any command after a damaged row: exit 74 naming table and column, no trap",
        arguments: [
            // (what is planted, the command, the table and column named)
            (
                "INSERT INTO sync_state (space_id, server, last_sync_at) SELECT space_id, 'https://example.org', 'yesterday' FROM spaces",
                ["status"], "sync_state", "last_sync_at"
            ),
            ("UPDATE vectors SET counter = 'many'", ["bundle", "export", "out.dlgb"], "vectors", "counter"),
            // A listing reads no change log (issue 14, item 7); a write reads it.
            ("UPDATE change_blocks SET body = 'changes'", ["sessions", "create", "--title", "Another visit"], "change_blocks", "body"),
            ("INSERT INTO spaces (space_id, added_at, number) VALUES ('school', 0, 99)", ["status", "--json"], "spaces", "space_id"),
        ])
    func damagedRow(_ sql: String, _ command: [String], _ table: String, _ column: String) async throws {
        let scratch = Scratch()
        let leader = Leader("hill", in: scratch)
        try await leader.ok(["init", "--space", UUID().uuidString.lowercased()])
        try await leader.ok(["sessions", "create", "--title", "Feedback that moves learning on", "--at", "2025-03-14"])
        var configuration = Configuration()
        configuration.foreignKeysEnabled = false
        let queue = try DatabaseQueue(path: leader.replica, configuration: configuration)
        try await queue.write { db in try db.execute(sql: sql) }
        try queue.close()

        let arguments = command.map { $0.hasSuffix(".dlgb") ? scratch.path($0) : $0 }
        let result = try await leader.client(arguments)
        #expect(result.status == 74, "\(command.joined(separator: " ")) exited \(result.status): \(result.stderr)")
        for words in ["replica file is damaged", "table '\(table)', column '\(column)'", "backup"] {
            #expect(result.stderr.contains(words), "\(command.joined(separator: " ")): \(result.stderr)")
        }
    }
}
