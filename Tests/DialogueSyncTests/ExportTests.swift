import DialogueModel
import Foundation
import Testing

@testable import DialogueSync

/// Session minutes and space exports as library calls: Markdown and CSV exactly, JSON
/// byte for byte against a fixture (Fixtures/partnership-space-export.json).
@Suite("Exports (library)")
struct ExportTests {
    /// Set DIALOGUE_REGENERATE_EXPORT_FIXTURE=1 to rewrite the fixture from the scenario
    /// (then read it, and commit it only if it is right).
    static let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures/partnership-space-export.json")

    @Test("the space's JSON export is the fixture's bytes, on both devices")
    func spaceJSONIsByteStable() async throws {
        let scenario = try await PartnershipScenario()
        let ada = try ExportText.json(try await scenario.ada.spaceExport(PartnershipScenario.space))
        let ben = try ExportText.json(try await scenario.ben.spaceExport(PartnershipScenario.space))
        #expect(ada == ben)
        if ProcessInfo.processInfo.environment["DIALOGUE_REGENERATE_EXPORT_FIXTURE"] == "1" {
            try Data(ada.utf8).write(to: Self.fixture)
        }
        // Read from the source tree (as the migration fixture is written), so a regenerated one is compared at once.
        #expect(Array(ada.utf8) == Array(try Data(contentsOf: Self.fixture)))
    }

    @Test("a session's JSON export names each insight's certified author")
    func sessionJSON() async throws {
        let scenario = try await PartnershipScenario()
        let record = try #require(try scenario.ada.session(scenario.sessions[0]))
        let export = try await scenario.ada.sessionExport(record)
        #expect(export.session == record.session && export.actions == record.actions && export.summary == record.summary)
        let authors = Dictionary(uniqueKeysWithValues: export.insights.map { ($0.id, $0.author?.member?.name) })
        #expect(authors == [scenario.insights[0]: "Ada Lovelace", scenario.insights[4]: "Ben Okafor"])
        #expect(export.insights.allSatisfy { $0.disputedAuthors == nil })
    }

    @Test("Markdown minutes: registers, participants, insights with authors and hallmarks, actions with owners")
    func markdownMinutes() async throws {
        let scenario = try await PartnershipScenario()
        let s1 = scenario.sessions[0]
        let record = try #require(try scenario.ada.session(s1))
        let insights = [
            (
                scenario.insights[0],
                "- Peer feedback needs modelling first. _(by Ada Lovelace (Northgate); reflection; hallmarks: Shared responsibility, Synergy)_"
            ),
            (scenario.insights[4], "- Success criteria, shared. _(by Ben Okafor (Vale Academy))_"),
        ].sorted { $0.0 < $1.0 }.map(\.1)
        let expected =
            [
                "# Feedback that moves learning on", "",
                "- **When:** 2025-03-03T09:00:00Z",
                "- **Status:** Held",
                "- **Host school:** Hill School",
                "- **Facilitator:** Ada Lovelace",
                "- **Strategy:** Dialogue",
                "- **Focus:** Written feedback",
                "- **Participants:** Ben Okafor",
                "- **Session id:** `\(s1)`",
                "", "## Insights", "",
            ] + insights + [
                "", "## Actions", "",
                "- [ ] Draft the guide _(owner Ada Lovelace, due 2025-03-21)_",
                "- [ ] Share with Vale _(owner Ben Okafor, due 2025-03-22)_",
            ]
        #expect(try await scenario.ada.minutes(of: record) == expected.joined(separator: "\n"))
        let both = try await scenario.ada.minutes(of: [record, try #require(try scenario.ada.session(scenario.sessions[1]))])
        #expect(both.components(separatedBy: SessionMinutes.separator).count == 2)
        #expect(both.contains("- [x] Buy books _(owner Carl Jones, due 2025-03-01)_"))
    }

    @Test("a title with a newline stays on one line in the minutes unless exact")
    func minutesKeepOneLineValuesOnOneLine() async throws {
        let directory = TemporaryDirectory()
        let replica = try Replica(path: directory.path("r.sqlite"))
        let space = SpaceID(UUID())
        try await replica.addSpace(space)
        let session = try await replica.edit(in: space) { editor in try editor.createSession(title: "Visit\n# Forged heading") }
        let record = try #require(try replica.session(session))
        let minutes = try await replica.minutes(of: record)
        #expect(minutes.hasPrefix("# Visit\\n# Forged heading\n"))
        #expect(!minutes.contains("\n# Forged"))
        #expect(try await replica.minutes(of: record, exact: true).hasPrefix("# Visit\n# Forged heading\n"))
    }

    @Test("CSV: a row per insight (its certified author) and per action (its owner, named), quoted where needed")
    func csvRows() async throws {
        let scenario = try await PartnershipScenario()
        let (s1, s2) = (scenario.sessions[0], scenario.sessions[1])
        let (ada, ben) = (PartnershipScenario.adaMember, PartnershipScenario.benMember)
        let records = [try #require(try scenario.ada.session(s1)), try #require(try scenario.ada.session(s2))]
        let s1Insights = [
            (
                scenario.insights[0],
                "insight,\(scenario.insights[0]),\(s1),Peer feedback needs modelling first.,\(ada),reflection,shared-responsibility;synergy,,Ada Lovelace,Northgate"
            ),
            (scenario.insights[4], "insight,\(scenario.insights[4]),\(s1),\"Success criteria, shared.\",\(ben),,,,Ben Okafor,Vale Academy"),
        ].sorted { $0.0 < $1.0 }.map(\.1)
        let expected =
            [SessionCSV.header] + s1Insights + [
                "action,\(scenario.actions[0]),\(s1),Draft the guide,\(ada),open,,2025-03-21,Ada Lovelace,Northgate",
                "action,\(scenario.actions[1]),\(s1),Share with Vale,\(ben),open,,2025-03-22,Ben Okafor,Vale Academy",
                "insight,\(scenario.insights[1]),\(s2),\"Pupils choose books, and read more.\",\(ada),,synergy,,Ada Lovelace,Northgate",
                // Carl has no device: named as the space names him, with his home school.
                "action,\(scenario.actions[2]),\(s2),Buy books,\(scenario.carl),done,,2025-03-01,Carl Jones,Hill School",
            ]
        #expect(try await scenario.ada.csv(of: records) == expected.joined(separator: "\n"))
        #expect(SessionCSV.line(["a\"b", "c\nd", "plain"]) == "\"a\"\"b\",\"c\nd\",plain")
    }
}
