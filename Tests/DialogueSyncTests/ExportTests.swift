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

    @Test("Markdown minutes: registers, participants, insights (capture order) with short ids, authors and hallmarks, actions with owners")
    func markdownMinutes() async throws {
        let scenario = try await PartnershipScenario()
        let s1 = scenario.sessions[0]
        let record = try #require(try scenario.ada.session(s1))
        let short = await scenario.ada.shortIDs([s1] + scenario.insights + scenario.actions)
        func id(_ id: EntityID) -> String { "`\(try! #require(short[id]))`" }
        let expected =
            [
                "# Feedback that moves learning on", "",
                "- **When:** 2025-03-03 09:00 UTC",
                "- **Status:** Held",
                "- **Host school:** Hill School",
                "- **Facilitator:** Ada Lovelace",
                "- **Strategy:** Dialogue",
                "- **Focus:** Written feedback",
                "- **Participants:** Ben Okafor",
                "- **Session id:** \(id(s1))",
                "", "## Insights", "",
                // Capture order: Ada's first, then Ben's.
                "- \(id(scenario.insights[0])) Peer feedback needs modelling first. _(by Ada Lovelace (Northgate); reflection; hallmarks: Shared responsibility, Synergy)_",
                "- \(id(scenario.insights[4])) Success criteria, shared. _(by Ben Okafor (Vale Academy))_",
                "", "## Actions", "",
                "- [ ] \(id(scenario.actions[0])) Draft the guide _(owner Ada Lovelace, due 2025-03-21)_",
                "- [ ] \(id(scenario.actions[1])) Share with Vale _(owner Ben Okafor, due 2025-03-22)_",
            ]
        #expect(try await scenario.ada.minutes(of: record, dates: .utc) == expected.joined(separator: "\n"))
        #expect(short.values.allSatisfy { $0.count >= 8 })
        let london = DateText(timeZone: TimeZone(identifier: "Europe/London")!)
        #expect(try await scenario.ada.minutes(of: record, dates: london).contains("- **When:** 2025-03-03 09:00 +00:00\n"))
        let both = try await scenario.ada.minutes(of: [record, try #require(try scenario.ada.session(scenario.sessions[1]))])
        #expect(both.components(separatedBy: SessionMinutes.separator).count == 2)
        #expect(
            both.contains("Buy books _(owner Carl Jones, due 2025-03-01)_") && both.contains("- [x] \(id(scenario.actions[2])) Buy books"))
    }

    @Test(
        "Markdown minutes: the prompt an insight answers, its evidence source and influence, local time; insights in capture order, participants by name"
    )
    func minutesWithPromptEvidenceAndOrder() async throws {
        let directory = TemporaryDirectory()
        let replica = try Replica(path: directory.path("r.sqlite"))
        let space = SpaceID(UUID())
        try await replica.addSpace(space)
        let june = Int64(1_749_893_400_000)  // 2025-06-14T09:30:00Z
        let names = ["Zoe Adams", "amir Khan", "Bea Lund", "Carl Jones", "dev Patel", "Ema Ito"]
        let (session, prompt, members, insights) = try await replica.edit(in: space) { editor in
            let session = try editor.createSession(title: "Reading for pleasure", scheduledAt: june)
            let prompt = try editor.createPrompt("What moves pupils to read for pleasure?")
            var members: [EntityID] = []
            for name in names {
                let member = try editor.createMember(name)
                try editor.addParticipant(member, to: session)
                members.append(member)
            }
            var insights: [EntityID] = []
            for index in 0..<8 {
                insights.append(
                    try editor.captureInsight(
                        in: session, text: "Insight \(index)", prompt: index == 0 ? prompt : nil, influence: index == 0 ? .reciprocal : nil,
                        evidenceSource: index == 0 ? "Year 5 pupil interviews" : nil))
            }
            return (session, prompt, members, insights)
        }
        #expect(insights != insights.sorted(), "the ids happen to be in capture order: the test would prove nothing")
        let record = try #require(try replica.session(session))
        let minutes = try await replica.minutes(of: record, dates: DateText(timeZone: TimeZone(identifier: "Europe/London")!))
        #expect(minutes.contains("- **When:** 2025-06-14 10:30 +01:00\n"), "\(minutes)")
        #expect(minutes.contains("- **Participants:** amir Khan, Bea Lund, Carl Jones, dev Patel, Ema Ito, Zoe Adams\n"), "\(minutes)")
        let short = await replica.shortIDs(insights)
        #expect(
            minutes.contains(
                "- `\(short[insights[0]]!)` Insight 0 _(by an unverified device \(replica.id.description.prefix(8))…; reciprocal influence)_\n"
                    + "  - Answers: What moves pupils to read for pleasure?\n"
                    + "  - Evidence: Year 5 pupil interviews\n"), "\(minutes)")
        let positions = insights.map { try! #require(minutes.range(of: "Insight \(insights.firstIndex(of: $0)!)")).lowerBound }
        #expect(positions == positions.sorted(), "insights not in capture order:\n\(minutes)")
        // The JSON export and ordered records agree.
        let export = try await replica.sessionExport(record)
        #expect(export.insights.map(\.id) == insights)
        #expect(export.participants == [1, 2, 3, 4, 5, 0].map { members[$0] })
        _ = prompt
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
        ].map(\.1)  // in capture order
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
