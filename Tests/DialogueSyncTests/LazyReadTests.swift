import DialogueModel
import DialogueTestSupport
import Foundation
import GRDB
import Testing

@testable import DialogueSync

/// Every read a read-only command makes (issue 14, item 7) answers from the materialised
/// tables: lists, minutes, exports, the report, names, prefixes and short ids. Proven as
/// `LazyOpenTests` proves opening: the same reads on a copy whose stored log is unreadable
/// give what the replica that built its documents gives.
@Suite("Lazy reads")
struct LazyReadTests {
    /// Everything a read-only command shows of the scenario's space, as text.
    static func reads(_ replica: Replica, _ scenario: PartnershipScenario) async throws -> [String: String] {
        let space = PartnershipScenario.space
        var out: [String: String] = [:]
        let records = try await replica.sessionRecords(in: space)
        out["minutes"] = try await records.asyncMap { try await replica.minutes(of: $0, dates: .utc) }.joined(separator: "\n")
        out["csv"] = try await replica.csv(of: records)
        out["space json"] = try ExportText.json(try await replica.spaceExport(space))
        let one = try #require(try replica.session(scenario.sessions[0]))
        out["session json"] = try ExportText.json(try await replica.sessionExport(one))
        let report = try await replica.partnershipReport(
            in: space, from: march2025Midnight(1), to: march2025Midnight(32), asOf: "2025-03-21")
        out["report"] = report.markdown() + report.csv + (try report.json())
        let all = scenario.sessions + scenario.insights + scenario.actions + [scenario.hill, scenario.vale, scenario.carl]
        let short = await replica.shortIDs(all)
        out["short ids"] = all.map { short[$0] ?? "?" }.joined(separator: " ")
        out["short id"] = await replica.shortID(scenario.carl)
        var lookups: [String] = []
        for text in [
            "Carl Jones", "carl jones", "hill school", "Maths talk", String(short[scenario.insights[0]]!.prefix(6)), "Ada Lovelace",
        ] {
            lookups.append(
                "\(text): "
                    + (await replica.entities(matching: text)).map { "\($0.id) \($0.kind) \($0.label ?? "-")" }.joined(separator: ", "))
        }
        out["lookups"] = lookups.joined(separator: "\n")
        var names: [String] = []
        for id in [
            scenario.carl, scenario.hill, PartnershipScenario.adaMember,
            EntityID(UUID(uuidString: "0d000000-0000-4000-8000-00000000dead")!),
        ] {
            let person = await replica.person(id, in: space, names: try replica.authorNames())
            names.append("\(await replica.displayName(of: id, in: space)) / \(person.name) (\(person.school))")
        }
        out["names"] = names.joined(separator: "\n")
        out["holding"] = "\(try await replica.space(holding: scenario.insights[3], kind: .insight).map(\.description) ?? "none")"
        var authorship: [String] = []
        for insight in scenario.insights {
            authorship.append("\(await replica.authorship(ofEntity: insight, names: try replica.authorNames())?.description ?? "-")")
        }
        out["authorship"] = authorship.joined(separator: "\n")
        // What `people list`, `schools list` and `prompts list` show.
        out["members"] = "\(try replica.members(in: space).map { "\($0.id) \($0.name ?? "-") \($0.homeSchool?.description ?? "-")" })"
        out["schools"] = "\(try replica.schools(in: space).map { "\($0.id) \($0.label ?? "-")" })"
        out["prompts"] = "\(try replica.prompts(in: space).map { "\($0.id) \($0.text ?? "-") \($0.theme ?? "-")" })"
        return out
    }

    @Test("minutes, CSV and JSON exports, the report, names, prefixes and short ids: the same from a replica whose log is unreadable")
    func readsNeedNoDocument() async throws {
        let scenario = try await PartnershipScenario()
        // A prompt on an agenda: its text in the minutes and the export comes from the space.
        let first = scenario.sessions[0]
        try await scenario.ada.edit(in: PartnershipScenario.space) { editor in
            let prompt = try editor.createPrompt("What does good feedback look like?", theme: "Feedback", source: "Staff meeting")
            try editor.addToAgenda(prompt, of: first)
        }
        let expected = try await Self.reads(scenario.ada, scenario)
        #expect(expected["minutes"]?.contains("What does good feedback look like?") == true)
        #expect(expected["lookups"]?.contains("Carl Jones") == true)

        let path = scenario.directory.path("copy.sqlite")
        try await scenario.ada.database.backup(to: try DatabaseQueue(path: path))
        let queue = try DatabaseQueue(path: path)
        try await queue.write { db in try db.execute(sql: "UPDATE change_blocks SET body = x'00ff00ff00ff'") }
        try queue.close()
        let reopened = try Replica(path: path, wallClock: ManualWallClock(1_741_000_000_000))
        let read = try await Self.reads(reopened, scenario)
        for (key, value) in expected.sorted(by: { $0.key < $1.key }) {
            #expect(read[key] == value, "\(key) differs")
        }
        #expect(await !reopened.hasBuiltDocument(PartnershipScenario.space))
    }

    @Test("history reads the entity's changes from the log's rows: no document is built")
    func historyBuildsNoDocument() async throws {
        let scenario = try await PartnershipScenario()
        let path = scenario.directory.path("copy.sqlite")
        try scenario.ada.database.backup(to: try DatabaseQueue(path: path))
        let reopened = try Replica(path: path, wallClock: ManualWallClock(1_741_000_000_000))
        let history = try await reopened.history(of: scenario.insights[3])
        #expect(history.kind == EntityKind.insight.rawValue && history.space == PartnershipScenario.space)
        #expect(history.edits.first?.author.member?.name == "Ben Okafor")
        #expect(try await reopened.history(of: scenario.insights[3]) == scenario.ada.history(of: scenario.insights[3]))
        #expect(await !reopened.hasBuiltDocument(PartnershipScenario.space))
    }

    @Test("upgrading a replica older than the creations table fills it from the log: capture order and authors as before")
    func migrationFillsCreations() async throws {
        let scenario = try await PartnershipScenario()
        let space = PartnershipScenario.space
        let record = try #require(try scenario.ada.session(scenario.sessions[0]))
        let minutes = try await scenario.ada.minutes(of: record, dates: .utc)
        let path = scenario.directory.path("old.sqlite")
        try scenario.ada.database.backup(to: try DatabaseQueue(path: path))
        // What a replica of the version before held: no table, no migration.
        let queue = try DatabaseQueue(path: path)
        try await queue.write { db in
            try db.execute(sql: "DROP TABLE entity_creations")
            try db.execute(sql: "DELETE FROM grdb_migrations WHERE identifier = 'v12-entity-creations'")
        }
        try queue.close()
        let upgraded = try Replica(path: path, wallClock: ManualWallClock(1_741_000_000_000))
        #expect(try await upgraded.minutes(of: record, dates: .utc) == minutes)
        #expect(await upgraded.creator(of: scenario.insights[3]) == PartnershipScenario.benDevice)
        #expect(await !upgraded.hasBuiltDocument(space), "opening after the upgrade builds nothing")
    }
}

extension Sequence {
    func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var result: [T] = []
        for element in self { result.append(try await transform(element)) }
        return result
    }
}
