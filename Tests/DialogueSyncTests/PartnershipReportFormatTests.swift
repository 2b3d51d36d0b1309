import DialogueModel
import DialogueTestSupport
import Foundation
import Testing

@testable import DialogueSync

/// The partnership report as Markdown, CSV and JSON: the library's documents against
/// ``PartnershipScenario`` (every figure known), and `dialogue-client report --format`
/// printing exactly those documents for the scenario's replica file.
@Suite("Partnership report formats")
struct PartnershipReportFormatTests {
    static let period = ["--from", "2025-03-01", "--to", "2025-03-31", "--as-of", "2025-03-22"]

    static func march(_ scenario: PartnershipScenario) async throws -> PartnershipReport {
        try await scenario.ada.partnershipReport(
            in: PartnershipScenario.space, from: march2025Midnight(1), to: march2025Midnight(32), asOf: "2025-03-22")
    }

    @Test("CSV: one row per figure, every figure the scenario's")
    func csv() async throws {
        let scenario = try await PartnershipScenario()
        let report = try await Self.march(scenario)
        let (ada, ben) = (PartnershipScenario.adaMember, PartnershipScenario.benMember)
        let tagged: [Hallmark: Int] = [.synergy: 2, .sharedResponsibility: 1, .leadershipCapacity: 1]
        let expected =
            [
                "section,id,name,count,share",
                "summary,sessions,,4,", "summary,cross_school_sessions,,2,", "summary,distinct_facilitators,,2,",
                "summary,insights,,5,", "summary,insights_with_hallmark,,3,", "summary,actions_completed,,1,",
                "summary,actions_open,,4,", "summary,actions_overdue,,1,",
                "host_school,\(scenario.hill),Hill School,2,0.5000", "host_school,,(none recorded),1,0.2500",
                "host_school,\(scenario.vale),Vale School,1,0.2500",
                "facilitator,\(ada),Ada Lovelace,2,0.5000", "facilitator,,(none recorded),1,0.2500",
                "facilitator,\(ben),Ben Okafor,1,0.2500",
            ] + Hallmark.allCases.map { "hallmark,\($0.rawValue),\($0.displayName),\(tagged[$0] ?? 0)," } + [
                "insight_author,\(ada),Ada Lovelace (Northgate),3,0.6000", "insight_author,\(ben),Ben Okafor (Vale Academy),2,0.4000",
            ]
        #expect(report.csv.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) == expected)
    }

    @Test("Markdown: the space, the period, the summary figures and a table per section")
    func markdown() async throws {
        let scenario = try await PartnershipScenario()
        let markdown = try await Self.march(scenario).markdown(period: "2025-03-01 to 2025-03-31")
        for line in [
            "# Partnership report: North Partnership", "- Space: \(PartnershipScenario.space)", "- Period: 2025-03-01 to 2025-03-31",
            "- Overdue as of: 2025-03-22", "- Sessions: 4 (cross-school: 2)", "- Insights: 5 (addressing a hallmark: 3)",
            "- Actions: 1 completed, 4 open, 1 overdue", "## Facilitators (2 distinct)", "| Hill School | 2 | 50% |",
            "| (none recorded) | 1 | 25% |", "| Ada Lovelace | 2 | 50% |", "| \(Hallmark.synergy.displayName) | 2 |",
            "| Ada Lovelace (Northgate) | 3 | 60% |", "| Ben Okafor (Vale Academy) | 2 | 40% |",
        ] {
            #expect(markdown.split(separator: "\n").contains(Substring(line)), "missing \(line) in\n\(markdown)")
        }
    }

    @Test("a name holding | or a control character cannot break the Markdown table")
    func markdownEscapesNames() async throws {
        let scenario = try await PartnershipScenario()
        var report = try await Self.march(scenario)
        report.sessionsPerSchool[0].name = "Hill | Vale\n# forged"
        let markdown = report.markdown()
        #expect(markdown.contains(#"| Hill \| Vale\n# forged | 2 | 50% |"#), "\(markdown)")
        #expect(!markdown.split(separator: "\n").contains("# forged | 2 | 50% |"))
    }

    @Test("dialogue-client report --format markdown|csv|json prints the library's documents for the replica file")
    func throughTheBinary() async throws {
        let scenario = try await PartnershipScenario()
        let report = try await Self.march(scenario)
        let replica = scenario.directory.path("ada.sqlite")
        func client(_ arguments: [String]) async throws -> (Int32, String, String) {
            let out = scenario.directory.path("out-\(UUID())")
            let err = scenario.directory.path("err-\(UUID())")
            FileManager.default.createFile(atPath: out, contents: nil)
            FileManager.default.createFile(atPath: err, contents: nil)
            let binary = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
                .deletingLastPathComponent().appendingPathComponent(".build/debug/dialogue-client").path
            var environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("DIALOGUE_") }
            environment["HOME"] = scenario.directory.path("home")
            let status = try await ChildProcesses.run(
                binary, ["report", "--replica", replica] + Self.period + arguments, environment: environment, stdin: "/dev/null",
                stdout: out, stderr: err)
            return (status, try String(contentsOfFile: out, encoding: .utf8), try String(contentsOfFile: err, encoding: .utf8))
        }
        let csv = try await client(["--format", "csv"])
        #expect(csv.0 == 0, "\(csv.2)")
        #expect(csv.1 == report.csv + "\n")
        let markdown = try await client(["--format", "markdown"])
        #expect(markdown.1 == report.markdown(period: "2025-03-01 to 2025-03-31") + "\n")
        let json = try await client(["--format", "json"])
        let document = try #require(try JSONSerialization.jsonObject(with: Data(json.1.utf8)) as? [String: Any], "\(json.1)")
        #expect(document["sessions"] as? Int == 4 && document["insights"] as? Int == 5 && document["actionsOverdue"] as? Int == 1)
        #expect(document["from"] as? String == "2025-03-01" && document["to"] as? String == "2025-03-31")
        #expect(json.1 == (try await client(["--json"])).1, "--format json is not the --json document")
        let wrapped = try await client(["--format", "csv", "--json"])
        let content = try #require(try JSONSerialization.jsonObject(with: Data(wrapped.1.utf8)) as? [String: String])
        #expect(content == ["format": "csv", "content": report.csv])
        #expect(csv.2.isEmpty && markdown.2.isEmpty && json.2.isEmpty, "stderr: \(csv.2)\(markdown.2)\(json.2)")
    }
}
