import Foundation
import GRDB
import Testing

/// The poisoned session of issue 11 through the real `dialogue-client`: a session whose
/// `scheduledAt` holds the string "soon" (written by an older version straight into the
/// replica's tables) made `sessions list`, `sessions show` and `export` trap in GRDB (exit
/// 132). Every command must now finish and show the value as invalid.
@Suite("dialogue-client with invalid stored values")
struct InvalidStoredValueClientTests {
    @Test("sessions list/show, export (markdown, csv, json), actions, report and conflicts read a planted bad row without trapping")
    func plantedBadRow() async throws {
        let scratch = Scratch()
        let leader = Leader("hill", in: scratch)
        let space = UUID().uuidString.lowercased()
        try await leader.ok(["init", "--space", space])
        let created = try await leader.json(["sessions", "create", "--title", "Feedback that moves learning on", "--at", "2025-03-14"])
        let session = try #require((created as? [String: Any])?["session"] as? String)
        let captured = try await leader.json(["insights", "capture", session, "Pupils act on feedback", "--kind", "reflection"])
        let insight = try #require((captured as? [String: Any])?["insight"] as? String)
        try await leader.ok(["actions", "add", "Share the policy", "--session", session, "--due", "2026-03-01"])
        let sessionBlob = try #require(UUID(uuidString: session)).blob
        let queue = try DatabaseQueue(path: leader.replica)
        try await queue.write { db in
            try db.execute(sql: "UPDATE sessions SET scheduled_at = 'soon', status = 4 WHERE session_id = ?", arguments: [sessionBlob])
            try db.execute(
                sql: "UPDATE insights SET kind = x'00' WHERE insight_id = ?", arguments: [try #require(UUID(uuidString: insight)).blob])
            try db.execute(sql: "UPDATE actions SET due_date = 20260301")
        }
        try queue.close()

        for arguments in [
            ["sessions", "list"], ["sessions", "show", session], ["export", "--session", session],
            ["export", "--session", session, "--format", "csv"], ["export", "--space", space, "--format", "markdown"],
            ["actions", "list"],
        ] {
            let result = try await leader.client(arguments)
            #expect(result.status == 0, "\(arguments.joined(separator: " ")) exited \(result.status): \(result.stderr)")
            #expect(result.stdout.contains("(invalid value)"), "\(arguments.joined(separator: " ")): \(result.stdout)")
        }
        for arguments in [
            ["sessions", "list", "--json"], ["sessions", "show", session, "--json"], ["export", "--session", session, "--format", "json"],
            ["export", "--space", space, "--format", "json"], ["report", "--json"], ["conflicts", "--json"],
        ] {
            let result = try await leader.client(arguments)
            #expect(result.status == 0, "\(arguments.joined(separator: " ")) exited \(result.status): \(result.stderr)")
            #expect(
                arguments.first == "report" || arguments.first == "conflicts" || result.stdout.contains(#""invalidFields""#),
                "\(arguments.joined(separator: " ")): \(result.stdout)")
        }
        let listed = try await leader.json(["sessions", "list"])
        let first = try #require((listed as? [[String: Any]])?.first)
        #expect(first["scheduledAt"] == nil)
        #expect(Set(first["invalidFields"] as? [String] ?? []) == ["scheduledAt", "status"])

        // The next valid write replaces the invalid value.
        try await leader.ok(["sessions", "edit", session, "--at", "2025-03-21", "--status", "held"])
        let repaired = try await leader.json(["sessions", "list"])
        let again = try #require((repaired as? [[String: Any]])?.first)
        #expect(again["invalidFields"] == nil && again["scheduledAt"] != nil && again["status"] as? String == "held")
    }
}

extension UUID {
    /// The 16 bytes, as a replica stores an identifier.
    fileprivate var blob: Data { withUnsafeBytes(of: uuid) { Data($0) } }
}
