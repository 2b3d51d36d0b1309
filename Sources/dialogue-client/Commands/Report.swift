import ArgumentParser
import DialogueModel
import DialogueSync
import Foundation

/// `report`: how distributed a partnership's leadership is over a period.
struct Report: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Report on a partnership over a period: is leadership distributed?",
        discussion: """
            Sessions per host school; cross-school sessions (host and participants' home schools,
            as named with `members add --school`, span more than one school); distinct facilitators
            and each one's share; how many insights address each of Dean's hallmarks; actions of
            these sessions completed and overdue (as of --as-of, default today); who wrote the insights
            (the member certified for the device that created each).
            --format markdown|csv|json prints the report as a document instead (CSV columns:
            \(PartnershipReport.csvHeader); json: the same document as --json).
            """)

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case markdown, csv, json
    }

    @Option(help: "The partnership's shared space (needed when several are held): its UUID or its name.") var space: SpaceArgument?
    @Option(help: "First day: 2025-03-14, 14/03/2025, today… (default: the beginning).") var from: String?
    @Option(help: "Last day, inclusive: 2025-03-14, 14/03/2025, today… (default: no end).") var to: String?
    @Option(help: "The date overdue is measured against (default: today).") var asOf: String?
    @Option(
        help:
            "Print the report as markdown, csv or json (default: a text summary; with --json, markdown and csv come as {format, content}).")
    var format: Format?
    @OptionGroup var global: GlobalOptions

    /// The report as `--json` gives it: ``PartnershipReport``'s fields with the period as typed.
    struct Result: Encodable {
        var report: PartnershipReport
        var from: String?
        var to: String?

        private enum CodingKeys: String, CodingKey { case from, to }

        func encode(to encoder: any Encoder) throws {
            try report.encode(to: encoder)
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encodeIfPresent(from, forKey: .from)
            try container.encodeIfPresent(to, forKey: .to)
        }
    }

    func run() async throws {
        try await runReporting(json: global.json) {
            let replica = try global.openReplica()
            let space = try await replica.chooseSpace(space)
            let asOf = try asOf.map { try Dates.date($0, option: "--as-of", global.dates) } ?? global.dates.today()
            let start = try from.map { try Dates.instant($0, option: "--from", global.dates) }
            let end = try to.map { try Dates.endInstant($0, option: "--to", global.dates) }
            let report = try await replica.partnershipReport(in: space, from: start, to: end, asOf: asOf)
            let result = Result(report: report, from: from, to: to)
            switch format {
            case nil: try global.emit(result, Self.text(result))
            case .json?: print(try Output.json(result))
            case let format?:
                let content =
                    format == .csv ? report.csv : report.markdown(period: "\(from ?? "the beginning") to \(to ?? "now")")
                // Inside --json the content is as the library wrote it; printed, control characters are escaped.
                if global.json {
                    print(try Output.json(["format": format.rawValue, "content": content]))
                } else {
                    print(Terminal.escape(content, multiline: true))
                }
            }
        }
    }

    static func percent(_ share: Double) -> String { String(format: "%.0f%%", share * 100) }

    static func text(_ result: Result) -> String {
        let r = result.report
        var lines = [
            "Partnership space \(r.spaceName.map { "\(Terminal.line($0)) (\(r.space))" } ?? "\(r.space) \(NamedSpace.notInDirectory)"), \(result.from ?? "beginning") to \(result.to ?? "now") (as of \(r.asOf))",
            "Sessions: \(r.sessions), cross-school: \(r.crossSchoolSessions)", "",
            Output.table(
                ["HOST SCHOOL", "SESSIONS", "SHARE"], r.sessionsPerSchool.map { [$0.name, "\($0.sessions)", percent($0.share)] }),
            "",
            "Distinct facilitators: \(r.distinctFacilitators)",
            Output.table(["FACILITATOR", "SESSIONS", "SHARE"], r.facilitators.map { [$0.name, "\($0.sessions)", percent($0.share)] }),
            "",
            "Insights: \(r.insights), addressing a hallmark: \(r.insightsWithHallmark)",
            Output.table(["HALLMARK", "INSIGHTS"], r.hallmarks.map { [$0.name, "\($0.insights)"] }),
            "",
            Output.table(
                ["INSIGHT AUTHOR", "INSIGHTS", "SHARE"], r.insightAuthors.map { [$0.name, "\($0.insights)", percent($0.share)] }),
            "",
            "Actions: \(r.actionsCompleted) completed, \(r.actionsOpen) open, \(r.actionsOverdue) overdue",
        ]
        if r.sessions == 0 { lines.insert("(no sessions in this period)", at: 2) }
        return lines.joined(separator: "\n")
    }
}
