import Foundation
import GRDB
import Testing

/// Every read-only command answers from the materialised tables (issue 14, item 7): run
/// through the real `dialogue-client` on a replica whose stored change log was made
/// unreadable afterwards, each prints what it printed before, and exits 0. (`status` is
/// proven in `LazyOpenTests` for a synced replica; with changes the server lacks, it still
/// counts them from the log: docs/PERFORMANCE.md.)
@Suite("dialogue-client reads without the change log")
struct LazyReadCLITests {
    @Test("lists, show, exports, report, status and name or prefix lookups print the same with an unreadable log")
    func readsWithoutLog() async throws {
        let scratch = Scratch()
        let leader = Leader("hill", in: scratch)
        let space = UUID().uuidString.lowercased()
        try await leader.ok(["init", "--space", space])
        let school = try await leader.ok(["schools", "add", "--name", "Hill School"])
        try await leader.ok(["members", "add", "--name", "Ada Leader", "--school", "Hill School"])
        try await leader.ok(["members", "add", "--name", "Ben Teacher", "--school", String(school.prefix(6))])
        let session = try await leader.ok([
            "sessions", "create", "--title", "Feedback that moves learning on", "--at", "2025-03-14", "--facilitator", "Ada Leader",
            "--host-school", "Hill School",
        ])
        try await leader.ok(["sessions", "add-participant", "feedback that moves learning on", "Ben Teacher"])
        try await leader.ok(["prompts", "add", "What did pupils do with feedback?"])
        try await leader.ok(["insights", "capture", session, "Peer review works", "--hallmark", "synergy"])
        try await leader.ok(["insights", "capture", session, "Pupils act on it", "--hallmark", "organisational-learning"])
        try await leader.ok(["actions", "add", "Share samples", "--session", session, "--due", "2025-03-01"])
        let prefix = String(session.prefix(6))
        let reads: [[String]] = [
            ["sessions", "list"], ["sessions", "show", prefix], ["sessions", "show", "Feedback that moves learning on"],
            ["sessions", "show", prefix, "--json"], ["export", "--session", prefix], ["export", "--session", prefix, "--format", "csv"],
            ["export", "--space", space, "--format", "json"], ["export", "--space", space, "--format", "markdown"],
            ["report", "--as-of", "2025-03-20"],
            ["report", "--format", "csv", "--as-of", "2025-03-20"], ["report", "--format", "json", "--as-of", "2025-03-20"],
            ["insights", "list"], ["insights", "list", "--session", prefix, "--hallmark", "synergy"], ["actions", "list", "--all"],
            ["prompts", "list"], ["members", "list"], ["schools", "list"],
        ]
        var before: [String] = []
        for command in reads { before.append(try await leader.ok(command)) }
        #expect(before[0].contains("Ada Leader"), "sessions list names the facilitator: \(before[0])")

        let queue = try DatabaseQueue(path: leader.replica)
        try await queue.write { db in try db.execute(sql: "UPDATE change_blocks SET body = x'00ff00ff00ff'") }
        try queue.close()
        for (command, expected) in zip(reads, before) {
            let result = try await leader.client(command)
            #expect(result.status == 0, "\(command.joined(separator: " ")) exited \(result.status): \(result.stderr)")
            #expect(result.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == expected, "\(command.joined(separator: " "))")
        }
    }
}
