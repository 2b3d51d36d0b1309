import DialogueTestSupport
import Foundation
import Testing

/// Issue 14, item 2, through the binaries: school and member names come from the server
/// with sync. A partner-school colleague who has never logged in (no device, no
/// certificate) and whom nobody named in the space is typed and shown by name; a member of
/// a school outside the partnership stays unknown.
@Suite("dialogue-client: names from the server's people directory")
struct PeopleDirectoryCLITests {
    @Test("regression: a colleague nobody named in the space was unknown (exit 66); after sync, named by the server")
    func colleaguesByName() async throws {
        let scratch = Scratch()
        let server = try await LiveServer.start(in: scratch)
        defer { server.stop() }
        let cara = try await LiveServer.admin(
            ["create-member", "--name", "Cara Jones", "--school", server.schools["vale"]!], data: server.data, home: server.home)
        let dale = try await LiveServer.admin(["create-school", "--name", "Dale High"], data: server.data, home: server.home)
        _ = try await LiveServer.admin(
            ["create-member", "--name", "Dan Outsider", "--school", dale["id"] as! String], data: server.data, home: server.home)
        let hill = Leader("hill", in: scratch)
        try await hill.ok(["init", "--space", server.sharedSpace])
        let token = scratch.path("hill.token")
        try server.tokens["hill"]!.write(toFile: token, atomically: true, encoding: .utf8)
        try await hill.ok(["login", "--server", server.url, "--token-file", token])
        try await hill.ok(["sync"])

        let session = try await hill.ok(["sessions", "create", "--title", "Moderation"])
        try await hill.ok(["sessions", "add-participant", session, "cara jones"])
        let shown = try await hill.ok(["sessions", "show", session])
        #expect(shown.contains("Cara Jones"), "\(shown)")
        let record = try #require(try await hill.json(["sessions", "show", session]) as? [String: Any])
        #expect("\(record["participants"] ?? "")".contains(cara["id"] as! String), "\(record)")
        try await hill.ok(["actions", "add", "Share the rubric", "--session", session, "--owner", "Cara Jones"])

        // Outside the partnership: never named to this member, so refused as unknown.
        let outsider = try await hill.client(["sessions", "add-participant", session, "Dan Outsider"])
        #expect(outsider.status == 66, "\(outsider.stderr)")
        let unchanged = try #require(try await hill.json(["sessions", "show", session]) as? [String: Any])
        #expect((unchanged["participants"] as? [Any])?.count == 1, "\(unchanged)")
    }
}
