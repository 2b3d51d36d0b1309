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
            """)

    @Option(help: "The partnership's shared space (needed when several are held): its UUID or its name.") var space: SpaceArgument?
    @Option(help: "First day, YYYY-MM-DD (default: the beginning).") var from: String?
    @Option(help: "Last day, inclusive, YYYY-MM-DD (default: no end).") var to: String?
    @Option(help: "The date overdue is measured against (default: today).") var asOf: String?
    @OptionGroup var global: GlobalOptions

    struct Count: Encodable {
        var id: String?
        var name: String
        var sessions: Int
        var share: Double
    }

    struct HallmarkCount: Encodable {
        var hallmark: String
        var name: String
        var insights: Int
    }

    /// How many of the period's insights one person wrote (their devices' certified member;
    /// an unverified device counts apart).
    struct AuthorCount: Encodable {
        var author: DeviceAuthor
        var name: String
        var insights: Int
        var share: Double
    }

    struct Result: Encodable {
        var space: SpaceID
        /// The space's name in the verified directory (left out when not listed).
        var spaceName: String?
        var from: String?
        var to: String?
        var asOf: String
        var sessions: Int
        var sessionsPerSchool: [Count]
        var crossSchoolSessions: Int
        var facilitators: [Count]
        var distinctFacilitators: Int
        var insights: Int
        var insightsWithHallmark: Int
        var hallmarks: [HallmarkCount]
        /// Who wrote the insights, most first.
        var insightAuthors: [AuthorCount]
        var actionsCompleted: Int
        var actionsOverdue: Int
        var actionsOpen: Int
    }

    func run() async throws {
        try await runReporting(json: global.json) {
            let replica = try global.openReplica()
            let space = try await replica.chooseSpace(space)
            let asOf = asOf ?? Dates.today
            guard Dates.isDate(asOf) else { throw ClientError.usage("--as-of must be a date as YYYY-MM-DD, got '\(asOf)'") }
            let start = try from.map { try Dates.instant($0, option: "--from") }
            let end = try to.map { try Dates.endInstant($0, option: "--to") }
            let document = await replica.document(space)
            let homes = Dictionary(
                (document?.people ?? []).compactMap { m in m.homeSchool.map { (m.id, $0) } }, uniquingKeysWith: { a, _ in a })
            var records: [SessionRecord] = []
            for summary in try replica.sessions(in: space, from: start, to: end) {
                if let record = try replica.session(summary.id) { records.append(record) }
            }
            func counts(_ keys: [EntityID?]) async -> [Count] {
                var tally: [EntityID?: Int] = [:]
                for key in keys { tally[key, default: 0] += 1 }
                var result: [Count] = []
                for (key, count) in tally {
                    result.append(
                        Count(
                            id: key?.description, name: key == nil ? "(none recorded)" : await replica.name(of: key, in: space),
                            sessions: count, share: keys.isEmpty ? 0 : Double(count) / Double(keys.count)))
                }
                // Most sessions first, then by name, then by id: the same order on every run.
                return result.sorted { ($1.sessions, $0.name, $0.id ?? "") < ($0.sessions, $1.name, $1.id ?? "") }
            }
            let perSchool = await counts(records.map(\.session.hostSchool))
            let facilitators = await counts(records.map(\.session.facilitator))
            let crossSchool = records.filter { record in
                Set([record.session.hostSchool].compactMap { $0 } + record.participants.compactMap { homes[$0] }).count > 1
            }.count
            let insights = records.flatMap(\.insights)
            let hallmarks = Hallmark.allCases.map { hallmark in
                HallmarkCount(
                    hallmark: hallmark.rawValue, name: hallmark.displayName,
                    insights: insights.filter { $0.hallmarks.contains(hallmark.rawValue) }.count)
            }
            let authors = try await Render.insightAuthors(records, replica: replica)
            // One person's devices count together; each unverified device apart.
            var byPerson: [String: (author: DeviceAuthor, count: Int)] = [:]
            for insight in insights {
                guard let author = authors[insight.id]?.author else { continue }  // none, or disputed
                let key = author.member.map { "member \($0.id)" } ?? "device \(author.device)"
                byPerson[key, default: (author, 0)].count += 1
            }
            let insightAuthors = byPerson.values.map { entry in
                AuthorCount(
                    author: entry.author, name: entry.author.description, insights: entry.count,
                    share: insights.isEmpty ? 0 : Double(entry.count) / Double(insights.count))
            }.sorted { ($1.insights, $0.name, $0.author.device) < ($0.insights, $1.name, $1.author.device) }
            let actions = Dictionary(records.flatMap(\.actions).map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a }).values
            let result = Result(
                space: space, spaceName: try await replica.spaceNames().space(space).name, from: from, to: to, asOf: asOf, sessions: records.count, sessionsPerSchool: perSchool,
                crossSchoolSessions: crossSchool, facilitators: facilitators,
                distinctFacilitators: facilitators.filter { $0.id != nil }.count, insights: insights.count,
                insightsWithHallmark: insights.filter { !$0.hallmarks.isEmpty }.count, hallmarks: hallmarks,
                insightAuthors: insightAuthors,
                actionsCompleted: actions.filter { $0.status == .done }.count,
                actionsOverdue: actions.filter { $0.status == .open && ($0.dueDate ?? "9999") < asOf }.count,
                actionsOpen: actions.filter { $0.status == .open }.count)
            try global.emit(result, Self.text(result))
        }
    }

    static func percent(_ share: Double) -> String { String(format: "%.0f%%", share * 100) }

    static func text(_ r: Result) -> String {
        var lines = [
            "Partnership space \(r.spaceName.map { "\(Terminal.line($0)) (\(r.space))" } ?? "\(r.space) \(NamedSpace.notInDirectory)"), \(r.from ?? "beginning") to \(r.to ?? "now") (as of \(r.asOf))",
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
            Output.table(["INSIGHT AUTHOR", "INSIGHTS", "SHARE"], r.insightAuthors.map { [$0.name, "\($0.insights)", percent($0.share)] }),
            "",
            "Actions: \(r.actionsCompleted) completed, \(r.actionsOpen) open, \(r.actionsOverdue) overdue",
        ]
        if r.sessions == 0 { lines.insert("(no sessions in this period)", at: 2) }
        return lines.joined(separator: "\n")
    }
}
