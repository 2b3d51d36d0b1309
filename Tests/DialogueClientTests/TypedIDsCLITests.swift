import DialogueTestSupport
import Foundation
import Testing

/// Issue 14, item 2, through the binary: ids people can type (an unambiguous prefix of at
/// least 4 hex digits, or a name or title), candidates listed for an ambiguous one (64),
/// unknown ids refused (66), short ids in readable output and full ids in JSON.
@Suite("dialogue-client: ids people can type")
struct TypedIDsCLITests {
    static let ada = "abcd1111-0000-4000-8000-000000000001"
    static let ben = "abcd2222-0000-4000-8000-000000000002"

    /// A replica holding one space, two named members whose ids share the prefix `abcd`, and a session.
    static func setUp(_ scratch: Scratch) async throws -> (leader: Leader, session: String) {
        let leader = Leader("a", in: scratch)
        try await leader.ok(["init", "--space", UUID().uuidString])
        try await leader.ok(["members", "add", "--id", ada, "--name", "Ada Leader"])
        try await leader.ok(["members", "add", "--id", ben, "--name", "Ben Leader"])
        let created = try #require(
            try await leader.json(["sessions", "create", "--title", "Feedback that moves learning on"]) as? [String: Any])
        return (leader, try #require(created["session"] as? String))
    }

    static func participants(_ leader: Leader, _ session: String) async throws -> [String] {
        let record = try #require(try await leader.json(["sessions", "show", session]) as? [String: Any])
        return (record["participants"] as? [Any])?.map { "\($0)" } ?? []
    }

    @Test("a session by an id prefix or its title (any case); a member by name or an unambiguous prefix")
    func prefixesAndNames() async throws {
        let scratch = Scratch()
        let (leader, session) = try await Self.setUp(scratch)
        let shown = try await leader.ok(["sessions", "show", String(session.prefix(6))])
        #expect(shown.contains("Feedback that moves learning on"), "\(shown)")
        try await leader.ok(["sessions", "add-participant", "feedback that moves learning on", "Ada Leader"])
        try await leader.ok(["sessions", "add-participant", String(session.prefix(4)), "abcd2"])
        let participants = try await Self.participants(leader, session)
        #expect(participants.contains { $0.contains(Self.ada) } && participants.contains { $0.contains(Self.ben) }, "\(participants)")
        let action = try await leader.ok([
            "actions", "add", "Share the rubric", "--session", "Feedback that moves learning on", "--owner", "ben leader",
        ])
        try await leader.ok(["actions", "complete", String(action.prefix(5))])
    }

    @Test("an ambiguous prefix lists the candidates and exits 64, changing nothing; --json gives code ambiguous")
    func ambiguous() async throws {
        let scratch = Scratch()
        let (leader, session) = try await Self.setUp(scratch)
        let result = try await leader.client(["sessions", "add-participant", session, "abcd"])
        #expect(result.status == 64, "\(result)")
        #expect(result.stderr.contains("matches 2 members"), "\(result.stderr)")
        #expect(
            result.stderr.contains("abcd1111  member  Ada Leader") && result.stderr.contains("abcd2222  member  Ben Leader"),
            "\(result.stderr)")
        #expect(try await Self.participants(leader, session).isEmpty)
        let json = try await leader.client(["sessions", "add-participant", session, "ABCD", "--json"])
        #expect(json.status == 64 && json.stderr.contains(#""ambiguous""#), "\(json.stderr)")
    }

    @Test("regression: unknown member ids were accepted silently as participants and owners; now exit 66, nothing changed")
    func unknownMembers() async throws {
        let scratch = Scratch()
        let (leader, session) = try await Self.setUp(scratch)
        let stranger = UUID().uuidString
        let participant = try await leader.client(["sessions", "add-participant", session, stranger])
        #expect(participant.status == 66 && participant.stderr.contains("no member"), "\(participant)")
        #expect(try await Self.participants(leader, session).isEmpty)
        let owner = try await leader.client(["actions", "add", "Share the rubric", "--session", session, "--owner", stranger])
        #expect(owner.status == 66 && owner.stderr.contains("no member"), "\(owner)")
        #expect(try await leader.ok(["actions", "list"]) == "no actions")
        let school = try await leader.client(["sessions", "edit", session, "--host-school", "Nowhere Academy"])
        #expect(school.status == 66 && school.stderr.contains("no school"), "\(school)")
        let json = try await leader.client(["sessions", "show", "No such title", "--json"])
        #expect(json.status == 66 && json.stderr.contains(#""not_found""#), "\(json.stderr)")
    }

    @Test("sessions list shows short ids (8 hex digits here) that can be typed back; --json keeps full ids; --space takes a prefix")
    func shortIDs() async throws {
        let scratch = Scratch()
        let (leader, session) = try await Self.setUp(scratch)
        let table = try await leader.ok(["sessions", "list"])
        #expect(!table.contains(session), "the full id shown: \(table)")
        let row = try #require(table.split(separator: "\n").dropFirst().first, "\(table)")
        let short = String(try #require(row.split(separator: " ").first))
        #expect(short.count == 8 && session.lowercased().replacingOccurrences(of: "-", with: "").hasPrefix(short), "\(row)")
        #expect(try await leader.ok(["sessions", "show", short]).contains("Feedback that moves learning on"))
        let listed = try #require(try await leader.json(["sessions", "list"]) as? [[String: Any]])
        #expect(listed.first?["id"] as? String == session, "\(listed)")
        let space = try #require(listed.first?["space"] as? String)
        #expect(try await leader.ok(["sessions", "list", "--space", String(space.prefix(6))]).contains("Feedback that moves"))
    }
}
