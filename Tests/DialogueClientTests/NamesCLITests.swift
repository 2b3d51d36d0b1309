import DialogueModel
import DialogueTestSupport
import Foundation
import Testing

/// Issue 12, items 4 and 5, through the binaries: people named from certificates (`conflicts`,
/// `history`, `export`, `report`) and spaces named from the verified directory (`status`,
/// `init`, `sessions list`, errors).
@Suite("dialogue-client: names from certificates and the space directory")
struct NamesCLITests {
    /// Two leaders logged in to a live server, each with the shared space.
    static func twoLeaders(_ scratch: Scratch, _ server: LiveServer) async throws -> (hill: Leader, vale: Leader) {
        let hill = Leader("hill", in: scratch)
        let vale = Leader("vale", in: scratch)
        for (name, leader) in [("hill", hill), ("vale", vale)] {
            try await leader.ok(["init", "--space", server.sharedSpace])
            let token = scratch.path("\(name).token")
            try server.tokens[name]!.write(toFile: token, atomically: true, encoding: .utf8)
            try await leader.ok(["login", "--server", server.url, "--token-file", token])
        }
        return (hill, vale)
    }

    @Test("regression: conflicts named a replica id ('by replica fdd502ea46f960bd'); now each write is by its certified member")
    func conflictsNamePeople() async throws {
        let scratch = Scratch()
        let server = try await LiveServer.start(in: scratch)
        defer { server.stop() }
        let (hill, vale) = try await Self.twoLeaders(scratch, server)
        let session = try await hill.ok(["sessions", "create", "--title", "Feedback"])
        try await hill.ok(["sync"])
        try await vale.ok(["sync"])
        try await hill.ok(["sessions", "edit", session, "--title", "Hill's title"])
        try await vale.ok(["sessions", "edit", session, "--title", "Vale's title"])
        try await hill.ok(["sync"])
        try await vale.ok(["sync"])
        try await hill.ok(["sync"])

        for leader in [hill, vale] {
            let text = try await leader.ok(["conflicts"])
            #expect(!text.contains("by replica"), "a replica id shown as the writer: \(text)")
            #expect(text.hasPrefix("session \(session.prefix(8)) title"), "the session by its short id: \(text)")
            #expect(text.contains("by Leader at hill (Hill School)") && text.contains("by Leader at vale (Vale School)"), "\(text)")
            let conflicts = try #require(try await leader.json(["conflicts"]) as? [[String: Any]])
            let title = try #require(conflicts.first { $0["field"] as? String == "title" })
            let writes = [title["kept"] as? [String: Any]].compactMap { $0 } + ((title["lost"] as? [[String: Any]]) ?? [])
            let authors = writes.compactMap { $0["author"] as? [String: Any] }
            #expect(Set(authors.compactMap { $0["name"] as? String }) == ["Leader at hill", "Leader at vale"], "\(conflicts)")
            #expect(authors.allSatisfy { $0["certified"] as? Bool == true && $0["device"] is String && $0["schoolName"] is String })
            #expect(
                Set(authors.compactMap { $0["id"] as? String })
                    == Set([server.members["hill"]!.lowercased(), server.members["vale"]!.lowercased()]))
            #expect(title["spaceName"] as? String == "North Partnership")
        }
    }

    @Test("history: who wrote an insight's text and fields, when, signed; table and --json; an unknown id exits 66")
    func history() async throws {
        let scratch = Scratch()
        let server = try await LiveServer.start(in: scratch)
        defer { server.stop() }
        let (hill, vale) = try await Self.twoLeaders(scratch, server)
        let session = try await hill.ok(["sessions", "create", "--title", "Feedback"])
        let insight = try await hill.ok(["insights", "capture", session, "Peer feedback needs modelling first."])
        try await hill.ok(["sync"])
        try await vale.ok(["sync"])
        try await vale.ok(["insights", "edit", insight, "Peer feedback needs careful modelling first."])
        try await vale.ok(["insights", "tag", insight, "synergy"])
        try await vale.ok(["sync"])
        try await hill.ok(["sync"])

        let table = try await hill.ok(["history", insight])
        let lines = table.split(separator: "\n").map(String.init)
        #expect(lines.first == "insight \(insight.prefix(8)) in North Partnership", "\(table)")
        #expect(lines.dropFirst().first?.hasPrefix("WHEN") == true, "\(table)")
        let created = try #require(lines.first { $0.contains("created (insight)") }, "\(table)")
        #expect(created.contains("Leader at hill (Hill School)") && created.hasSuffix("signed"), "\(created)")
        let typed = try #require(lines.first { $0.contains(#"inserted "Peer feedback needs modelling first." (36 characters)"#) })
        #expect(typed.contains("Leader at hill (Hill School)") && typed.contains(" text "), "\(typed)")
        let edited = try #require(lines.first { $0.contains(#"inserted "careful ""#) }, "\(table)")
        #expect(edited.contains("Leader at vale (Vale School)") && edited.hasSuffix("signed"), "\(edited)")
        #expect(
            lines.contains { $0.contains("Leader at vale (Vale School)") && $0.contains("added") && $0.contains("synergy") }, "\(table)")
        #expect(!table.contains("unsigned"), "\(table)")

        let json = try #require(try await hill.json(["history", insight]) as? [String: Any])
        #expect(json["kind"] as? String == "insight" && json["spaceName"] as? String == "North Partnership")
        let edits = try #require(json["edits"] as? [[String: Any]])
        let insertion = try #require(edits.first { ($0["edit"] as? [String: Any])?["excerpt"] as? String == "careful " })
        #expect((insertion["author"] as? [String: Any])?["name"] as? String == "Leader at vale")
        #expect(insertion["signing"] as? String == "signed" && insertion["field"] as? String == "text" && insertion["at"] is String)
        #expect((insertion["edit"] as? [String: Any])?["type"] as? String == "insertedText")

        let missing = try await hill.client(["history", UUID().uuidString])
        #expect(missing.status == 66, "\(missing.stderr)")
    }

    @Test("export (markdown, csv, json) and report name an insight's author from the certificate of the device that wrote it")
    func exportAndReportNames() async throws {
        let scratch = Scratch()
        let server = try await LiveServer.start(in: scratch)
        defer { server.stop() }
        let (hill, vale) = try await Self.twoLeaders(scratch, server)
        let session = try await hill.ok(["sessions", "create", "--title", "Feedback", "--at", "2025-03-14"])
        try await hill.ok(["sync"])
        try await vale.ok(["sync"])
        let insight = try await vale.ok(["insights", "capture", session, "Pupils want clearer success criteria."])
        try await vale.ok(["actions", "add", "Share the rubric", "--session", session, "--owner", server.members["vale"]!])
        try await vale.ok(["sync"])
        try await hill.ok(["sync"])

        let minutes = try await hill.ok(["export", "--session", session])
        #expect(minutes.contains("Pupils want clearer success criteria. _(by Leader at vale (Vale School))_"), "\(minutes)")
        let csv = try await hill.ok(["export", "--session", session, "--format", "csv"])
        let csvLines = csv.split(separator: "\n").map(String.init)
        #expect(csvLines.first?.hasSuffix("person_name,person_school") == true)
        #expect(csvLines.contains { $0.hasPrefix("insight,\(insight),") && $0.hasSuffix(",Leader at vale,Vale School") }, "\(csv)")
        #expect(csvLines.contains { $0.hasPrefix("action,") && $0.hasSuffix(",Leader at vale,Vale School") }, "\(csv)")
        let json = try #require(try await hill.json(["export", "--session", session, "--format", "json"]) as? [String: Any])
        let author = try #require(((json["insights"] as? [[String: Any]])?.first)?["author"] as? [String: Any])
        #expect(author["name"] as? String == "Leader at vale" && author["schoolName"] as? String == "Vale School")
        #expect(author["id"] as? String == server.members["vale"]!.lowercased())
        // Two replicas that hold the same changes still export the same bytes.
        #expect(
            try await hill.ok(["export", "--session", session, "--format", "json"])
                == (try await vale.ok(["export", "--session", session, "--format", "json"])))
        let space = try #require(try await hill.json(["export", "--space", server.sharedSpace, "--format", "json"]) as? [String: Any])
        #expect(space["spaceName"] as? String == "North Partnership")

        let report = try await hill.ok(["report", "--from", "2025-03-01", "--to", "2025-03-31"])
        #expect(report.contains("Partnership space North Partnership (\(server.sharedSpace))"), "\(report)")
        #expect(report.contains("INSIGHT AUTHOR") && report.contains("Leader at vale (Vale School)  1"), "\(report)")
        let reportJSON = try #require(try await hill.json(["report"]) as? [String: Any])
        let authors = try #require(reportJSON["insightAuthors"] as? [[String: Any]])
        #expect((authors.first?["author"] as? [String: Any])?["name"] as? String == "Leader at vale")
    }

    @Test("spaces are named from the directory in init, status, sessions list and errors; a space not listed shows its id and says so")
    func namedSpaces() async throws {
        let scratch = Scratch()
        let server = try await LiveServer.start(in: scratch)
        defer { server.stop() }
        let (hill, _) = try await Self.twoLeaders(scratch, server)
        try await hill.ok(["sessions", "create", "--title", "Shared session"])
        try await hill.ok(["sync"])
        let status = try await hill.ok(["status"])
        // Beside the member's personal space, by name and kind.
        let rows = status.split(separator: "\n").map { $0.split(separator: " ", omittingEmptySubsequences: true) }
        #expect(rows.contains { $0.starts(with: ["North", "Partnership", "shared", Substring(server.sharedSpace)]) }, "\(status)")
        #expect(rows.contains { $0.starts(with: ["Personal", "reflection", "(Leader", "at", "hill)", "personal"]) }, "\(status)")
        let statusJSON = try #require(try await hill.json(["status"]) as? [String: Any])
        let row = try #require((statusJSON["spaces"] as? [[String: Any]])?.first)
        #expect(row["name"] as? String == "North Partnership" && row["kind"] as? String == "shared")

        // A second space, not in Hill's directory: its id and "(not in your directory)".
        let stray = UUID().uuidString.lowercased()
        let initialised = try await hill.ok(["init", "--space", stray])
        #expect(initialised.contains("space \(server.sharedSpace) North Partnership (shared)"), "\(initialised)")
        #expect(initialised.contains("space \(stray) (not in your directory)"), "\(initialised)")
        try await hill.ok(["sessions", "create", "--title", "Stray session", "--space", stray])
        let list = try await hill.ok(["sessions", "list"])
        let header = try #require(list.split(separator: "\n").first)
        #expect(header.hasPrefix("ID") && header.contains("SPACE"), "\(list)")
        #expect(
            list.contains { _ in true }
                && list.split(separator: "\n").contains { $0.contains("North Partnership") && $0.contains("Shared session") })
        #expect(
            list.split(separator: "\n").contains { $0.contains("\(stray) (not in your directory)") && $0.contains("Stray session") },
            "\(list)")
        let listed = try #require(try await hill.json(["sessions", "list"]) as? [[String: Any]])
        #expect(Set(listed.map { $0["spaceName"] as? String ?? "null" }) == ["North Partnership", "null"], "\(listed)")
        // With one space chosen (by id or by name), no SPACE column.
        #expect(!(try await hill.ok(["sessions", "list", "--space", server.sharedSpace])).contains("SPACE"))
        let byName = try await hill.ok(["sessions", "list", "--space", "north partnership"])
        #expect(!byName.contains("SPACE") && byName.contains("Shared session") && !byName.contains("Stray session"), "\(byName)")
        #expect(try await hill.ok(["report", "--space", "North Partnership"]).contains("Partnership space North Partnership"))
        #expect(try await hill.ok(["sync", "--space", "north partnership"]).contains("synced 1 space"))
        let syncUnknown = try await hill.client(["sync", "--space", "South Partnership"])
        #expect(syncUnknown.status == 66 && syncUnknown.stderr.contains("no space 'South Partnership'"), "\(syncUnknown.stderr)")
        // The school's private space is in Hill's directory but not held: refused, saying how to hold it.
        let notHeld = try await hill.client(["sessions", "list", "--space", "Hill School"])
        #expect(notHeld.status == 66 && notHeld.stderr.contains("init --space 'Hill School'"), "\(notHeld.stderr)")
        let noSuch = try await hill.client(["actions", "list", "--space", "South Partnership"])
        #expect(noSuch.status == 66 && noSuch.stderr.contains("no space 'South Partnership'"), "\(noSuch.stderr)")

        // Errors that list spaces name them.
        let ambiguous = try await hill.client(["sessions", "create", "--title", "Where?"])
        #expect(ambiguous.status == 64, "\(ambiguous.stderr)")
        #expect(ambiguous.stderr.contains("North Partnership (\(server.sharedSpace))"), "\(ambiguous.stderr)")
        #expect(ambiguous.stderr.contains("\(stray) (not in your directory)"), "\(ambiguous.stderr)")
        let unknown = try await hill.client(["sessions", "list", "--space", UUID().uuidString])
        #expect(unknown.status == 66 && unknown.stderr.contains("North Partnership (\(server.sharedSpace))"), "\(unknown.stderr)")
        // init takes a space by its directory name once logged in, and changes nothing for a name it does not know.
        let fresh = Leader("fresh", in: scratch)
        let early = try await fresh.client(["init", "--space", "North Partnership"])
        #expect(early.status == 64 && early.stderr.contains("login"), "\(early.stderr)")
        #expect(!FileManager.default.fileExists(atPath: fresh.replica), "init by name before login created a replica")
        try await fresh.ok(["init"])
        let token = scratch.path("fresh.token")
        try server.tokens["vale"]!.write(toFile: token, atomically: true, encoding: .utf8)
        try await fresh.ok(["login", "--server", server.url, "--token-file", token])
        let wrong = try await fresh.client(["init", "--space", "North Partnership", "--space", "South Partnership"])
        #expect(wrong.status == 66 && wrong.stderr.contains("no space 'South Partnership'"), "\(wrong.stderr)")
        #expect(wrong.stderr.contains("North Partnership (\(server.sharedSpace))"), "\(wrong.stderr)")
        #expect(try await fresh.ok(["status"]).contains("North Partnership") == false, "a space was added by a refused init")
        let named = try await fresh.ok(["init", "--space", "north partnership"])
        #expect(named.contains("space \(server.sharedSpace) North Partnership (shared)"), "\(named)")
    }
}

/// Names come from the server's signed statements, which a hostile or careless admin
/// writes: shown escaped like every other text, one value on one line.
@Suite("dialogue-client: certified and directory names are shown escaped")
struct NameEscapingTests {
    @Test("a member or space name with a newline and ESC sequences forges no line in init, status, sessions list, history, conflicts")
    func hostileNames() async throws {
        let scratch = Scratch()
        let leader = Leader("ada", in: scratch)
        try await leader.ok(["init"])
        let token = scratch.path("ada.token")
        try "dlg_ada_token".write(toFile: token, atomically: true, encoding: .utf8)
        let server = try ScriptedRegistrar(.init(memberName: "Mallory\u{1B}[2J\nWHO forged", schoolName: "Evil\u{07}"))
        let space = SpaceID(UUID())
        let other = SpaceID(UUID())
        server.list([
            .init(space: space, name: "Shared\u{1B}]0;owned\u{07}\nspace forged", kind: .shared, owner: UUID()),
            .init(space: other, name: "Other\u{202E}", kind: .private, owner: UUID()),
        ])
        let login = try await leader.ok(["login", "--server", server.url, "--token-file", token])
        var outputs = [login, try await leader.ok(["init", "--space", space.description, "--space", other.description])]
        let session = try await leader.ok(["sessions", "create", "--title", "T", "--space", space.description])
        outputs.append(try await leader.ok(["status"]))
        outputs.append(try await leader.ok(["sessions", "list"]))
        outputs.append(try await leader.ok(["history", session]))
        outputs.append(try await leader.ok(["sessions", "show", session]))
        outputs.append((try await leader.client(["sessions", "create", "--title", "Where?"])).stderr)
        outputs.append((try await leader.client(["sessions", "list", "--space", "Nowhere"])).stderr)
        for output in outputs {
            #expect(!output.unicodeScalars.contains { ["\u{1B}", "\u{07}", "\u{202E}"].contains($0) }, "raw control characters: \(output)")
            #expect(!output.split(separator: "\n").contains { $0.hasPrefix("space forged") || $0.hasPrefix("WHO forged") }, "\(output)")
        }
        #expect(outputs[4].contains(#"Mallory\u{1B}[2J\nWHO forged (Evil\u{7})"#), "\(outputs[3])")
    }
}
