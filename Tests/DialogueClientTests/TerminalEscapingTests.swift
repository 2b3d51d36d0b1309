import DialogueTestSupport
import Foundation
import Testing

/// A partner's text (or a server's message) holding terminal control sequences is shown
/// escaped by every human-readable output of the real binary; `--json` stays exact.
@Suite("Control characters from partners are escaped")
struct TerminalEscapingTests {
    /// ESC[2J clears the screen, ESC]0;…BEL retitles the window, BEL rings, U+202E
    /// reverses what follows, U+009B is a one-byte CSI, U+2066 an isolate.
    static let title = "Plan\u{1B}[2J\u{07}\u{202E}txt.exe"
    static let insight = "Seen in class\u{1B}]0;owned\u{07}\nsecond line \u{9B}31m\u{2066}end"
    static let summary = "Summary\u{1B}[31m red\ttabbed\r\nnext"
    static let member = "Mallory\u{1B}[8m"
    static let action = "Follow up\n- [x] forged done action"
    static let raw: [Unicode.Scalar] = ["\u{1B}", "\u{07}", "\u{202E}", "\u{9B}", "\u{2066}"]

    /// Whether `text` holds any of the dangerous characters as they are.
    static func holdsRaw(_ text: String) -> Bool { text.unicodeScalars.contains { raw.contains($0) } }

    /// Hill holds a session that Vale (the partner) wrote, merged in through a bundle.
    static func partnerSession(_ scratch: Scratch) async throws -> (hill: Leader, session: String, space: String) {
        // Bundles are signed and verified: both leaders log in to one server (then work offline).
        let server = try await LiveServer.start(in: scratch)
        defer { server.stop() }
        let space = server.sharedSpace
        let hill = try await server.loggedInLeader("hill", in: scratch)
        let vale = try await server.loggedInLeader("vale", in: scratch)
        let member = try await vale.ok(["members", "add", "--name", member])
        let session = try await vale.ok(["sessions", "create", "--title", title, "--at", "2025-03-14", "--facilitator", member])
        try await vale.ok(["sessions", "edit", session, "--summary", summary])
        try await vale.ok(["insights", "capture", session, insight])
        try await vale.ok(["actions", "add", action, "--session", session, "--owner", member, "--due", "2025-04-01"])
        try await vale.ok(["prompts", "add", "Why\u{1B}[2J?"])
        let bundle = scratch.path("vale.bundle")
        try await vale.ok(["bundle", "export", bundle])
        try await hill.ok(["bundle", "import", bundle])
        return (hill, session, space)
    }

    @Test("every human-readable command prints the partner's control characters escaped")
    func humanOutputIsEscaped() async throws {
        let scratch = Scratch()
        let (hill, session, space) = try await Self.partnerSession(scratch)
        let commands: [[String]] = [
            ["sessions", "list"], ["sessions", "show", session], ["export", "--session", session],
            ["export", "--space", space, "--format", "csv"], ["members", "list"], ["actions", "list"], ["prompts", "list"],
            ["report", "--as-of", "2025-05-01"], ["export", "--session", session, "--format", "markdown"],
        ]
        for command in commands {
            let result = try await hill.client(command)
            #expect(result.status == 0, "\(command): \(result.stderr)")
            #expect(!Self.holdsRaw(result.stdout), "\(command.joined(separator: " ")) printed a raw control character")
            #expect(!Self.holdsRaw(result.stderr))
        }
        let shown = try await hill.ok(["sessions", "show", session])
        #expect(shown.contains(#"# Plan\u{1B}[2J\u{7}\u{202E}txt.exe"#))
        #expect(shown.contains(#"Seen in class\u{1B}]0;owned\u{7}"#))
        // Multi-line text keeps its lines (and its tab, and CR before LF); a one-line value cannot forge lines.
        #expect(shown.contains("\n  second line \\u{9B}31m\\u{2066}end"))
        #expect(shown.contains("Summary\\u{1B}[31m red\ttabbed\r\nnext"))
        // (after the action's short id)
        #expect(shown.contains(#"` Follow up\n- [x] forged done action"#))
        #expect(!shown.contains("\n- [x] forged"))
        #expect(shown.contains(#"Mallory\u{1B}[8m"#))
        let listed = try await hill.ok(["sessions", "list"])
        #expect(listed.contains(#"Plan\u{1B}[2J\u{7}\u{202E}txt.exe"#))
    }

    @Test("--json prints the partner's strings exactly")
    func jsonStaysExact() async throws {
        let scratch = Scratch()
        let (hill, session, _) = try await Self.partnerSession(scratch)
        let record = try #require(try await hill.json(["sessions", "show", session]) as? [String: Any])
        let fields = try #require(record["session"] as? [String: Any])
        #expect(fields["title"] as? String == Self.title)
        #expect(record["summary"] as? String == Self.summary)
        let insights = try #require(record["insights"] as? [[String: Any]])
        #expect(insights.first?["text"] as? String == Self.insight)
        let exported = try #require(try await hill.json(["export", "--session", session, "--format", "markdown"]) as? [String: Any])
        #expect((exported["content"] as? String)?.contains(Self.title) == true)
    }

    @Test("a file written by export -o is escaped the same way (and is 0600)")
    func exportFileIsEscaped() async throws {
        let scratch = Scratch()
        let (hill, session, _) = try await Self.partnerSession(scratch)
        let file = scratch.path("minutes.md")
        try await hill.ok(["export", "--session", session, "-o", file])
        let written = try String(contentsOfFile: file, encoding: .utf8)
        #expect(!Self.holdsRaw(written) && written.contains(#"\u{1B}[2J"#))
    }

    @Test("a server's error message is escaped on stderr")
    func serverMessageIsEscaped() async throws {
        let scratch = Scratch()
        let hill = Leader("hill", in: scratch)
        try await hill.ok(["init", "--space", UUID().uuidString])
        try await hill.ok(["sessions", "create", "--title", "Anything"])
        let body = #"{"error":{"code":"invalid_changes","message":"refused\u001b[2J\u0007\u202e!"}}"#
        let server = try ScriptedHTTPServer { _ in
            .init(status: 422, headers: [("Content-Type", "application/json")], body: Array(body.utf8))
        }
        try await hill.storeLogin(server: server.url)  // as a login would leave it; this server plays no registration
        let result = try await hill.client(["sync", "--attempts", "1"])
        #expect(result.status == 65)
        #expect(!Self.holdsRaw(result.stderr))
        #expect(result.stderr.contains(#"refused\u{1B}[2J\u{7}\u{202E}!"#), "\(result.stderr)")
    }
}
