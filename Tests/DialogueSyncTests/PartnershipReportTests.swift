import DialogueModel
import Foundation
import Testing

@testable import DialogueSync

/// The partnership report as a library value: every figure against ``PartnershipScenario``,
/// whose counts are known.
@Suite("Partnership report (library)")
struct PartnershipReportTests {
    typealias Count = PartnershipReport.SessionCount

    @Test("every figure of March's report matches the scenario's known counts")
    func marchFigures() async throws {
        let scenario = try await PartnershipScenario()
        for replica in [scenario.ada, scenario.ben] {  // both devices hold the same changes: the same report
            let report = try await replica.partnershipReport(
                in: PartnershipScenario.space, from: march2025Midnight(1), to: march2025Midnight(32), asOf: "2025-03-22")
            #expect(report.space == PartnershipScenario.space)
            #expect(report.spaceName == "North Partnership")
            #expect(report.asOf == "2025-03-22")
            #expect(report.sessions == 4)
            #expect(
                report.sessionsPerSchool == [
                    Count(id: scenario.hill.description, name: "Hill School", sessions: 2, share: 0.5),
                    Count(id: nil, name: PartnershipReport.noneRecorded, sessions: 1, share: 0.25),
                    Count(id: scenario.vale.description, name: "Vale School", sessions: 1, share: 0.25),
                ])
            #expect(report.crossSchoolSessions == 2)
            #expect(
                report.facilitators == [
                    Count(id: PartnershipScenario.adaMember.description, name: "Ada Lovelace", sessions: 2, share: 0.5),
                    Count(id: nil, name: PartnershipReport.noneRecorded, sessions: 1, share: 0.25),
                    Count(id: PartnershipScenario.benMember.description, name: "Ben Okafor", sessions: 1, share: 0.25),
                ])
            #expect(report.distinctFacilitators == 2)
            #expect(report.insights == 5)
            #expect(report.insightsWithHallmark == 3)
            let tagged = Dictionary(uniqueKeysWithValues: report.hallmarks.map { ($0.hallmark, $0.insights) })
            #expect(report.hallmarks.map(\.hallmark) == Hallmark.allCases.map(\.rawValue))
            #expect(report.hallmarks.map(\.name) == Hallmark.allCases.map(\.displayName))
            for hallmark in Hallmark.allCases {
                let expected = [Hallmark.synergy: 2, .sharedResponsibility: 1, .leadershipCapacity: 1][hallmark] ?? 0
                #expect(tagged[hallmark.rawValue] == expected, "\(hallmark)")
            }
            #expect(report.insightAuthors.map(\.name) == ["Ada Lovelace (Northgate)", "Ben Okafor (Vale Academy)"])
            #expect(report.insightAuthors.map(\.insights) == [3, 2])
            #expect(report.insightAuthors.map(\.share) == [0.6, 0.4])
            #expect(report.insightAuthors.map(\.author.device) == [PartnershipScenario.adaDevice, PartnershipScenario.benDevice])
            #expect(report.insightAuthors.map { $0.author.member?.id } == [PartnershipScenario.adaMember, PartnershipScenario.benMember])
            #expect(report.actionsCompleted == 1)
            #expect(report.actionsOpen == 4)
            #expect(report.actionsOverdue == 1)
        }
    }

    @Test("overdue is the replica's one rule: an undated action is never overdue, even as of 9999-12-31")
    func overdueIsOneRule() async throws {
        let scenario = try await PartnershipScenario()
        let space = PartnershipScenario.space
        // The period's open actions: a1 (21 March), a2 (22 March), a4 (undated), a5 (30 April).
        for (asOf, expected) in [("2025-03-21", 0), ("2025-03-22", 1), ("2025-05-01", 3), ("9999-12-31", 3)] {
            let report = try await scenario.ada.partnershipReport(
                in: space, from: march2025Midnight(1), to: march2025Midnight(32), asOf: asOf)
            #expect(report.actionsOverdue == expected, "as of \(asOf)")
            // The same actions the replica's overdue query gives, restricted to the period's.
            let period = Set(
                try await scenario.ada.sessionRecords(in: space, from: march2025Midnight(1), to: march2025Midnight(32))
                    .flatMap(\.actions).map(\.id))
            #expect(try scenario.ada.overdueActions(asOf: asOf, in: space).filter { period.contains($0.id) }.count == expected)
        }
        await #expect(throws: ReplicaError.self) {
            try await scenario.ada.partnershipReport(in: space, asOf: "2025-13-01")
        }
    }

    @Test("without a period every live session counts; an empty period counts nothing and shares are 0")
    func periods() async throws {
        let scenario = try await PartnershipScenario()
        let space = PartnershipScenario.space
        let all = try await scenario.ada.partnershipReport(in: space, asOf: "2025-03-22")
        #expect(all.sessions == 6)  // s1–s6; s7 is deleted
        #expect(all.insights == 6)
        #expect(all.actionsOpen == 5)  // a6 (s5) joins
        #expect(all.actionsOverdue == 2)  // a1, a6
        let empty = try await scenario.ada.partnershipReport(in: space, from: march2025Midnight(60), asOf: "2025-03-22")
        #expect(empty.sessions == 0 && empty.sessionsPerSchool.isEmpty && empty.facilitators.isEmpty)
        #expect(empty.insights == 0 && empty.insightAuthors.isEmpty && empty.hallmarks.allSatisfy { $0.insights == 0 })
        #expect(empty.actionsCompleted == 0 && empty.actionsOpen == 0 && empty.actionsOverdue == 0)
    }
}
