import DialogueModel
import DialogueTestSupport
import Foundation
import Testing

/// `login` registers the device (the server certifies its key for the token's member) and
/// pins the server's key, as ssh pins host keys; through the real binary, against a
/// scripted registrar whose key the test controls.
@Suite("dialogue-client login: device registration and the pinned server key")
struct LoginTests {
    static let ada = ScriptedRegistrar.Identity(memberName: "Ada Leader", schoolName: "Hill Primary")

    static func setUp(_ scratch: Scratch, initialise: Bool = true) async throws -> (Leader, String) {
        let leader = Leader("ada", in: scratch)
        if initialise { try await leader.ok(["init", "--space", UUID().uuidString]) }
        let tokenFile = scratch.path("ada.token")
        try "dlg_ada_token".write(toFile: tokenFile, atomically: true, encoding: .utf8)
        return (leader, tokenFile)
    }

    static func loginFile(_ leader: Leader) -> Data? { FileManager.default.contents(atPath: leader.replica + ".login.json") }

    @Test("login prints the server key's fingerprint and who the certificate says you are; status shows both")
    func loginShowsFingerprintAndMember() async throws {
        let scratch = Scratch()
        let (leader, tokenFile) = try await Self.setUp(scratch)
        let server = try ScriptedRegistrar(Self.ada)
        let login = try await leader.ok(["login", "--server", server.url, "--token-file", tokenFile])
        #expect(login.contains("server key fingerprint \(server.fingerprint)"), "\(login)")
        #expect(login.contains("logged in as Ada Leader, Hill Primary"), "\(login)")
        #expect(!login.contains("dlg_ada_token"))
        let status = try await leader.ok(["status"])
        #expect(status.contains("server key fingerprint \(server.fingerprint)") && status.contains("logged in as Ada Leader, Hill Primary"))
        let json = try #require(try await leader.json(["status"]) as? [String: Any])
        #expect(json["serverKeyFingerprint"] as? String == server.fingerprint)
        #expect((json["member"] as? [String: Any])?["id"] as? String == Self.ada.member.uuidString.lowercased())
        // Logging in again to the same server: nothing new pinned.
        let again = try #require(try await leader.json(["login", "--server", server.url, "--token-file", tokenFile]) as? [String: Any])
        #expect(again["pinnedNow"] as? Bool == false)
        #expect(again["memberName"] as? String == "Ada Leader")
    }

    @Test("another server key on the same URL is refused loudly, naming both fingerprints, and nothing changes")
    func changedKeyRefused() async throws {
        let scratch = Scratch()
        let (leader, tokenFile) = try await Self.setUp(scratch)
        let server = try ScriptedRegistrar(Self.ada)
        let pinned = server.fingerprint
        try await leader.ok(["login", "--server", server.url, "--token-file", tokenFile])
        let stored = Self.loginFile(leader)
        let statusBefore = try await leader.ok(["status"])

        server.replaceKey()
        let otherToken = scratch.path("other.token")
        try "dlg_other_token".write(toFile: otherToken, atomically: true, encoding: .utf8)
        let refused = try await leader.client(["login", "--server", server.url, "--token-file", otherToken])
        #expect(refused.status == 69, "\(refused.stderr)")
        #expect(refused.stderr.contains("THE SERVER'S KEY HAS CHANGED"), "\(refused.stderr)")
        #expect(refused.stderr.contains(pinned) && refused.stderr.contains(server.fingerprint), "\(refused.stderr)")
        #expect(refused.stderr.contains("--replace-server-key \(server.fingerprint)"), "\(refused.stderr)")
        #expect(Self.loginFile(leader) == stored, "the login file changed")
        #expect(try await leader.ok(["status"]) == statusBefore)

        // A replacement naming another fingerprint changes nothing either.
        let wrong = try await leader.client([
            "login", "--server", server.url, "--token-file", otherToken, "--replace-server-key", pinned,
        ])
        #expect(wrong.status == 64, "\(wrong.stderr)")
        #expect(wrong.stderr.contains("does not match"), "\(wrong.stderr)")
        #expect(Self.loginFile(leader) == stored)

        // The deliberate way: the fingerprint the server presents.
        let replaced = try await leader.client([
            "login", "--server", server.url, "--token-file", otherToken, "--replace-server-key", server.fingerprint,
        ])
        #expect(replaced.status == 0, "\(replaced.stderr)")
        #expect(replaced.stdout.contains("server key fingerprint \(server.fingerprint)"))
        #expect(replaced.stderr.contains("replaced"), "\(replaced.stderr)")
        #expect(try await leader.ok(["status"]).contains("server key fingerprint \(server.fingerprint)"))
    }

    @Test("a rotated key endorsed by the pinned one is followed without any option")
    func rotationFollowed() async throws {
        let scratch = Scratch()
        let (leader, tokenFile) = try await Self.setUp(scratch)
        let server = try ScriptedRegistrar(Self.ada)
        try await leader.ok(["login", "--server", server.url, "--token-file", tokenFile])
        server.rotate()
        let login = try await leader.ok(["login", "--server", server.url, "--token-file", tokenFile])
        #expect(login.contains("server key fingerprint \(server.fingerprint)") && !login.contains("pinned now"), "\(login)")
        #expect(try await leader.ok(["status"]).contains(server.fingerprint))
    }

    @Test(
        "replica_taken and revoked_device are shown clearly, exit 69, and nothing is stored",
        arguments: [(409, "replica_taken"), (403, "revoked_device")])
    func refusalsShown(status: Int, code: String) async throws {
        let scratch = Scratch()
        let (leader, tokenFile) = try await Self.setUp(scratch)
        let server = try ScriptedRegistrar(Self.ada)
        server.refuse((status, code))
        let result = try await leader.client(["login", "--server", server.url, "--token-file", tokenFile])
        #expect(result.status == 69, "\(result.stderr)")
        #expect(result.stderr.contains(code) && result.stderr.contains("dialogue-client init"), "\(result.stderr)")
        #expect(server.server.requests.count == 1, "a refusal was retried")
        #expect(Self.loginFile(leader) == nil)
        #expect(!(try await leader.ok(["status"])).contains("logged in as"))
    }

    @Test("an unreachable server: login exits 69 saying so, and stores nothing")
    func unreachable() async throws {
        let scratch = Scratch()
        let (leader, tokenFile) = try await Self.setUp(scratch)
        let result = try await leader.client(["login", "--server", "http://127.0.0.1:\(try freeTCPPort())", "--token-file", tokenFile])
        #expect(result.status == 69 && result.stderr.contains("cannot reach the server"), "\(result.stderr)")
        #expect(Self.loginFile(leader) == nil)
    }

    @Test("after login, captured insights are by the certified member, and --author naming another is refused")
    func authorFromCertificate() async throws {
        let scratch = Scratch()
        let (leader, tokenFile) = try await Self.setUp(scratch)
        let server = try ScriptedRegistrar(Self.ada)
        try await leader.ok(["login", "--server", server.url, "--token-file", tokenFile])
        let session = try await leader.ok(["sessions", "create", "--title", "Feedback"])
        let ben = UUID().uuidString.lowercased()
        let forged = try await leader.client(["insights", "capture", session, "Written as Ben", "--author", ben])
        #expect(forged.status == 65, "\(forged.stderr)")
        #expect(forged.stderr.contains(Self.ada.member.uuidString.lowercased()), "\(forged.stderr)")
        try await leader.ok(["insights", "capture", session, "Mine"])
        try await leader.ok(["insights", "capture", session, "Also mine", "--author", Self.ada.member.uuidString])
        let export = try #require(try await leader.json(["export", "--session", session, "--format", "json"]) as? [String: Any])
        let insights = try #require(
            (export["sessions"] as? [[String: Any]])?.first?["insights"] as? [[String: Any]] ?? export["insights"] as? [[String: Any]])
        #expect(insights.count == 2, "\(export)")
        // export names the author from this device's certificate (docs/CLI.md, `Author`).
        #expect(
            insights.allSatisfy { (($0["author"] as? [String: Any])?["id"] as? String) == Self.ada.member.uuidString.lowercased() },
            "\(insights)")
        let show = try #require(try await leader.json(["sessions", "show", session]) as? [String: Any])
        let stored = try #require(show["insights"] as? [[String: Any]])
        #expect(stored.allSatisfy { ($0["author"] as? String)?.lowercased() == Self.ada.member.uuidString.lowercased() }, "\(stored)")
    }

    @Test("a replica written before device keys (v1) gets a key when first opened, and logs in with it")
    func oldReplicaLogsIn() async throws {
        let scratch = Scratch()
        let (leader, tokenFile) = try await Self.setUp(scratch, initialise: false)
        let fixture = packageRoot().appendingPathComponent("Tests/DialogueSyncTests/Fixtures/replica-v1.sqlite").path
        try FileManager.default.copyItem(atPath: fixture, toPath: leader.replica)
        let server = try ScriptedRegistrar(Self.ada)
        try await leader.ok(["login", "--server", server.url, "--token-file", tokenFile])
        let sent = try #require(server.server.requests.first)
        let body = try #require(try JSONSerialization.jsonObject(with: Data(sent.body)) as? [String: Any])
        #expect(body["replica"] as? String == "00d1a10c0e000001")
        #expect((body["publicKey"] as? String).flatMap(PublicSigningKey.init(base64:)) != nil)
        // The same key on every later open.
        try await leader.ok(["login", "--server", server.url, "--token-file", tokenFile])
        let again = try #require(try JSONSerialization.jsonObject(with: Data(server.server.requests[1].body)) as? [String: Any])
        #expect(again["publicKey"] as? String == body["publicKey"] as? String)
        #expect(try await leader.ok(["sessions", "list"]).contains("Feedback that moves learning on"))
    }
}
