import DialogueModel
import DialogueTestSupport
import Foundation
import GRDB
import Testing

@testable import DialogueSync

/// Values that break their field's rule: refused when they arrive (merge, bundle import),
/// and, when already stored by an older version (in the materialised tables or in the
/// change log), read as a typed "invalid value" by every query, never a trap.
@Suite("Invalid stored values")
struct InvalidStoredValueTests {
    typealias Fixture = ReplicaBadInputTests.Fixture
    typealias S = DialogueSession.Field

    /// Mallory's change setting the session's `scheduledAt` to `{"string": "soon"}`, made
    /// after she saw everything the fixture holds (the model's own edit API does not check).
    static func poisonedChange(_ f: Fixture, field: String = S.scheduledAt, value: FieldValue = .string("soon")) throws -> Change {
        var document = try f.remoteCopy()
        return document.set(field, of: f.session, to: value, by: f.context(ReplicaBadInputTests.carolID))
    }

    // MARK: Refused on arrival

    @Test("a merge refuses a wrongly typed value; nothing is stored")
    func mergeRefusesPoisonedSession() async throws {
        let f = try await Fixture.make()
        let poisoned = try Self.poisonedChange(f)
        let error = try await ReplicaBadInputTests().expectRefusal(
            f.replica, "poisoned scheduledAt", mentions: ["invalid value", "scheduled time", "timestamp"],
            matching: { $0.code == .changeRejected && $0.change == poisoned.id && $0.rejection == .invalidValue }
        ) {
            try await f.replica.merge([poisoned])
        }
        #expect(error != nil)
        // Each rule the editor applies is applied at merge too.
        for (field, value) in [(S.title, FieldValue.string("   ")), (S.status, .string("postponed")), (S.facilitator, .string("Ada"))] {
            let change = try Self.poisonedChange(f, field: field, value: value)
            try await ReplicaBadInputTests().expectRefusal(
                f.replica, "bad \(field)", mentions: ["invalid value", field],
                matching: { $0.code == .changeRejected && $0.change == change.id && $0.rejection == .invalidValue }
            ) {
                try await f.replica.merge([change])
            }
        }
    }

    @Test("a bundle carrying a wrongly typed value is refused whole")
    func bundleImportRefusesPoisonedSession() async throws {
        let f = try await Fixture.make()
        // Bob holds the poisoned change in his log, as a version without checks stored it.
        let bob = try await ReplicaBadInputTests().makeBob(f)
        var bobDocument = try #require(await bob.document(f.space))
        let poisoned = bobDocument.set(S.scheduledAt, of: f.session, to: .string("soon"), by: f.context(ReplicaBadInputTests.bobID))
        try await Self.plantInLog([poisoned], of: f.space, in: bob)
        // ...and signed it, as every version since signing does: the bundle verifies, and the
        // merge behind the verification checks the value.
        let space = f.space
        try await bob.database.write { db in
            let chain = try ChainStore.held(of: ReplicaBadInputTests.bobID, in: space, upTo: poisoned.lastCounter, db)
            try ChainStore.store([chain.head(signedBy: bob.deviceKey)], db)
            try ChainStore.store(chain, db)
        }
        let bobAgain = try Replica(path: f.directory.path("bob.sqlite"), wallClock: f.clock)
        let url = f.directory.url.appendingPathComponent("poisoned.dlgb")
        try bobAgain.exportBundle(to: url, spaces: [f.space], recipientHolds: f.replica.heldVectors())
        try await ReplicaBadInputTests().expectRefusal(
            f.replica, "bundle with a poisoned session", mentions: ["invalid value", "scheduled time"],
            matching: { $0.code == .changeRejected && $0.change == poisoned.id && $0.rejection == .invalidValue }
        ) {
            try await f.replica.importBundle(from: url)
        }
    }

    // MARK: Already stored

    /// Appends changes to a replica's log (and vector) as an older version, which did not
    /// check values, would have; the replica must be reopened to see them.
    static func plantInLog(_ changes: [Change], of space: SpaceID, in replica: Replica) async throws {
        try await replica.database.write { db in
            try db.execute(sql: ReplicaSchema.appendBlock, arguments: [space.blob, changes.count, Data(ChangeCodec.encode(changes))])
            try Replica.storeVector(of: changes, space: space, db)
        }
    }

    @Test("a wrongly typed value in the change log: the replica opens, shows it as invalid, and a valid write replaces it")
    func badValueInChangeLog() async throws {
        let f = try await Fixture.make()
        let poisoned = try Self.poisonedChange(f)
        try await Self.plantInLog([poisoned], of: f.space, in: f.replica)
        // The older version's materialiser wrote the value into the column as it was.
        let sessionBlob = f.session.blob
        try await f.replica.database.write { db in
            try db.execute(sql: "UPDATE sessions SET scheduled_at = 'soon' WHERE session_id = ?", arguments: [sessionBlob])
        }
        let reopened = try Replica(path: f.directory.path("alice.sqlite"), wallClock: f.clock)
        let document = try #require(await reopened.document(f.space))
        #expect(document.read(DialogueSession.Key.scheduledAt, of: f.session) == .invalid(.string("soon")))
        #expect(DialogueSession(f.session, in: document)?.scheduledAt == nil)
        let record = try #require(try reopened.session(f.session))
        #expect(record.session.scheduledAt == nil)
        #expect(record.session.invalidFields == [S.scheduledAt])
        #expect(try reopened.sessions(in: f.space).first { $0.id == f.session }?.invalidFields == [S.scheduledAt])
        // The next valid write replaces it, in the document and in the tables.
        let session = f.session!
        try await reopened.edit(in: f.space) { editor in
            try editor.set(S.scheduledAt, of: session, to: .timestamp(1_780_000_000_000))
        }
        let repaired = try #require(try reopened.session(f.session))
        #expect(repaired.session.scheduledAt == 1_780_000_000_000)
        #expect(repaired.session.invalidFields == nil)
        // Through the typed key: the same rule, the same kind check.
        let (space, action) = (f.space, f.action!)
        try await reopened.edit(in: space) { editor in
            try editor.set(DialogueSession.Key.scheduledAt, of: session, to: Date(millisecondsSinceEpoch: 1_790_000_000_000))
            try editor.set(DialogueSession.Key.status, of: session, to: .held)
        }
        #expect(try reopened.session(session)?.session.scheduledAt == 1_790_000_000_000)
        #expect(try reopened.session(session)?.session.status == .held)
        await #expect(throws: ReplicaError.invalidValue("the session's title cannot be cleared")) {
            try await reopened.edit(in: space) { editor in try editor.set(DialogueSession.Key.title, of: session, to: nil) }
        }
        await #expect(throws: ReplicaError.wrongKind(action, expected: .session, found: "action")) {
            try await reopened.edit(in: space) { editor in try editor.set(DialogueSession.Key.focus, of: action, to: "x") }
        }
    }

    /// Writes values of the wrong type straight into every materialised table a query reads.
    static func plantBadRows(_ f: Fixture) async throws {
        let (session, prompt, insight, action, space) = (f.session.blob, f.prompt.blob, f.insight.blob, f.action.blob, f.space.blob)
        try await f.replica.database.write { db in
            try db.execute(
                sql: """
                    UPDATE sessions SET scheduled_at = 'soon', title = x'00ff', status = 'postponed', strategy = 7,
                        host_school = 'Hill Primary', facilitator = x'0102', focus = x'00', summary = x'ff'
                    WHERE session_id = ?
                    """, arguments: [session])
            try db.execute(sql: "INSERT INTO session_participants (session_id, member_id) VALUES (?, 'Ada')", arguments: [session])
            try db.execute(
                sql: "INSERT INTO agenda_items (session_id, position, prompt_id) VALUES (?, 'first', ?)", arguments: [session, prompt])
            try db.execute(
                sql: "UPDATE insights SET kind = 5, author = 'Ada', text = x'ff', influence = 'vast' WHERE insight_id = ?",
                arguments: [insight])
            try db.execute(sql: "INSERT INTO insight_hallmarks (insight_id, hallmark) VALUES (?, x'01')", arguments: [insight])
            try db.execute(
                sql: "UPDATE actions SET due_date = 20260301, status = 'open', owner = 3.5, description = '' WHERE action_id = ?",
                arguments: [action])
            try db.execute(
                sql: """
                    INSERT INTO field_conflicts (entity_id, field, replica, counter, space_id, kind, value_json, wall_time, logical, is_winner)
                    VALUES (?1, 'scheduledAt', 1, 1, ?2, 'session', '{"string":"soon"}', 1, 0, 1),
                        (?1, 'scheduledAt', 2, 1, ?2, 'session', 'not json', 2, 0, 0),
                        (?1, 'status', 'x', 'y', ?2, 'session', '{}', 'z', 0, 0)
                    """, arguments: [session, space])
        }
    }

    @Test("every query reads rows planted with wrongly typed values without trapping, and names the invalid fields")
    func plantedRowsNeverTrap() async throws {
        let f = try await Fixture.make()
        try await Self.plantBadRows(f)
        let replica = f.replica!

        let listed = try #require(try replica.sessions(in: f.space).first { $0.id == f.session })
        #expect(listed.scheduledAt == nil && listed.title == nil && listed.status == nil && listed.strategy == nil)
        #expect(listed.hostSchool == nil && listed.facilitator == nil && listed.focus == nil)
        #expect(
            Set(listed.invalidFields ?? [])
                == [S.title, S.scheduledAt, S.hostSchool, S.facilitator, S.focus, S.strategy, S.status])
        // Filters on the column stay well defined.
        _ = try replica.sessions(in: f.space, from: 0, to: .max, status: .planned)

        let record = try #require(try replica.session(f.session))
        #expect(record.summary == "")
        #expect(Set(record.session.invalidFields ?? []).isSuperset(of: [S.summary, S.participants, S.agenda, S.scheduledAt]))
        #expect(record.participants.count == 1)  // the readable one
        let insight = try #require(record.insights.first)
        #expect(insight.kind == nil && insight.author == nil && insight.influence == nil && insight.text == "")
        #expect(
            Set(insight.invalidFields ?? []) == [
                Insight.Field.kind, Insight.Field.author, Insight.Field.text, Insight.Field.influence, Insight.Field.hallmarks,
            ])
        #expect(insight.hallmarks == [Hallmark.synergy.rawValue])
        let action = try #require(record.actions.first)
        #expect(action.dueDate == nil && action.owner == nil && action.description == nil && action.status == .open)
        #expect(Set(action.invalidFields ?? []) == [Action.Field.dueDate, Action.Field.owner, Action.Field.description])

        #expect(try replica.insights(in: f.space, hallmark: .synergy).map(\.id) == [f.insight])
        #expect(try replica.insights(answering: f.prompt).isEmpty)
        #expect(try replica.openActions().map(\.id) == [f.action])
        #expect(try replica.overdueActions(asOf: "2030-01-01").isEmpty)  // a due date that is not a date is never overdue
        _ = try replica.search("feedback")

        let conflicts = try replica.conflicts(in: f.space)
        let scheduled = try #require(conflicts.first { $0.field == S.scheduledAt })
        #expect(scheduled.winner.value == .string("soon") && scheduled.winner.invalid == true)
        #expect(scheduled.losers.map(\.invalid) == [true])
        #expect(scheduled.losers.first?.value == .null)
        #expect(!conflicts.contains { $0.field == S.status })  // its bookkeeping could not be read

        // JSON keeps the shape documented in docs/CLI.md.
        let json = String(decoding: try JSONEncoder().encode(record.session), as: UTF8.self)
        #expect(json.contains("\"invalidFields\":["))
        #expect(!json.contains("scheduledAt\":"))
    }

    @Test("the materialised columns and child tables are those the field descriptors name")
    func materialisedTablesFollowTheDescriptors() async throws {
        let f = try await Fixture.make()
        try await f.replica.database.read { db in
            for kind in EntityKind.allCases {
                let spec = try #require(MaterializedTables.spec(for: kind))
                let columns = Set(try db.columns(in: spec.table).map(\.name))
                for field in kind.fields {
                    switch field.storage {
                    case .column(let column): #expect(columns.contains(column), "\(spec.table) lacks \(column) for \(kind).\(field.name)")
                    case .childTable(let table, let column):
                        let childColumns = Set(try db.columns(in: table).map(\.name))
                        #expect(childColumns.isSuperset(of: [spec.key, column]), "\(table) for \(kind).\(field.name)")
                    }
                }
            }
        }
    }
}
