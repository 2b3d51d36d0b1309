import DialogueModel
import DialogueTestSupport
import Foundation
import Testing

/// Issue 13, item 5, through the binaries: "the personal space never reaches another
/// member's replica or any admin command output other than subject access for that
/// member". Two leaders of Hill School (hill, cara) and one of Vale School (vale), partners;
/// each writes in their personal space and in the shared one, and everyone syncs.
@Suite("dialogue-client: the personal space")
struct PersonalSpaceCLITests {
    /// What each leader writes in their personal space: words found nowhere else.
    static let words = ["hill": "Zyzzogeton", "cara": "Quillwortish", "vale": "Xenopsyllid"]

    struct Setup {
        let server: LiveServer
        let leaders: [String: Leader]
        let members: [String: String]
        let personal: [String: String]
        let personalNames: [String: String]
    }

    /// The server, its three leaders logged in (cara: a second member of Hill School), and
    /// each one's personal space from their own `status`.
    static func setUp(_ scratch: Scratch) async throws -> Setup {
        let server = try await LiveServer.start(in: scratch)
        let cara = try await LiveServer.admin(
            ["create-member", "--name", "Cara at hill", "--school", server.schools["hill"]!], data: server.data, home: server.home)
        let caraID = try #require(cara["id"] as? String)
        let token = try await LiveServer.admin(["issue-token", "--member", caraID], data: server.data, home: server.home)
        let caraLeader = Leader("cara", in: scratch)
        try await caraLeader.ok(["init", "--space", server.sharedSpace])
        let tokenFile = scratch.path("cara.token")
        try #require(token["token"] as? String).write(toFile: tokenFile, atomically: true, encoding: .utf8)
        try await caraLeader.ok(["login", "--server", server.url, "--token-file", tokenFile])
        let leaders = [
            "hill": try await server.loggedInLeader("hill", in: scratch), "cara": caraLeader,
            "vale": try await server.loggedInLeader("vale", in: scratch),
        ]
        var personal: [String: String] = [:]
        var names: [String: String] = [:]
        for (name, leader) in leaders {
            let status = try #require(try await leader.json(["status"]) as? [String: Any])
            let rows = try #require(status["spaces"] as? [[String: Any]])
            let row = try #require(rows.first { $0["kind"] as? String == "personal" }, "\(name): \(rows)")
            personal[name] = row["space"] as? String
            names[name] = row["name"] as? String
        }
        var members = server.members
        members["cara"] = caraID
        return Setup(server: server, leaders: leaders, members: members, personal: personal, personalNames: names)
    }

    /// Runs `dialogue-server admin ARGS` over the live server's store: stdout and stderr.
    static func admin(_ server: LiveServer, _ arguments: [String]) async throws -> String {
        let result = try await run(
            try builtBinary("dialogue-server"), ["admin"] + arguments + ["--data-dir", server.data], home: server.home)
        #expect(result.status == 0, "admin \(arguments): \(result.stderr)")
        return result.stdout + result.stderr
    }

    @Test(
        "each member's personal space: held after login, named in status, seeded with the personal reflection prompts, synced; never in another member's replica nor in any admin output but the owner's subject access"
    )
    func neverReachesOthers() async throws {
        let scratch = Scratch()
        let setup = try await Self.setUp(scratch)
        let server = setup.server
        defer { server.stop() }
        #expect(setup.personalNames["hill"] == "Personal reflection (Leader at hill)")
        #expect(setup.personalNames["cara"] == "Personal reflection (Cara at hill)")
        #expect(Set(setup.personal.values).count == 3, "each their own")

        for (name, leader) in setup.leaders {
            let reflection = try await leader.ok([
                "sessions", "create", "--title", "\(Self.words[name]!) reflection", "--space", setup.personalNames[name]!,
            ])
            // Each reflection names the other two: their subject access must still not show it.
            for (other, member) in setup.members where other != name {
                // Issue 14: a participant must be a member this replica knows (unknown ids exit 66), so they are named first.
                try await leader.ok(["members", "add", "--id", member, "--name", other, "--space", setup.personalNames[name]!])
                try await leader.ok(["sessions", "add-participant", reflection, member])
            }
            // Without --space, a command uses the only other space held (the shared one).
            try await leader.ok(["sessions", "create", "--title", "Shared note of \(name)"])
        }
        for _ in 0..<2 {
            for name in ["hill", "cara", "vale"] { try await setup.leaders[name]!.ok(["sync"]) }
        }

        for (name, leader) in setup.leaders {
            // Their own reflection and the others' shared notes.
            let personalList = try await leader.ok(["sessions", "list", "--space", setup.personalNames[name]!])
            #expect(personalList.contains("\(Self.words[name]!) reflection"), "\(personalList)")
            let shared = try await leader.ok(["sessions", "list", "--space", "North Partnership"])
            #expect(["hill", "cara", "vale"].allSatisfy { shared.contains("Shared note of \($0)") }, "\(shared)")
            #expect(!(try LeavingCLITests.files(of: leader, containing: Self.words[name]!)).isEmpty, "the test would prove nothing")
            // Nobody else's, in any file of the replica.
            for (other, word) in Self.words where other != name {
                #expect(try LeavingCLITests.files(of: leader, containing: word).isEmpty, "\(other)'s reflection reached \(name)'s replica")
            }

            // The personal reflection prompts are in the personal space, and in no other.
            let prompts = try #require(try await leader.json(["prompts", "list"]) as? [[String: Any]])
            let starters = prompts.filter { $0["starter"] as? Bool == true }
            #expect(starters.count == PromptLibrary.personalReflection.count, "\(prompts)")
            #expect(starters.allSatisfy { $0["space"] as? String == setup.personal[name] }, "\(starters)")
            #expect(starters.allSatisfy { $0["spaceName"] as? String == setup.personalNames[name] }, "\(starters)")
        }

        // Admin commands: none shows a reflection, but subject access for its owner.
        var outputs: [String: String] = [:]
        for arguments in [
            ["list"], ["list", "--json"], ["list-devices"], ["list-devices", "--json"], ["server-key"], ["server-key", "--json"],
        ] {
            outputs[arguments.joined(separator: " ")] = try await Self.admin(server, arguments)
        }
        for (name, member) in setup.members {
            outputs["subject-access \(name)"] = try await Self.admin(server, ["subject-access", "--member", member])
            outputs["subject-access \(name) json"] = try await Self.admin(
                server, ["subject-access", "--member", member, "--format", "json"])
        }
        for (command, output) in outputs {
            for (owner, word) in Self.words {
                let allowed = command.hasPrefix("subject-access \(owner)")
                #expect(output.contains(word) == allowed, "admin \(command) \(allowed ? "lacks" : "shows") \(owner)'s reflection")
            }
        }
        #expect(outputs["subject-access hill"]!.contains("## Their personal space: Personal reflection (Leader at hill)"))
    }

    @Test(
        "another member cannot pull or push someone's personal space (403 space_not_permitted, exit 77, nothing changes); bundles leave it out unless named, with a warning; another member's import of it is refused; leaving it is refused"
    )
    func othersAreRefused() async throws {
        let scratch = Scratch()
        let setup = try await Self.setUp(scratch)
        let server = setup.server
        defer { server.stop() }
        let (hill, cara) = (setup.leaders["hill"]!, setup.leaders["cara"]!)
        let hillSpace = setup.personal["hill"]!
        try await hill.ok(["sessions", "create", "--title", "Zyzzogeton reflection", "--space", hillSpace])
        try await hill.ok(["sync"])
        try await cara.ok(["sync"])

        // Cara, of the same school, holds Hill's personal space by its id and writes in it.
        try await cara.ok(["init", "--space", hillSpace])
        try await cara.ok(["sessions", "create", "--title", "Interloper note", "--space", hillSpace])
        let refused = try await cara.client(["sync", "--json"])
        #expect(refused.status == 77, "\(refused.stderr)")
        let result = try #require(try JSONSerialization.jsonObject(with: Data(refused.stdout.utf8)) as? [String: Any], "\(refused.stdout)")
        #expect(result["notPermitted"] as? [String] == [hillSpace], "\(result)")
        #expect((result["spaces"] as? [String])?.contains(server.sharedSpace) == true, "the other spaces synced: \(result)")
        #expect(try LeavingCLITests.files(of: cara, containing: "Zyzzogeton").isEmpty, "Hill's reflection reached Cara")
        // Nothing of Cara's reached Hill's space at the server.
        try await hill.ok(["sync"])
        #expect(try LeavingCLITests.files(of: hill, containing: "Interloper").isEmpty)
        #expect(!(try await Self.admin(server, ["subject-access", "--member", setup.members["hill"]!])).contains("Interloper"))
        #expect(try await hill.ok(["sessions", "list", "--space", hillSpace]).contains("Zyzzogeton reflection"))

        // Bundles: the default leaves it out; named, it leaves with a warning naming it.
        let plain = scratch.path("plain.bundle")
        let exported = try #require(try await hill.json(["bundle", "export", plain]) as? [String: Any])
        #expect(exported["spaces"] as? [String] == [server.sharedSpace], "\(exported)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: plain)).range(of: Data("Zyzzogeton".utf8)) == nil)
        try await hill.ok(["sessions", "create", "--title", "Ungulate news", "--space", "North Partnership"])
        let named = scratch.path("named.bundle")
        let leaving = try await hill.client([
            "bundle", "export", named, "--space", setup.personalNames["hill"]!, "--space", "North Partnership", "--json",
        ])
        #expect(leaving.status == 0, "\(leaving.stderr)")
        #expect(
            leaving.stderr.contains("warning: exporting your personal space «Personal reflection (Leader at hill)»"), "\(leaving.stderr)")
        let namedJSON = try #require(try JSONSerialization.jsonObject(with: Data(leaving.stdout.utf8)) as? [String: Any])
        #expect(namedJSON["personalSpaces"] as? [String] == [hillSpace] && namedJSON["privateSpaces"] as? [String] == [], "\(namedJSON)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: named)).range(of: Data("Zyzzogeton".utf8)) != nil, "the test would prove nothing")

        // Cara's import refuses the whole file before applying anything: not even the shared news.
        let imported = try await cara.client(["bundle", "import", named, "--json"])
        #expect(imported.status == 65, "\(imported.stderr)")
        let error = try #require(try JSONSerialization.jsonObject(with: Data(imported.stderr.utf8)) as? [String: Any], "\(imported.stderr)")
        #expect(error["code"] as? String == "space_not_permitted", "\(error)")
        #expect(imported.stderr.contains("Personal reflection (Leader at hill)"), "\(imported.stderr)")
        for word in ["Zyzzogeton", "Ungulate"] {
            #expect(try LeavingCLITests.files(of: cara, containing: word).isEmpty, "\(word) reached Cara through a refused bundle")
        }

        // Hill's devices keep it while the directory lists it.
        let leave = try await hill.client(["spaces", "leave", setup.personalNames["hill"]!, "--discard-unsynced"])
        #expect(leave.status == 65 && leave.stderr.contains("is your personal space"), "\(leave.stderr)")
        #expect(try await hill.ok(["sessions", "list", "--space", hillSpace]).contains("Zyzzogeton reflection"))
    }
}
