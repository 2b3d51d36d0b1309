import DialogueModel
import Foundation

/// The report as a document: Markdown for people, CSV for a spreadsheet, JSON for programs.
/// Each is a function of the report alone, so replicas holding the same changes give the
/// same bytes.
extension PartnershipReport {
    /// The CSV header: every row is one figure of one section.
    public static let csvHeader = "section,id,name,count,share"

    /// The report as CSV (RFC 4180 quoting, lines joined by "\n", no final newline), one
    /// figure per row after ``csvHeader``:
    ///
    /// - `summary` rows: `id` names the figure (`sessions`, `cross_school_sessions`,
    ///   `distinct_facilitators`, `insights`, `insights_with_hallmark`,
    ///   `actions_completed`, `actions_open`, `actions_overdue`), `count` its value;
    /// - `host_school`, `facilitator`, `hallmark` and `insight_author` rows: the school's,
    ///   member's or hallmark's id (empty when none was recorded, a device id for an
    ///   unverified author), its name, its count and, except for hallmarks, its share of
    ///   the total with four decimals.
    public var csv: String {
        var rows = [Self.csvHeader]
        func row(_ section: String, _ id: String?, _ name: String, _ count: Int, _ share: Double?) {
            rows.append(SessionCSV.line([section, id ?? "", name, "\(count)", share.map(Self.decimal) ?? ""]))
        }
        for (figure, value) in summaryFigures { row("summary", figure, "", value, nil) }
        for school in sessionsPerSchool { row("host_school", school.id, school.name, school.sessions, school.share) }
        for facilitator in facilitators { row("facilitator", facilitator.id, facilitator.name, facilitator.sessions, facilitator.share) }
        for hallmark in hallmarks { row("hallmark", hallmark.hallmark, hallmark.name, hallmark.insights, nil) }
        for author in insightAuthors {
            row(
                "insight_author", author.author.member?.id.description ?? author.author.device.description, author.name, author.insights,
                author.share)
        }
        return rows.joined(separator: "\n")
    }

    /// The report as Markdown: a heading naming the space, the period (`period`, as the
    /// caller words it, e.g. "2025-03-01 to 2025-03-31") and the date overdue is measured
    /// against, then a table per section. What partners typed (names) is kept on one line
    /// with control characters escaped, and `|` escaped so it cannot open a table cell.
    public func markdown(period: String? = nil) -> String {
        func cell(_ text: String) -> String { ExportText.line(text).replacingOccurrences(of: "|", with: "\\|") }
        func percent(_ share: Double) -> String { String(format: "%.0f%%", share * 100) }
        func table(_ header: [String], _ rows: [[String]]) -> [String] {
            guard !rows.isEmpty else { return ["(none)"] }
            return ["| " + header.joined(separator: " | ") + " |", "|" + header.map { _ in " --- |" }.joined()]
                + rows.map { "| " + $0.map(cell).joined(separator: " | ") + " |" }
        }
        var lines = [
            "# Partnership report: \(cell(spaceName ?? space.description))", "",
            "- Space: \(space)",
            "- Period: \(cell(period ?? "all sessions"))",
            "- Overdue as of: \(asOf)",
            "- Sessions: \(sessions) (cross-school: \(crossSchoolSessions))",
            "- Insights: \(insights) (addressing a hallmark: \(insightsWithHallmark))",
            "- Actions: \(actionsCompleted) completed, \(actionsOpen) open, \(actionsOverdue) overdue",
            "", "## Sessions per host school", "",
        ]
        lines += table(["Host school", "Sessions", "Share"], sessionsPerSchool.map { [$0.name, "\($0.sessions)", percent($0.share)] })
        lines += ["", "## Facilitators (\(distinctFacilitators) distinct)", ""]
        lines += table(["Facilitator", "Sessions", "Share"], facilitators.map { [$0.name, "\($0.sessions)", percent($0.share)] })
        lines += ["", "## Hallmarks", ""]
        lines += table(["Hallmark", "Insights"], hallmarks.map { [$0.name, "\($0.insights)"] })
        lines += ["", "## Insight authors", ""]
        lines += table(["Author", "Insights", "Share"], insightAuthors.map { [$0.name, "\($0.insights)", percent($0.share)] })
        return lines.joined(separator: "\n")
    }

    /// The report as stable JSON (``ExportText/json(_:)``: pretty-printed, keys sorted):
    /// its fields as ``PartnershipReport`` encodes them.
    public func json() throws -> String { try ExportText.json(self) }

    /// The summary figures, in the order the CSV gives them.
    private var summaryFigures: [(String, Int)] {
        [
            ("sessions", sessions), ("cross_school_sessions", crossSchoolSessions), ("distinct_facilitators", distinctFacilitators),
            ("insights", insights), ("insights_with_hallmark", insightsWithHallmark), ("actions_completed", actionsCompleted),
            ("actions_open", actionsOpen), ("actions_overdue", actionsOverdue),
        ]
    }

    /// A share with four decimals, the same on every platform ("0.2500").
    private static func decimal(_ share: Double) -> String {
        let tenThousandths = Int((share * 10_000).rounded())
        let fraction = String(tenThousandths % 10_000)
        return "\(tenThousandths / 10_000)." + String(repeating: "0", count: 4 - fraction.count) + fraction
    }
}
