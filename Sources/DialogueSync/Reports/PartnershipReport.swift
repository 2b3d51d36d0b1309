import DialogueModel
import Foundation

/// How distributed a partnership's leadership is over a period, computed from a replica
/// (``Replica/partnershipReport(in:from:to:asOf:)``).
///
/// Counts cover the live sessions scheduled in the period, their insights, and their
/// actions (those naming the session or one of its insights). Shares are fractions of 1;
/// lists are in a fixed order (most first, then by name, then id), so every run agrees.
public struct PartnershipReport: Sendable, Hashable, Encodable {
    /// Sessions counted under one key (a host school or a facilitator).
    public struct SessionCount: Sendable, Hashable, Encodable {
        /// The school's or member's id; `nil` for the sessions that record none.
        public var id: String?
        /// Its name (``Replica/displayName(of:in:names:)``), or ``PartnershipReport/noneRecorded``.
        public var name: String
        /// How many of the period's sessions.
        public var sessions: Int
        /// `sessions` over the period's sessions.
        public var share: Double
    }

    /// How many of the period's insights address one of Dean's hallmarks.
    public struct HallmarkCount: Sendable, Hashable, Encodable {
        /// The hallmark's raw value ("synergy").
        public var hallmark: String
        /// Its display name ("Synergy").
        public var name: String
        /// Insights tagged with it.
        public var insights: Int
    }

    /// How many of the period's insights one person wrote: their devices' certified member
    /// (each unverified device counts apart; disputed insights are not counted).
    public struct AuthorCount: Sendable, Hashable, Encodable {
        /// Who: a certified member, or an unverified device.
        public var author: DeviceAuthor
        /// ``DeviceAuthor/description``.
        public var name: String
        /// How many insights.
        public var insights: Int
        /// `insights` over the period's insights.
        public var share: Double
    }

    /// What names the sessions that record no host school or no facilitator.
    public static let noneRecorded = "(none recorded)"

    /// The partnership's space.
    public var space: SpaceID
    /// The space's name in the verified directory (left out when not listed).
    public var spaceName: String?
    /// The date overdue is measured against, "YYYY-MM-DD".
    public var asOf: String
    /// Live sessions scheduled in the period.
    public var sessions: Int
    /// Sessions per host school, most first.
    public var sessionsPerSchool: [SessionCount]
    /// Sessions whose host school and participants' home schools (as the space records
    /// them) span more than one school.
    public var crossSchoolSessions: Int
    /// Sessions per facilitator, most first (those with none recorded as one entry).
    public var facilitators: [SessionCount]
    /// How many different members facilitated.
    public var distinctFacilitators: Int
    /// Insights captured in the period's sessions.
    public var insights: Int
    /// Of those, the ones tagged with at least one hallmark.
    public var insightsWithHallmark: Int
    /// Per hallmark this version knows, in Dean's order.
    public var hallmarks: [HallmarkCount]
    /// Who wrote the insights, most first.
    public var insightAuthors: [AuthorCount]
    /// The period's actions done.
    public var actionsCompleted: Int
    /// The period's open actions overdue as of ``asOf`` (the rule of ``Replica/overdueActions(asOf:owner:in:)``).
    public var actionsOverdue: Int
    /// The period's open actions.
    public var actionsOpen: Int
}

extension Replica {
    /// The partnership report of `space` for the sessions scheduled in `from..<to` (ms since
    /// the epoch; `nil`: unbounded), overdue measured as of `asOf`.
    ///
    /// - Parameters:
    ///   - space: the space reported on.
    ///   - from: the first instant of the period, or `nil`.
    ///   - to: the instant the period ends before, or `nil`.
    ///   - asOf: a calendar date "YYYY-MM-DD"; an action due that day is not overdue.
    /// - Throws: ``ReplicaError/invalidValue(_:)`` when `asOf` is not a date.
    public func partnershipReport(
        in space: SpaceID, from: Int64? = nil, to: Int64? = nil, asOf: String
    ) throws(ReplicaError) -> PartnershipReport {
        let records = try sessionRecords(in: space, from: from, to: to)
        let names = try authorNames()
        let homes = Dictionary(
            try members(in: space).compactMap { m in m.homeSchool.map { (m.id, $0) } }, uniquingKeysWith: { a, _ in a })
        func counts(_ keys: [EntityID?]) -> [PartnershipReport.SessionCount] {
            var tally: [EntityID?: Int] = [:]
            for key in keys { tally[key, default: 0] += 1 }
            let result = tally.map { key, count in
                PartnershipReport.SessionCount(
                    id: key?.description, name: key == nil ? PartnershipReport.noneRecorded : displayName(of: key, in: space, names: names),
                    sessions: count, share: keys.isEmpty ? 0 : Double(count) / Double(keys.count))
            }
            // Most sessions first, then by name, then by id: the same order on every run.
            return result.sorted { ($1.sessions, $0.name, $0.id ?? "") < ($0.sessions, $1.name, $1.id ?? "") }
        }
        let facilitators = counts(records.map(\.session.facilitator))
        let crossSchool = records.filter { record in
            Set([record.session.hostSchool].compactMap { $0 } + record.participants.compactMap { homes[$0] }).count > 1
        }.count
        let insights = records.flatMap(\.insights)
        let hallmarks = Hallmark.allCases.map { hallmark in
            PartnershipReport.HallmarkCount(
                hallmark: hallmark.rawValue, name: hallmark.displayName,
                insights: insights.filter { $0.hallmarks.contains(hallmark.rawValue) }.count)
        }
        let authors = try insightAuthors(of: records)
        // One person's devices count together; each unverified device apart.
        var byPerson: [String: (author: DeviceAuthor, count: Int)] = [:]
        for insight in insights {
            guard let author = authors[insight.id]?.author else { continue }  // none, or disputed
            let key = author.member.map { "member \($0.id)" } ?? "device \(author.device)"
            byPerson[key, default: (author, 0)].count += 1
        }
        let insightAuthors = byPerson.values.map { entry in
            PartnershipReport.AuthorCount(
                author: entry.author, name: entry.author.description, insights: entry.count,
                share: insights.isEmpty ? 0 : Double(entry.count) / Double(insights.count))
        }.sorted { ($1.insights, $0.name, $0.author.device) < ($0.insights, $1.name, $1.author.device) }
        let actions = Dictionary(records.flatMap(\.actions).map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a }).values
        // Overdue is the replica's one rule (its overdue query), not a second one here.
        let overdue = Set(try overdueActions(asOf: asOf, in: space).map(\.id))
        return PartnershipReport(
            space: space, spaceName: try spaceNames().space(space).name, asOf: asOf, sessions: records.count,
            sessionsPerSchool: counts(records.map(\.session.hostSchool)), crossSchoolSessions: crossSchool, facilitators: facilitators,
            distinctFacilitators: facilitators.filter { $0.id != nil }.count, insights: insights.count,
            insightsWithHallmark: insights.filter { !$0.hallmarks.isEmpty }.count, hallmarks: hallmarks, insightAuthors: insightAuthors,
            actionsCompleted: actions.filter { $0.status == .done }.count, actionsOverdue: actions.filter { overdue.contains($0.id) }.count,
            actionsOpen: actions.filter { $0.status == .open }.count)
    }
}
