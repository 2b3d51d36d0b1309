import DialogueTestSupport
import Foundation
import Testing

/// Each error path: its documented exit code and a message that says what to do.
@Suite("dialogue-client errors")
struct ErrorPathTests {
    @Test("usage errors exit 64")
    func usage() async throws {
        let scratch = Scratch()
        let leader = Leader("a", in: scratch)
        let unknown = try await leader.client(["sessions", "list", "--no-such-option"])
        #expect(unknown.status == 64 && unknown.stderr.contains("no-such-option"))
        try await leader.ok(["init", "--space", UUID().uuidString, "--space", UUID().uuidString])
        // Issue 14: a session may be named by its title, so text that is no id is looked up (66 when nothing matches).
        let badID = try await leader.client(["sessions", "show", "not-a-uuid"])
        #expect(badID.status == 66 && badID.stderr.contains("not-a-uuid"), "\(badID.stderr)")
        let ambiguous = try await leader.client(["sessions", "create", "--title", "T"])
        #expect(ambiguous.status == 64 && ambiguous.stderr.contains("pass --space"), "\(ambiguous.stderr)")
        let noToken = try await leader.client(["login", "--server", "http://127.0.0.1:9"])
        #expect(noToken.status == 64 && noToken.stderr.contains("--token-file"))
        let badURL = try await leader.client(["login", "--server", "not a url", "--token-stdin"], input: "x")
        #expect(badURL.status == 64 && badURL.stderr.contains("--server"))
        let badDate = try await leader.client(["sessions", "list", "--from", "March"])
        #expect(badDate.status == 64 && badDate.stderr.contains("--from"))
    }

    @Test("missing things exit 66")
    func notFound() async throws {
        let scratch = Scratch()
        let leader = Leader("a", in: scratch)
        let noReplica = try await leader.client(["sessions", "list"])
        #expect(noReplica.status == 66 && noReplica.stderr.contains("dialogue-client init"), "\(noReplica.stderr)")
        try await leader.ok(["init", "--space", UUID().uuidString])
        let noSession = try await leader.client(["sessions", "show", UUID().uuidString])
        #expect(noSession.status == 66 && noSession.stderr.contains("no dialogue session"))
        let noInsight = try await leader.client(["insights", "edit", UUID().uuidString, "text"])
        #expect(noInsight.status == 66 && noInsight.stderr.contains("no insight"))
        let noAction = try await leader.client(["actions", "complete", UUID().uuidString])
        #expect(noAction.status == 66 && noAction.stderr.contains("no action"))
        let noSpace = try await leader.client(["sessions", "list", "--space", UUID().uuidString])
        #expect(noSpace.status == 66 && noSpace.stderr.contains("holds no space"))
        let noLogin = try await leader.client(["sync"])
        #expect(noLogin.status == 66 && noLogin.stderr.contains("dialogue-client login"))
        let noFile = try await leader.client(["prompts", "import", scratch.path("missing.txt")])
        #expect(noFile.status == 66 && noFile.stderr.contains("missing.txt"))
        let noTokenFile = try await leader.client(["login", "--server", "http://127.0.0.1:9", "--token-file", scratch.path("none")])
        #expect(noTokenFile.status == 66)
    }

    @Test("refused data exits 65")
    func dataError() async throws {
        let scratch = Scratch()
        let leader = Leader("a", in: scratch)
        try await leader.ok(["init", "--space", UUID().uuidString])
        let session = try await leader.ok(["sessions", "create", "--title", "T"])
        // A date that does not exist is refused as typed, before the library sees it (64, with examples).
        let badDue = try await leader.client(["actions", "add", "Do it", "--session", session, "--due", "2025-02-30"])
        #expect(badDue.status == 64 && badDue.stderr.contains("there is no 2025-02-30"), "\(badDue.stderr)")
        let emptyTitle = try await leader.client(["sessions", "edit", session, "--title", "  "])
        #expect(emptyTitle.status == 65 && emptyTitle.stderr.contains("cannot be empty"))
        let garbage = scratch.path("garbage.bundle")
        try Data("not a bundle".utf8).write(to: URL(fileURLWithPath: garbage))
        let bundle = try await leader.client(["bundle", "import", garbage])
        #expect(bundle.status == 65 && bundle.stderr.contains("nothing was imported"), "\(bundle.stderr)")
        let wrongKind = try await leader.client(["insights", "tag", session, "synergy"])
        #expect(wrongKind.status == 65 && wrongKind.stderr.contains("not an insight"), "\(wrongKind.stderr)")
    }

    @Test("an unreachable server exits 69, at login (which registers the device) and at sync")
    func unavailable() async throws {
        let scratch = Scratch()
        let leader = Leader("a", in: scratch)
        try await leader.ok(["init", "--space", UUID().uuidString])
        let server = "http://127.0.0.1:\(try freeTCPPort())"
        let login = try await leader.client(["login", "--server", server, "--token-stdin"], input: "dlg_token\n")
        #expect(login.status == 69 && login.stderr.contains("cannot reach the server"), "\(login.stderr)")
        try await leader.storeLogin(server: server)  // as an earlier login would have left it
        let result = try await leader.client(["sync", "--attempts", "1"])
        #expect(result.status == 69 && result.stderr.contains("cannot reach the server"), "\(result.stderr)")
    }

    @Test(
        "sync needs a login: a login file but no pinned server key (an older login) exits 66 not_logged_in, says to run login, sends nothing"
    )
    func syncNeedsALogin() async throws {
        let scratch = Scratch()
        let leader = Leader("a", in: scratch)
        try await leader.ok(["init", "--space", UUID().uuidString])
        let server = try ScriptedHTTPServer { _ in .init(status: 500) }
        try await leader.writeLogin(server: server.url)  // as a version before device keys left it
        let result = try await leader.client(["sync", "--attempts", "1"])
        #expect(result.status == 66, "\(result.stderr)")
        #expect(result.stderr.contains("has not logged in") && result.stderr.contains("dialogue-client login"), "\(result.stderr)")
        let json = try await leader.client(["sync", "--attempts", "1", "--json"])
        #expect(json.status == 66 && json.stderr.contains("not_logged_in"), "\(json.stderr)")
        server.stop()
        #expect(server.requests.isEmpty, "sync sent a request before the login check")
    }

    @Test("local storage failures exit 74")
    func storage() async throws {
        let scratch = Scratch()
        let blocker = scratch.path("file")
        try Data().write(to: URL(fileURLWithPath: blocker))
        let leader = Leader("a", in: scratch)
        let result = try await run(
            try builtBinary("dialogue-client"), ["init", "--replica", blocker + "/sub/replica.sqlite"], home: leader.home)
        #expect(result.status == 74 && result.stderr.contains("cannot create"), "\(result.stderr)")
        let directory = scratch.path("dir.sqlite")
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let open = try await run(try builtBinary("dialogue-client"), ["status", "--replica", directory], home: leader.home)
        #expect(open.status == 74 && open.stderr.contains("local storage failed"), "\(open.stderr)")
    }
}
