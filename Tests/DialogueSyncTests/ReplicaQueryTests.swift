import DialogueModel
import Foundation
import GRDB
import Testing

@testable import DialogueSync

// Tests of the read side (`Replica+Queries.swift`): every query over the materialised
// tables, built through the replica's typed edits and merges.

/// A wall clock that stands still (the hybrid logical clock still moves forward).
private struct QueryTestClock: WallClock {
    let milliseconds: UInt64
    func millisecondsSinceEpoch() -> UInt64 { milliseconds }
}

/// Runs `body` with a fresh temporary directory, removed afterwards.
private func withQueryTestDirectory<T>(_ body: (URL) async throws -> T) async throws -> T {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent(UUID().uuidString)
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    return try await body(directory)
}

/// How long an observation may take to deliver a write before the test fails. Generous: the
/// full suite runs dozens of suites at once on two cores, where a 2 s bound timed out with
/// nothing wrong; an observation that never sees the write still fails.
private let observationTimeout = 60.0

/// Runs `body`, failing if it takes longer than `seconds`.
private func withQueryTestTimeout<T: Sendable>(seconds: Double, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
    try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await Task.sleep(for: .milliseconds(Int(seconds * 1000)))
            return nil
        }
        defer { group.cancelAll() }
        guard let first = try await group.next(), let value = first else {
            Issue.record("timed out after \(seconds) s")
            throw CancellationError()
        }
        return value
    }
}

/// Milliseconds for a day of March 2025 at 09:00 UTC.
private func march(_ day: Int) -> Int64 { 1_740_819_600_000 + Int64(day - 1) * 86_400_000 }

/// A space with people, prompts and four sessions, as most tests need it.
private struct QueryFixture {
    let replica: Replica
    let space: SpaceID
    let school: EntityID
    let alice: EntityID
    let bilal: EntityID
    let prompts: [EntityID]
    /// Scheduled 3, 10 and 17 March, and one unscheduled.
    let early: EntityID
    let middle: EntityID
    let late: EntityID
    let unscheduled: EntityID

    init(_ directory: URL, name: String = "replica.sqlite") async throws {
        replica = try Replica(path: directory.appendingPathComponent(name).path)
        space = SpaceID(UUID())
        try await replica.addSpace(space)
        let ids = try await replica.edit(in: space) { editor in
            let school = try editor.createSchool("Hillside Primary")
            let alice = try editor.createMember("Alice Moreau", role: .headteacher, homeSchool: school)
            let bilal = try editor.createMember("Bilal Khan", role: .middleLeader, homeSchool: school)
            let prompts = [
                try editor.createPrompt("How do we know pupils are learning?"),
                try editor.createPrompt("What did you notice in the classroom visit?"),
                try editor.createPrompt("Which practice should we share across the partnership?"),
            ]
            let early = try editor.createSession(
                title: "Feedback that moves learning on", scheduledAt: march(3), hostSchool: school, facilitator: alice,
                strategy: .dialogue, focus: "Written feedback", status: .held)
            let middle = try editor.createSession(
                title: "Attendance data review", scheduledAt: march(10), facilitator: bilal, strategy: .monitoring)
            let late = try editor.createSession(
                title: "Modelling questioning", scheduledAt: march(17), facilitator: alice, strategy: .modelling)
            let unscheduled = try editor.createSession(title: "Reading for pleasure")
            return (school, alice, bilal, prompts, early, middle, late, unscheduled)
        }
        (school, alice, bilal, prompts, early, middle, late, unscheduled) = ids
    }
}

@Suite struct ReplicaQuerySessionTests {
    @Test func sessionsAreOrderedByDateAndFilteredByRangeStatusAndFacilitator() async throws {
        try await withQueryTestDirectory { directory in
            let f = try await QueryFixture(directory)
            let all = try f.replica.sessions(in: f.space)
            #expect(all.map(\.id) == [f.unscheduled, f.early, f.middle, f.late])

            let early = try #require(all.first { $0.id == f.early })
            #expect(
                early
                    == SessionSummary(
                        id: f.early, space: f.space, title: "Feedback that moves learning on", scheduledAt: march(3), hostSchool: f.school,
                        facilitator: f.alice, focus: "Written feedback", strategy: .dialogue, status: .held))
            #expect(all.first { $0.id == f.unscheduled }?.scheduledAt == nil)
            #expect(all.first { $0.id == f.middle }?.status == .planned)

            // Half-open ranges: from inclusive, to exclusive; unscheduled sessions left out.
            #expect(try f.replica.sessions(in: f.space, from: march(10)).map(\.id) == [f.middle, f.late])
            #expect(try f.replica.sessions(in: f.space, to: march(10)).map(\.id) == [f.early])
            #expect(try f.replica.sessions(in: f.space, from: march(3), to: march(17)).map(\.id) == [f.early, f.middle])
            #expect(try f.replica.sessions(in: f.space, from: march(18)).isEmpty)

            #expect(try f.replica.sessions(in: f.space, status: .held).map(\.id) == [f.early])
            #expect(try f.replica.sessions(in: f.space, status: .planned).map(\.id) == [f.unscheduled, f.middle, f.late])
            #expect(try f.replica.sessions(in: f.space, status: .closed).isEmpty)
            #expect(try f.replica.sessions(in: f.space, facilitator: f.alice).map(\.id) == [f.early, f.late])
            #expect(try f.replica.sessions(in: f.space, facilitator: f.bilal).map(\.id) == [f.middle])
            #expect(try f.replica.sessions(in: f.space, from: march(4), status: .planned, facilitator: f.alice).map(\.id) == [f.late])

            // A status change moves a session between filters.
            let middle = f.middle
            try await f.replica.edit(in: f.space) { editor in
                try editor.set(DialogueSession.Field.status, of: middle, to: FieldValue(SessionStatus.closed))
            }
            #expect(try f.replica.sessions(in: f.space, status: .closed).map(\.id) == [f.middle])

            // Another space's sessions never show; an unknown space has none.
            let other = SpaceID(UUID())
            try await f.replica.addSpace(other)
            _ = try await f.replica.edit(in: other) { editor in try editor.createSession(title: "Elsewhere", scheduledAt: march(3)) }
            #expect(try f.replica.sessions(in: f.space).count == 4)
            #expect(try f.replica.sessions(in: other).map(\.title) == ["Elsewhere"])
            #expect(try f.replica.sessions(in: SpaceID(UUID())).isEmpty)
        }
    }

    @Test func sessionsAtTheSameTimeAreOrderedByIdentifier() async throws {
        try await withQueryTestDirectory { directory in
            let replica = try Replica(path: directory.appendingPathComponent("r.sqlite").path)
            let space = SpaceID(UUID())
            try await replica.addSpace(space)
            let ids = try await replica.edit(in: space) { editor in
                try (0..<6).map { try editor.createSession(title: "Session \($0)", scheduledAt: march(5)) }
            }
            #expect(try replica.sessions(in: space).map(\.id) == ids.sorted())
        }
    }

    @Test func sessionQueriesUseTheIndexes() async throws {
        try await withQueryTestDirectory { directory in
            let f = try await QueryFixture(directory)
            let cases: [(from: Int64?, to: Int64?, status: SessionStatus?, facilitator: EntityID?)] = [
                (nil, nil, nil, nil), (march(1), nil, nil, nil), (nil, march(9), nil, nil), (nil, nil, .held, nil),
                (nil, nil, nil, f.alice),
            ]
            for filter in cases {
                var sql = "SELECT * FROM sessions s WHERE s.space_id = ? AND s.deleted = 0"
                var arguments: StatementArguments = [f.space.blob]
                if let from = filter.from {
                    sql += " AND s.scheduled_at >= ?"
                    arguments += [from]
                }
                if let to = filter.to {
                    sql += " AND s.scheduled_at < ?"
                    arguments += [to]
                }
                if let status = filter.status {
                    sql += " AND s.status = ?"
                    arguments += [status.rawValue]
                }
                if let facilitator = filter.facilitator {
                    sql += " AND s.facilitator = ?"
                    arguments += [facilitator.blob]
                }
                sql += " ORDER BY s.scheduled_at, s.session_id"
                let details = try await f.replica.database.read { [sql, arguments] db in
                    try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN " + sql, arguments: arguments).map { $0["detail"] as String }
                }
                #expect(
                    details.contains { $0.contains("USING INDEX sessions_by") || $0.contains("USING COVERING INDEX sessions_by") },
                    "\(details)")
                #expect(!details.contains { $0.hasPrefix("SCAN") }, "\(details)")
            }
        }
    }

    @Test func sessionRecordIsCompleteAndFollowsAgendaMoves() async throws {
        try await withQueryTestDirectory { directory in
            let f = try await QueryFixture(directory)
            let (session, alice, bilal, prompts) = (f.early, f.alice, f.bilal, f.prompts)
            try await certify(f.replica, as: bilal)  // an insight's author is the member its device is certified for
            let made = try await f.replica.edit(in: f.space) { editor in
                try editor.addParticipant(alice, to: session)
                try editor.addParticipant(bilal, to: session)
                for prompt in prompts { try editor.addToAgenda(prompt, of: session) }
                try editor.editText(DialogueSession.Field.summary, of: session, at: 0, insert: "We agreed to trial verbal feedback.")
                let answer = try editor.captureInsight(
                    in: session, text: "Pupils act on feedback given in the lesson", prompt: prompts[0], kind: .reflection, author: bilal,
                    hallmarks: [.organisationalLearning, .sharedResponsibility], influence: .indirect, evidenceSource: "book look")
                let loose = try editor.captureInsight(in: session, text: "Free-standing note")
                let direct = try editor.addAction("Share the feedback policy", owner: alice, dueDate: "2025-03-20", session: session)
                let viaInsight = try editor.addAction("Visit Year 4", owner: bilal, insight: answer)
                return (answer, loose, direct, viaInsight)
            }
            let (answer, loose, direct, viaInsight) = made
            var record = try #require(try f.replica.session(session))
            #expect(record.id == session)
            #expect(record.session.title == "Feedback that moves learning on")
            #expect(record.session.facilitator == alice)
            #expect(record.participants == [alice, bilal].sorted())
            #expect(record.agenda.map(\.promptID) == prompts)
            #expect(record.agenda.map(\.position) == [0, 1, 2])
            #expect(record.agenda[0].promptText == "How do we know pupils are learning?")
            #expect(record.summary == "We agreed to trial verbal feedback.")
            #expect(Set(record.insights.map(\.id)) == [answer, loose])
            #expect(record.insights.map(\.id) == record.insights.map(\.id).sorted())
            let insight = try #require(record.insights.first { $0.id == answer })
            #expect(
                insight
                    == InsightRecord(
                        id: answer, space: f.space, session: session, prompt: prompts[0], author: bilal, kind: .reflection,
                        evidenceSource: "book look", influence: .indirect,
                        hallmarks: [Hallmark.sharedResponsibility.rawValue, Hallmark.organisationalLearning.rawValue],
                        text: "Pupils act on feedback given in the lesson"))
            #expect(insight.knownHallmarks == [.sharedResponsibility, .organisationalLearning])
            // Actions naming the session, and those naming one of its insights; dated first.
            #expect(record.actions.map(\.id) == [direct, viaInsight])
            #expect(
                record.actions[0]
                    == ActionRecord(
                        id: direct, space: f.space, description: "Share the feedback policy", owner: alice, dueDate: "2025-03-20",
                        status: .open, insight: nil, session: session))
            #expect(record.actions[1].insight == answer)

            // Moves reorder the agenda; removing a participant shows.
            try await f.replica.edit(in: f.space) { editor in
                try editor.moveOnAgenda(from: 2, to: 0, of: session)
                try editor.removeParticipant(bilal, from: session)
            }
            record = try #require(try f.replica.session(session))
            #expect(record.agenda.map(\.promptID) == [prompts[2], prompts[0], prompts[1]])
            #expect(record.agenda.map(\.position) == [0, 1, 2])
            #expect(record.participants == [alice])
            try await f.replica.edit(in: f.space) { editor in
                try editor.moveOnAgenda(from: 0, to: 2, of: session)
                try editor.addToAgenda(prompts[1], of: session, at: 0)  // a prompt may come twice
            }
            record = try #require(try f.replica.session(session))
            #expect(record.agenda.map(\.promptID) == [prompts[1], prompts[0], prompts[1], prompts[2]])

            // The record round-trips through JSON.
            let json = try JSONEncoder().encode(record)
            #expect(try JSONDecoder().decode(SessionRecord.self, from: json) == record)

            // Unknown identifiers and other kinds have no record.
            #expect(try f.replica.session(EntityID(UUID())) == nil)
            #expect(try f.replica.session(alice) == nil)
        }
    }
}

@Suite struct ReplicaQueryInsightAndActionTests {
    @Test func insightsByHallmarkAndByPrompt() async throws {
        try await withQueryTestDirectory { directory in
            let f = try await QueryFixture(directory)
            let (early, late, prompts) = (f.early, f.late, f.prompts)
            let ids = try await f.replica.edit(in: f.space) { editor in
                let a = try editor.captureInsight(in: late, text: "Late synergy", prompt: prompts[0], hallmarks: [.synergy])
                let b = try editor.captureInsight(
                    in: early, text: "Early synergy", prompt: prompts[0], hallmarks: [.synergy, .leadershipCapacity])
                let c = try editor.captureInsight(in: early, text: "Capacity only", prompt: prompts[1], hallmarks: [.leadershipCapacity])
                return (a, b, c)
            }
            let (a, b, c) = ids
            // By the session's date: the early session's insight first.
            #expect(try f.replica.insights(in: f.space, hallmark: .synergy).map(\.id) == [b, a])
            #expect(Set(try f.replica.insights(in: f.space, hallmark: .leadershipCapacity).map(\.id)) == [b, c])
            #expect(try f.replica.insights(in: f.space, hallmark: .macroCommunityEngagement).isEmpty)
            #expect(try f.replica.insights(in: SpaceID(UUID()), hallmark: .synergy).isEmpty)
            #expect(try f.replica.insights(answering: prompts[0]).map(\.id) == [b, a])
            #expect(try f.replica.insights(answering: prompts[1]).map(\.id) == [c])
            #expect(try f.replica.insights(answering: prompts[2]).isEmpty)
            #expect(try f.replica.insights(answering: prompts[0]).first?.hallmarks == ["synergy", "leadership-capacity"])

            // Untagging and re-answering move insights between results.
            try await f.replica.edit(in: f.space) { editor in
                try editor.untag(b, hallmark: .synergy)
                try editor.tag(c, with: .synergy)
                try editor.set(Insight.Field.prompt, of: a, to: .reference(prompts[2]))
            }
            #expect(try f.replica.insights(in: f.space, hallmark: .synergy).map(\.id).sorted() == [a, c].sorted())
            #expect(try f.replica.insights(answering: prompts[0]).map(\.id) == [b])
            #expect(try f.replica.insights(answering: prompts[2]).map(\.id) == [a])
        }
    }

    @Test func openAndOverdueActions() async throws {
        try await withQueryTestDirectory { directory in
            let f = try await QueryFixture(directory)
            let (alice, bilal, early) = (f.alice, f.bilal, f.early)
            let ids = try await f.replica.edit(in: f.space) { editor in
                let overdue = try editor.addAction("Send the survey", owner: alice, dueDate: "2025-02-28", session: early)
                let dueToday = try editor.addAction("Book the hall", owner: alice, dueDate: "2025-03-01")
                let later = try editor.addAction("Plan the visit", owner: bilal, dueDate: "2025-04-01")
                let undated = try editor.addAction("Read the chapter", owner: bilal)
                let older = try editor.addAction("Collect books", owner: bilal, dueDate: "2025-01-15")
                return (overdue, dueToday, later, undated, older)
            }
            let (overdue, dueToday, later, undated, older) = ids
            #expect(try f.replica.openActions().map(\.id) == [older, overdue, dueToday, later, undated])
            #expect(try f.replica.openActions(owner: alice).map(\.id) == [overdue, dueToday])
            #expect(try f.replica.openActions(owner: bilal, in: f.space).map(\.id) == [older, later, undated])
            #expect(try f.replica.openActions(in: SpaceID(UUID())).isEmpty)
            #expect(try f.replica.overdueActions(asOf: "2025-03-01").map(\.id) == [older, overdue])
            #expect(try f.replica.overdueActions(asOf: "2025-03-01", owner: alice).map(\.id) == [overdue])
            #expect(try f.replica.overdueActions(asOf: "2025-03-02", owner: alice, in: f.space).map(\.id) == [overdue, dueToday])
            #expect(try f.replica.overdueActions(asOf: "2025-01-01").isEmpty)
            #expect(try f.replica.overdueActions(asOf: "2025-03-01").map(\.session) == [nil, early])

            // Done and cancelled actions are no longer open, nor overdue.
            try await f.replica.edit(in: f.space) { editor in
                try editor.complete(overdue)
                try editor.set(Action.Field.status, of: older, to: FieldValue(ActionStatus.cancelled))
                try editor.reassign(later, to: alice)
            }
            #expect(try f.replica.openActions().map(\.id) == [dueToday, later, undated])
            #expect(try f.replica.openActions(owner: alice).map(\.id) == [dueToday, later])
            #expect(try f.replica.overdueActions(asOf: "2025-03-01").isEmpty)

            for bad in ["", "2025-3-1", "2025-02-30", "tomorrow", "2025-03-01T00:00"] {
                #expect(throws: ReplicaError.self) { try f.replica.overdueActions(asOf: bad) }
            }
            do {
                _ = try f.replica.overdueActions(asOf: "01/03/2025")
                Issue.record("a malformed date was accepted")
            } catch {
                guard (error as? ReplicaError)?.code == .invalidValue else {
                    Issue.record("expected invalidValue, got \(error)")
                    return
                }
            }
        }
    }
}

@Suite struct ReplicaQuerySearchTests {
    @Test func findsWordsInSummariesAndInsightsIgnoringDiacritics() async throws {
        try await withQueryTestDirectory { directory in
            let f = try await QueryFixture(directory)
            let (early, middle) = (f.early, f.middle)
            let insight = try await f.replica.edit(in: f.space) { editor in
                try editor.editText(DialogueSession.Field.summary, of: early, at: 0, insert: "Colleagues compared marking rubrics.")
                try editor.editText(
                    DialogueSession.Field.summary, of: middle, at: 0, insert: "Persistent absence fell after the assessment week.")
                return try editor.captureInsight(in: middle, text: "Chaque élève a progressé; l'équipe partage la pratique.")
            }
            // A word typed into a summary.
            let rubrics = try f.replica.search("rubrics")
            #expect(rubrics.map(\.id) == [early])
            #expect(rubrics.first?.kind == .session)
            #expect(rubrics.first?.space == f.space)
            #expect(rubrics.first?.title == "Feedback that moves learning on")
            #expect(rubrics.first?.snippet.contains("**rubrics**") == true)
            // A word typed into an insight, and diacritics-insensitively.
            for query in ["élève", "eleve", "ELEVE", "equipe", "progresse"] {
                let hits = try f.replica.search(query)
                #expect(hits.map(\.id) == [insight], "\(query)")
                #expect(hits.first?.kind == .insight)
                #expect(hits.first?.title == "Attendance data review", "an insight's hit carries its session's title")
            }
            // Every word must occur; words match as prefixes.
            #expect(try f.replica.search("absence assessment").map(\.id) == [middle])
            #expect(try f.replica.search("absence rubrics").isEmpty)
            #expect(try f.replica.search("assess").map(\.id) == [middle])
            // Space filter and limit.
            #expect(try f.replica.search("rubrics", in: f.space).map(\.id) == [early])
            #expect(try f.replica.search("rubrics", in: SpaceID(UUID())).isEmpty)
            #expect(try f.replica.search("the", limit: 1).count == 1)
            #expect(try f.replica.search("the", limit: 0).isEmpty)
            // Later edits are indexed.
            try await f.replica.edit(in: f.space) { editor in
                try editor.replaceText(DialogueSession.Field.summary, of: early, with: "Colleagues compared marking schemes.")
            }
            #expect(try f.replica.search("rubrics").isEmpty)
            #expect(try f.replica.search("schemes").map(\.id) == [early])
        }
    }

    @Test func punctuationHeavyQueriesNeverThrow() async throws {
        try await withQueryTestDirectory { directory in
            let f = try await QueryFixture(directory)
            let early = f.early
            try await f.replica.edit(in: f.space) { editor in
                try editor.editText(
                    DialogueSession.Field.summary, of: early, at: 0, insert: "Don't stop: pupils' \"voice\" (Year 6) matters.")
            }
            let queries = [
                "", "   ", "\"", "\"\"", "'", "*", "-", "^", ":", "(", ")", "()", "NEAR(", "NEAR(a b, 2)", "AND", "OR NOT",
                "title:voice", "body : pupils", "{title body}: voice", "voice*", "*voice", "+voice", "-voice", "\"voice", "voice\"",
                "a\"b\"c", "Year 6)", "(Year", "don't", "pupils'", "🙂", "\0", "voice\0stop", "\u{301}", "…", "∑∆", "%_", "\\",
                "SELECT * FROM sessions; --", "'); DROP TABLE sessions; --", String(repeating: "(\"", count: 200),
            ]
            for query in queries {
                #expect(throws: Never.self, "\(query)") { _ = try f.replica.search(query) }
            }
            #expect(try f.replica.search("").isEmpty)
            #expect(try f.replica.search("  \n\t ").isEmpty)
            #expect(try f.replica.search("*** ---").isEmpty)
            // Punctuation is matched literally around words.
            #expect(try f.replica.search("\"voice\"").map(\.id) == [early])
            #expect(try f.replica.search("(Year 6)").map(\.id) == [early])
            #expect(try f.replica.search("don't").map(\.id) == [early])
            #expect(try f.replica.search("voice AND NOT matters").isEmpty, "AND and NOT are words, not operators")
            #expect(try f.replica.search("title:voice").isEmpty, "no column filter: 'title' is a word that does not occur")
            #expect(try f.replica.sessions(in: f.space).count == 4)
        }
    }

    @Test func matchExpressionQuotesEveryTerm() {
        #expect(ReplicaQueries.matchExpression(for: "") == nil)
        #expect(ReplicaQueries.matchExpression(for: " ,; ") == nil)
        #expect(ReplicaQueries.matchExpression(for: "eleve") == "\"eleve\"*")
        #expect(ReplicaQueries.matchExpression(for: " a\"b  NEAR( ") == "\"a\"\"b\"* \"NEAR(\"*")
    }
}

@Suite struct ReplicaQueryDeletionTests {
    @Test func deletedEntitiesDisappearFromEveryQuery() async throws {
        try await withQueryTestDirectory { directory in
            let f = try await QueryFixture(directory)
            let (early, middle, alice, bilal, prompts) = (f.early, f.middle, f.alice, f.bilal, f.prompts)
            let ids = try await f.replica.edit(in: f.space) { editor in
                try editor.addParticipant(alice, to: middle)
                try editor.addParticipant(bilal, to: middle)
                for prompt in prompts { try editor.addToAgenda(prompt, of: middle) }
                try editor.editText(DialogueSession.Field.summary, of: early, at: 0, insert: "zebra crossing")
                let inEarly = try editor.captureInsight(in: early, text: "zebra insight early", prompt: prompts[0], hallmarks: [.synergy])
                let inMiddle = try editor.captureInsight(
                    in: middle, text: "zebra insight middle", prompt: prompts[0], hallmarks: [.synergy])
                let actionEarly = try editor.addAction("Early follow-up", owner: alice, dueDate: "2025-01-01", session: early)
                let actionMiddle = try editor.addAction("Middle follow-up", owner: alice, dueDate: "2025-01-02", session: middle)
                let loneAction = try editor.addAction("Lone follow-up", owner: alice, dueDate: "2025-01-03")
                return (inEarly, inMiddle, actionEarly, actionMiddle, loneAction)
            }
            let (inEarly, inMiddle, actionEarly, actionMiddle, loneAction) = ids
            #expect(Set(try f.replica.search("zebra").map(\.id)) == [early, inEarly, inMiddle])

            // Deleting a session hides it and what was captured in it.
            try await f.replica.edit(in: f.space) { editor in try editor.delete(early) }
            #expect(try !f.replica.sessions(in: f.space).map(\.id).contains(early))
            #expect(try f.replica.sessions(in: f.space, facilitator: alice).map(\.id) == [f.late])
            #expect(try f.replica.sessions(in: f.space, status: .held).isEmpty)
            #expect(try f.replica.session(early) == nil)
            #expect(try f.replica.search("zebra").map(\.id) == [inMiddle])
            #expect(try f.replica.search("crossing").isEmpty)
            #expect(try f.replica.insights(in: f.space, hallmark: .synergy).map(\.id) == [inMiddle])
            #expect(try f.replica.insights(answering: prompts[0]).map(\.id) == [inMiddle])
            #expect(try f.replica.openActions().map(\.id) == [actionMiddle, loneAction])
            #expect(try f.replica.overdueActions(asOf: "2025-06-01").map(\.id) == [actionMiddle, loneAction])

            // Deleting an insight, an action, a member and a prompt.
            try await f.replica.edit(in: f.space) { editor in
                try editor.delete(inMiddle)
                try editor.delete(loneAction)
                try editor.delete(bilal)
                try editor.delete(prompts[1])
            }
            #expect(try f.replica.search("zebra").isEmpty)
            #expect(try f.replica.insights(in: f.space, hallmark: .synergy).isEmpty)
            #expect(try f.replica.insights(answering: prompts[0]).isEmpty)
            #expect(try f.replica.openActions().map(\.id) == [actionMiddle])
            #expect(try f.replica.overdueActions(asOf: "2025-06-01").map(\.id) == [actionMiddle])
            let record = try #require(try f.replica.session(middle))
            #expect(record.insights.isEmpty)
            #expect(record.actions.map(\.id) == [actionMiddle])
            #expect(record.participants == [alice])
            // The deleted prompt leaves the agenda; the others keep their list positions.
            #expect(record.agenda.map(\.promptID) == [prompts[0], prompts[2]])
            #expect(record.agenda.map(\.position) == [0, 2])
            _ = actionEarly

            // Deleting the last session of a filter empties it.
            try await f.replica.edit(in: f.space) { editor in try editor.delete(middle) }
            #expect(try f.replica.sessions(in: f.space).map(\.id) == [f.unscheduled, f.late])
            #expect(try f.replica.openActions().isEmpty)
        }
    }
}

@Suite struct ReplicaQueryConflictTests {
    @Test func concurrentTitlesAreListedAlikeOnBothReplicas() async throws {
        try await withQueryTestDirectory { directory in
            // Bea's clock is a second ahead, so her title wins on both replicas.
            let start: UInt64 = 1_740_819_600_000
            let ana = try Replica(path: directory.appendingPathComponent("ana.sqlite").path, wallClock: QueryTestClock(milliseconds: start))
            let bea = try Replica(
                path: directory.appendingPathComponent("bea.sqlite").path, wallClock: QueryTestClock(milliseconds: start + 1000))
            let space = SpaceID(UUID())
            try await ana.addSpace(space)
            let session = try await ana.edit(in: space) { editor in
                try editor.createSession(title: "Draft title", scheduledAt: march(3))
            }
            try await sync(space, from: ana, to: bea)
            #expect(try bea.sessions(in: space).map(\.title) == ["Draft title"])
            #expect(try ana.conflicts().isEmpty)

            // Offline, both retitle the session.
            try await ana.edit(in: space) { editor in
                try editor.set(DialogueSession.Field.title, of: session, to: .string("Ana's title"))
            }
            try await bea.edit(in: space) { editor in
                try editor.set(DialogueSession.Field.title, of: session, to: .string("Bea's title"))
            }
            #expect(try ana.conflicts().isEmpty)
            try await sync(space, from: ana, to: bea)
            try await sync(space, from: bea, to: ana)

            let onAna = try ana.conflicts()
            let onBea = try bea.conflicts()
            #expect(onAna == onBea)
            let conflict = try #require(onAna.first)
            #expect(onAna.count == 1)
            #expect(conflict.entity == session)
            #expect(conflict.entityKind == .session)
            #expect(conflict.space == space)
            #expect(conflict.field == DialogueSession.Field.title)
            #expect(conflict.winner.value == .string("Bea's title"))
            #expect(conflict.winner.replica == bea.id)
            #expect(conflict.winner.timestamp.wallTime == start + 1000)
            #expect(conflict.losers.map(\.value) == [.string("Ana's title")])
            #expect(conflict.losers.map(\.replica) == [ana.id])
            #expect(conflict.losers[0].timestamp.wallTime == start)
            #expect(conflict.winner.counter > 0 && conflict.losers[0].counter > 0)
            // The shown title is the winner's.
            #expect(try ana.sessions(in: space).map(\.title) == ["Bea's title"])
            #expect(try bea.session(session)?.session.title == "Bea's title")
            // Filters.
            #expect(try ana.conflicts(in: space) == onAna)
            #expect(try ana.conflicts(entity: session) == onAna)
            #expect(try ana.conflicts(in: SpaceID(UUID())).isEmpty)
            #expect(try ana.conflicts(entity: EntityID(UUID())).isEmpty)
            // JSON round trip.
            #expect(try JSONDecoder().decode([ConflictRecord].self, from: JSONEncoder().encode(onAna)) == onAna)

            // A write that has seen both resolves the conflict everywhere.
            try await ana.edit(in: space) { editor in
                try editor.set(DialogueSession.Field.title, of: session, to: .string("Agreed title"))
            }
            try await sync(space, from: ana, to: bea)
            #expect(try ana.conflicts().isEmpty)
            #expect(try bea.conflicts().isEmpty)
            #expect(try bea.sessions(in: space).map(\.title) == ["Agreed title"])
        }
    }

    @Test func conflictsOfDeletedEntitiesAreNotListed() async throws {
        try await withQueryTestDirectory { directory in
            let start: UInt64 = 1_740_819_600_000
            let ana = try Replica(path: directory.appendingPathComponent("ana.sqlite").path, wallClock: QueryTestClock(milliseconds: start))
            let bea = try Replica(
                path: directory.appendingPathComponent("bea.sqlite").path, wallClock: QueryTestClock(milliseconds: start + 1000))
            let space = SpaceID(UUID())
            try await ana.addSpace(space)
            let action = try await ana.edit(in: space) { editor in try editor.addAction("Tidy the library", dueDate: "2025-03-10") }
            try await sync(space, from: ana, to: bea)
            try await ana.edit(in: space) { editor in try editor.set(Action.Field.dueDate, of: action, to: .string("2025-03-11")) }
            try await bea.edit(in: space) { editor in try editor.set(Action.Field.dueDate, of: action, to: .string("2025-03-12")) }
            try await sync(space, from: bea, to: ana)
            let conflicts = try ana.conflicts(entity: action)
            #expect(conflicts.map(\.field) == [Action.Field.dueDate])
            #expect(conflicts.first?.entityKind == .action)
            #expect(conflicts.first?.winner.value == .string("2025-03-12"))
            #expect(try ana.openActions().first?.dueDate == "2025-03-12")
            try await ana.edit(in: space) { editor in try editor.delete(action) }
            #expect(try ana.conflicts().isEmpty)
        }
    }
}

@Suite struct ReplicaQueryConcurrentDeletionTests {
    /// An edit the deleter had not seen overrules the deletion (the model's rule): every
    /// replica must show the session again, whichever order the changes arrive in.
    @Test func anEditConcurrentWithADeletionKeepsTheEntityOnEveryReplica() async throws {
        try await withQueryTestDirectory { directory in
            let start: UInt64 = 1_740_819_600_000
            let ana = try Replica(path: directory.appendingPathComponent("ana.sqlite").path, wallClock: QueryTestClock(milliseconds: start))
            let bea = try Replica(
                path: directory.appendingPathComponent("bea.sqlite").path, wallClock: QueryTestClock(milliseconds: start + 1000))
            let space = SpaceID(UUID())
            try await ana.addSpace(space)
            let session = try await ana.edit(in: space) { editor in
                let session = try editor.createSession(title: "Kept", scheduledAt: march(3))
                try editor.editText(DialogueSession.Field.summary, of: session, at: 0, insert: "walrus notes")
                return session
            }
            try await sync(space, from: ana, to: bea)
            try await ana.edit(in: space) { editor in try editor.delete(session) }
            try await bea.edit(in: space) { editor in
                try editor.set(DialogueSession.Field.title, of: session, to: .string("Kept and renamed"))
            }
            try await sync(space, from: ana, to: bea)
            try await sync(space, from: bea, to: ana)
            #expect(await ana.document(space)?.isDeleted(session) == false, "the model keeps the session")
            #expect(await bea.document(space)?.isDeleted(session) == false)
            func check(_ replica: Replica) throws {
                #expect(try replica.sessions(in: space).map(\.title) == ["Kept and renamed"])
                #expect(try replica.session(session) != nil)
                #expect(try replica.search("walrus").map(\.id) == [session])
            }
            try check(bea)  // received the deletion: a lifecycle change, so the row was rewritten whole
            // The deleter receives only a title change, which must still bring the row back.
            try check(ana)
        }
    }
}

@Suite struct ReplicaQueryObservationTests {
    @Test func observeSessionsYieldsAfterAnEdit() async throws {
        try await withQueryTestDirectory { directory in
            let f = try await QueryFixture(directory)
            let (replica, space) = (f.replica, f.space)
            let observation = replica.observeSessions(in: space)
            let (first, second) = try await withQueryTestTimeout(seconds: observationTimeout) {
                var values = observation.makeAsyncIterator()
                let first = try await values.next()
                _ = try await replica.edit(in: space) { editor in
                    try editor.createSession(title: "Observed session", scheduledAt: march(31))
                }
                let second = try await values.next()
                return (first, second)
            }
            #expect(first?.count == 4)
            #expect(second?.count == 5)
            #expect(second?.last?.title == "Observed session")
        }
    }

    @Test func observeAnyQueryAndASessionRecord() async throws {
        try await withQueryTestDirectory { directory in
            let f = try await QueryFixture(directory)
            let (replica, space, alice, early) = (f.replica, f.space, f.alice, f.early)
            let action = try await replica.edit(in: space) { editor in try editor.addAction("Observe me", owner: alice) }
            let actions = replica.observe { db in try ReplicaQueries.openActions(db, owner: alice) }
            let record = replica.observeSession(early)
            let (before, after, recordBefore, recordAfter) = try await withQueryTestTimeout(seconds: observationTimeout) {
                var actionValues = actions.makeAsyncIterator()
                var recordValues = record.makeAsyncIterator()
                let before = try await actionValues.next()
                let recordBefore = try await recordValues.next()
                try await replica.edit(in: space) { editor in
                    try editor.complete(action)
                    try editor.editText(DialogueSession.Field.summary, of: early, at: 0, insert: "Observed summary")
                }
                // `observe` does not remove duplicates: skip values until the change shows.
                var after = try await actionValues.next()
                while after?.isEmpty == false { after = try await actionValues.next() }
                let recordAfter = try await recordValues.next()
                return (before, after, recordBefore, recordAfter)
            }
            #expect(before?.map(\.id) == [action])
            #expect(after?.isEmpty == true)
            #expect(recordBefore??.summary == "")
            #expect(recordAfter??.summary == "Observed summary")
        }
    }

    /// The materialised tables are `WITHOUT ROWID`, whose changes SQLite's update hook does
    /// not report: the writer calls `Database.notifyChanges(in:)`, so a plain
    /// `ValueObservation` of them sees every write.
    @Test func plainObservationOfMaterialisedTablesSeesWrites() async throws {
        try await withQueryTestDirectory { directory in
            let f = try await QueryFixture(directory)
            let (replica, space) = (f.replica, f.space)
            let observation = ValueObservation.tracking { db in try ReplicaQueries.sessions(db, in: space) }.values(in: replica.reader)
            do {
                let second = try await withQueryTestTimeout(seconds: observationTimeout) {
                    var values = observation.makeAsyncIterator()
                    _ = try await values.next()
                    _ = try await replica.edit(in: space) { editor in try editor.createSession(title: "Unseen") }
                    // A pool may notify the same value twice: wait for the one with the new session.
                    var next = try await values.next()
                    while let value = next, value.count < 5 { next = try await values.next() }
                    return next
                }
                #expect(second?.count == 5)
            }
        }
    }
}
