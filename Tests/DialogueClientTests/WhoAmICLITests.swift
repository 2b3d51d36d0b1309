import Foundation
import Testing

/// `whoami` and `--version` (issue 14, item 5): who this device writes as, from its
/// certificate, and which release it is.
struct WhoAmICLITests {
    @Test("whoami names the certified member, school, device and server; before login it says to log in (exit 66)")
    func whoAmI() async throws {
        let scratch = Scratch()
        let server = try await LiveServer.start(in: scratch)
        defer { server.stop() }
        let early = Leader("early", in: scratch)
        try await early.ok(["init", "--space", server.sharedSpace])
        let refused = try await early.client(["whoami"])
        #expect(refused.status == 66 && refused.stderr.contains("login"), "\(refused.status) \(refused.stderr)")

        let (hill, _) = try await NamesCLITests.twoLeaders(scratch, server)
        let text = try await hill.ok(["whoami"])
        #expect(text.contains("member Leader at hill (\(server.members["hill"]!.lowercased()))"), "\(text)")
        #expect(text.contains("school Hill School (\(server.schools["hill"]!.lowercased()))"), "\(text)")
        #expect(text.contains("server \(server.url)") && text.contains("key SHA256:"), "\(text)")
        let json = try #require(try await hill.json(["whoami"]) as? [String: Any])
        let member = try #require(json["member"] as? [String: Any])
        #expect(member["name"] as? String == "Leader at hill" && member["schoolName"] as? String == "Hill School")
        #expect((member["id"] as? String)?.lowercased() == server.members["hill"]!.lowercased())
        #expect(json["server"] as? String == server.url)
    }

    @Test("--version names the release and the protocol and bundle format versions")
    func version() async throws {
        let scratch = Scratch()
        let result = try await run(try builtBinary("dialogue-client"), ["--version"], home: scratch.path("home"))
        #expect(result.status == 0 && result.stdout.hasPrefix("dialogue-client 0.") && result.stdout.contains("sync protocol"))
    }
}
