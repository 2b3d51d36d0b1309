import DialogueModel
import DialogueTestSupport
import Foundation
import Testing

/// Erasure through the server (issue 13, item 1): sync carries `forget` to the server and
/// the other devices; the server's store is byte-searched too; approvals for admins.
@Suite("dialogue-client: forget through the server")
struct ErasureServerCLITests {
    typealias Fixture = ErasureCLITests
    @Test(
        "Ada forgets her insight; sync and a bundle carry it: no file of any replica, the server's store or the bundle holds the words; all agree"
    )
    func forgetReachesEveryone() async throws {
        let scratch = Scratch()
        let server = try await LiveServer.start(in: scratch)
        defer { server.stop() }
        let (ada, ben) = try await NamesCLITests.twoLeaders(scratch, server)
        let insight = try await Fixture.captured(ada, ben)
        #expect(!(try LeavingCLITests.files(of: ben, containing: Fixture.secret)).isEmpty, "the test would prove nothing")
        #expect(!(try Fixture.files(under: server.data, containing: Fixture.secret)).isEmpty, "the test would prove nothing")

        let forgot = try await ada.ok(["forget", "insight", insight, "--yes"])
        #expect(forgot.contains("erased insight") && forgot.contains("next `dialogue-client sync`"), "\(forgot)")
        try await ada.ok(["sync"])
        try await ben.ok(["sync"])
        let bundle = scratch.path("after.dlgb")
        try await ada.ok(["bundle", "export", bundle])
        let carl = try await Fixture.leader("carl", scratch, server)
        try await carl.ok(["bundle", "import", bundle])

        for word in [Fixture.secret, Fixture.secret.lowercased()] {
            for leader in [ada, ben, carl] {
                #expect(try LeavingCLITests.files(of: leader, containing: word).isEmpty, "\(word) is still in \(leader.replica)")
            }
            #expect(try Fixture.files(under: server.data, containing: word).isEmpty, "\(word) is still in the server's store")
            #expect(try Data(contentsOf: URL(fileURLWithPath: bundle)).range(of: Data(word.utf8)) == nil, "\(word) is in the bundle")
        }
        #expect(!(try LeavingCLITests.files(of: ben, containing: Fixture.kept)).isEmpty)
        #expect(!(try Fixture.files(under: server.data, containing: Fixture.kept)).isEmpty)
        #expect(try Data(contentsOf: URL(fileURLWithPath: bundle)).range(of: Data(Fixture.kept.utf8)) != nil)

        // Every replica verified what it received (sync and import refuse what does not) and they agree.
        try await carl.ok(["sync"])
        let exports = try await [ada, ben, carl].asyncMap {
            try await $0.ok(["export", "--space", server.sharedSpace, "--format", "json"])
        }
        #expect(exports[0] == exports[1] && exports[1] == exports[2], "the replicas differ")
        #expect(exports[0].contains(Fixture.kept) && !exports[0].contains(insight), "\(exports[0])")
        let sessions = try await [ada, ben, carl].asyncMap { try await $0.ok(["sessions", "list", "--json"]) }
        #expect(sessions[0] == sessions[1] && sessions[1] == sessions[2])
    }

    @Test("a stale device: Ben, offline since before the erasure, had edited the insight; his next sync stores none of it anywhere")
    func staleDeviceStripped() async throws {
        let scratch = Scratch()
        let server = try await LiveServer.start(in: scratch)
        defer { server.stop() }
        let (ada, ben) = try await NamesCLITests.twoLeaders(scratch, server)
        let insight = try await Fixture.captured(ada, ben)
        let stale = "Zebracrossingwording"
        try await ben.ok(["insights", "edit", insight, "\(stale) \(Fixture.secret) said about a pupil"])
        try await ada.ok(["forget", "insight", insight, "--yes"])
        try await ada.ok(["sync"])
        try await ben.ok(["sync"])
        try await ada.ok(["sync"])
        for word in [stale, Fixture.secret, stale.lowercased()] {
            for leader in [ada, ben] {
                #expect(try LeavingCLITests.files(of: leader, containing: word).isEmpty, "\(word) is still in \(leader.replica)")
            }
            #expect(try Fixture.files(under: server.data, containing: word).isEmpty, "\(word) is still in the server's store")
        }
        #expect(!(try LeavingCLITests.files(of: ben, containing: Fixture.kept)).isEmpty)
        let exports = try await [ada, ben].asyncMap { try await $0.ok(["export", "--space", server.sharedSpace, "--format", "json"]) }
        #expect(exports[0] == exports[1])
    }

    @Test(
        "refusals: Ben may not erase Ada's insight (exit 77, erasure_not_permitted, nothing changed); no --yes without a terminal (exit 64)"
    )
    func othersInsightRefused() async throws {
        let scratch = Scratch()
        let server = try await LiveServer.start(in: scratch)
        defer { server.stop() }
        let (ada, ben) = try await NamesCLITests.twoLeaders(scratch, server)
        let insight = try await Fixture.captured(ada, ben)
        let unconfirmed = try await ada.client(["forget", "insight", insight])
        #expect(unconfirmed.status == 64 && unconfirmed.stderr.contains("--yes"), "\(unconfirmed.stderr)")

        let before = try await ben.ok(["export", "--space", server.sharedSpace, "--format", "json"])
        let refused = try await ben.client(["forget", "insight", insight, "--yes", "--json"])
        #expect(refused.status == 77, "\(refused.stderr)")
        let error = try #require(
            try JSONSerialization.jsonObject(with: Data(refused.stderr.utf8)) as? [String: Any], "\(refused.stderr)")
        #expect(error["code"] as? String == "erasure_not_permitted", "\(refused.stderr)")
        let text = try await ben.client(["forget", "insight", insight, "--yes"])
        #expect(text.status == 77 && text.stderr.contains("erasure_not_permitted") && text.stderr.contains("admin"), "\(text.stderr)")
        #expect(
            try await ben.ok(["export", "--space", server.sharedSpace, "--format", "json"]) == before, "a refused erasure changed something"
        )
        #expect(!(try LeavingCLITests.files(of: ben, containing: Fixture.secret)).isEmpty)
    }

    @Test("an admin erases a member's insight with the server's approval; it reaches the author at her next sync")
    func adminErasesWithApproval() async throws {
        let scratch = Scratch()
        let server = try await LiveServer.start(in: scratch)
        defer { server.stop() }
        let (ada, ben) = try await NamesCLITests.twoLeaders(scratch, server)
        let insight = try await Fixture.captured(ada, ben)
        let head = try await Fixture.leader("head", role: "admin", scratch, server)
        try await head.ok(["sync"])
        let result = try #require(try await head.json(["forget", "insight", insight, "--yes"]) as? [String: Any])
        #expect(result["approved"] as? Bool == true && (result["stripped"] as? Int ?? 0) >= 1, "\(result)")
        try await head.ok(["sync"])
        try await ada.ok(["sync"])
        for leader in [head, ada] { #expect(try LeavingCLITests.files(of: leader, containing: Fixture.secret).isEmpty) }
        #expect(try Fixture.files(under: server.data, containing: Fixture.secret).isEmpty)
    }
}
