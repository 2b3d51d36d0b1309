import DialogueModel
import DialogueTestSupport
import Foundation
import Testing

/// Issue 13, item 1, through the binaries: `dialogue-client forget` erases an insight on
/// one replica; `sync` carries the erasure through the server and a bundle to the others;
/// then no file of any replica, of the server's store or of the bundle holds the erased
/// words, while the space's other words are still there (so the search can fail), and the
/// replicas agree.
@Suite("dialogue-client: forget (erasure)")
struct ErasureCLITests {
    static let secret = "Xylophonequagmire"
    static let kept = "Marmalatitude"

    /// Every file under `folder` (the server's store: db, -wal, -shm) that contains `text`.
    static func files(under folder: String, containing text: String) throws -> [String] {
        let names = try FileManager.default.subpathsOfDirectory(atPath: folder)
        return try names.map { folder + "/" + $0 }.filter { path in
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue else { return false }
            return try Data(contentsOf: URL(fileURLWithPath: path)).range(of: Data(text.utf8)) != nil
        }
    }

    /// A third leader of Hill School (another member), logged in.
    static func leader(_ name: String, role: String = "member", _ scratch: Scratch, _ server: LiveServer) async throws -> Leader {
        let member = try await LiveServer.admin(
            ["create-member", "--name", "\(name.capitalized) at hill", "--school", server.schools["hill"]!, "--role", role],
            data: server.data, home: server.home)
        let issued = try await LiveServer.admin(["issue-token", "--member", member["id"] as! String], data: server.data, home: server.home)
        let leader = Leader(name, in: scratch)
        try await leader.ok(["init", "--space", server.sharedSpace])
        let token = scratch.path("\(name).token")
        try (issued["token"] as! String).write(toFile: token, atomically: true, encoding: .utf8)
        try await leader.ok(["login", "--server", server.url, "--token-file", token])
        return leader
    }

    /// Ada (hill) captures an insight holding `secret` and another holding `kept`; both sync.
    static func captured(_ ada: Leader, _ ben: Leader) async throws -> String {
        let session = try await ada.ok(["sessions", "create", "--title", "Partnership visit"])
        try await ada.ok(["insights", "capture", session, "\(kept) is what the partnership learnt"])
        let insight = try await ada.ok(["insights", "capture", session, "\(secret) said about a pupil"])
        try await ada.ok(["sync"])
        try await ben.ok(["sync"])
        return insight
    }

    @Test(
        "Ada forgets her insight (no server needed) and a bundle carries the erasure: neither replica's files nor the bundle hold the words; unconfirmed, nothing happens (exit 64)"
    )
    func forgetByBundle() async throws {
        let scratch = Scratch()
        let server = try await LiveServer.start(in: scratch)
        defer { server.stop() }
        let (ada, ben) = try await NamesCLITests.twoLeaders(scratch, server)
        let insight = try await Self.captured(ada, ben)
        #expect(!(try LeavingCLITests.files(of: ben, containing: Self.secret)).isEmpty, "the test would prove nothing")
        server.stop()  // the author's own insight: no approval to ask for

        let unconfirmed = try await ada.client(["forget", "insight", insight])
        #expect(unconfirmed.status == 64 && unconfirmed.stderr.contains("--yes"), "\(unconfirmed.stderr)")
        #expect(!(try LeavingCLITests.files(of: ada, containing: Self.secret)).isEmpty, "an unconfirmed forget erased")
        let result = try #require(try await ada.json(["forget", "insight", insight, "--yes"]) as? [String: Any])
        #expect(result["approved"] as? Bool == false && (result["stripped"] as? Int ?? 0) >= 1, "\(result)")
        let bundle = scratch.path("after.dlgb")
        try await ada.ok(["bundle", "export", bundle])
        try await ben.ok(["bundle", "import", bundle])
        for word in [Self.secret, Self.secret.lowercased()] {
            for leader in [ada, ben] {
                #expect(try LeavingCLITests.files(of: leader, containing: word).isEmpty, "\(word) is still in \(leader.replica)")
            }
            #expect(try Data(contentsOf: URL(fileURLWithPath: bundle)).range(of: Data(word.utf8)) == nil, "\(word) is in the bundle")
        }
        #expect(!(try LeavingCLITests.files(of: ben, containing: Self.kept)).isEmpty)
        #expect(try Data(contentsOf: URL(fileURLWithPath: bundle)).range(of: Data(Self.kept.utf8)) != nil)
        let exports = try await [ada, ben].asyncMap { try await $0.ok(["export", "--space", server.sharedSpace, "--format", "json"]) }
        #expect(exports[0] == exports[1] && exports[0].contains(Self.kept), "the replicas differ")
        let edit = try await ben.client(["insights", "edit", insight, "again"])
        #expect(edit.status == 66, "an erased insight was edited: \(edit.stderr)")
    }
}

extension Array {
    /// `transform` applied to each element in order, awaiting each.
    func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var results: [T] = []
        for element in self { results.append(try await transform(element)) }
        return results
    }
}
