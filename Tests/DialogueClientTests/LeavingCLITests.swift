import DialogueModel
import DialogueTestSupport
import Foundation
import Testing

/// Issue 13, item 4, through the binaries: when a school leaves a partnership, its
/// leaders' devices stop holding the shared space on their next `sync` (its notes erased
/// from the replica's files) while the school's private space keeps syncing; before, a
/// plain `sync` failed whole on the forbidden space. `spaces leave` does it by hand.
@Suite("dialogue-client: leaving a space")
struct LeavingCLITests {
    /// The replica's files (db, -wal, -shm) that contain `text`.
    static func files(of leader: Leader, containing text: String) throws -> [String] {
        try [leader.replica, leader.replica + "-wal", leader.replica + "-shm"].filter { path in
            guard FileManager.default.fileExists(atPath: path) else { return false }
            return try Data(contentsOf: URL(fileURLWithPath: path)).range(of: Data(text.utf8)) != nil
        }
    }

    @Test(
        "a school removed from the partnership: its leader's next sync syncs the private space, leaves the shared one (exit 77) and erases it"
    )
    func schoolLeavesPartnership() async throws {
        let scratch = Scratch()
        let server = try await LiveServer.start(in: scratch)
        defer { server.stop() }
        let (hill, vale) = try await NamesCLITests.twoLeaders(scratch, server)
        try await vale.ok(["init", "--space", "Vale School"])
        try await vale.ok(["sessions", "create", "--title", "Wombatcartography staffing", "--space", "Vale School"])
        try await hill.ok(["sessions", "create", "--title", "Quokkaperambulation visit"])
        try await hill.ok(["sync"])
        try await vale.ok(["sync"])
        #expect(!(try Self.files(of: vale, containing: "Quokkaperambulation")).isEmpty, "the test would prove nothing")

        _ = try await LiveServer.admin(
            ["remove-school", "--school", server.schools["vale"]!, "--partnership", server.partnership], data: server.data,
            home: server.home)
        let refused = try await vale.client(["sync", "--json"])
        #expect(refused.status == 77, "\(refused.stderr)")
        let result = try #require(try JSONSerialization.jsonObject(with: Data(refused.stdout.utf8)) as? [String: Any])
        #expect(result["notPermitted"] as? [String] == [server.sharedSpace], "\(result)")
        #expect(result["left"] as? [String] == [server.sharedSpace], "\(result)")
        #expect((result["spaces"] as? [String])?.count == 2, "the private and personal spaces synced: \(result)")
        for word in ["Quokkaperambulation", "quokkaperambulation"] {
            #expect(try Self.files(of: vale, containing: word).isEmpty, "\(word) is still in the leaver's replica")
        }
        let status = try await vale.ok(["status"])
        #expect(!status.contains(server.sharedSpace) && status.contains("Vale School"), "\(status)")
        // The private space keeps syncing, with exit 0 now that the shared space is gone.
        try await vale.ok(["sessions", "create", "--title", "After leaving", "--space", "Vale School"])
        let after = try await vale.ok(["sync"])
        #expect(after.contains("synced 2 spaces: sent"), "\(after)")
        #expect(try Self.files(of: vale, containing: "Wombatcartography").count >= 1)
        // Hill, still a partner, keeps the space and Vale's earlier notes in it.
        #expect(try await hill.ok(["sessions", "list"]).contains("Quokkaperambulation visit"))
    }

    @Test("spaces leave: refused while the server lacks your edits (exit 64), then erases the space; a human sync names a refused space")
    func leaveByHand() async throws {
        let scratch = Scratch()
        let server = try await LiveServer.start(in: scratch)
        defer { server.stop() }
        let (hill, _) = try await NamesCLITests.twoLeaders(scratch, server)
        try await hill.ok(["sessions", "create", "--title", "Quokkaperambulation visit"])
        let unsynced = try await hill.client(["spaces", "leave", "North Partnership"])
        #expect(unsynced.status == 64 && unsynced.stderr.contains("--discard-unsynced"), "\(unsynced.stderr)")
        #expect(try await hill.ok(["sessions", "list"]).contains("Quokkaperambulation visit"), "a refused leave changed something")
        try await hill.ok(["sync"])
        let left = try await hill.ok(["spaces", "leave", "north partnership"])
        #expect(left.contains("left North Partnership") && left.contains("erased"), "\(left)")
        #expect(try Self.files(of: hill, containing: "Quokkaperambulation").isEmpty)
        let again = try await hill.client(["spaces", "leave", server.sharedSpace])
        #expect(again.status == 66, "\(again.stderr)")

        // A space never synced and written only here is refused by the server but kept.
        let stray = UUID().uuidString.lowercased()
        try await hill.ok(["init", "--space", stray])
        try await hill.ok(["sessions", "create", "--title", "Local only", "--space", stray])
        let sync = try await hill.client(["sync"])
        #expect(sync.status == 77, "\(sync.stderr)")
        #expect(sync.stdout.contains("not permitted: \(stray)") && sync.stdout.contains("spaces leave"), "\(sync.stdout)")
        #expect(try await hill.ok(["sessions", "list", "--space", stray]).contains("Local only"))
    }
}
