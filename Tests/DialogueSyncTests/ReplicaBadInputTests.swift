import DialogueModel
import DialogueTestSupport
import Foundation
import GRDB
import Testing

@testable import DialogueSync

/// Every refusal of the replica API and of bundle import: the right ``ReplicaError``, a
/// description a person can act on, and nothing changed (pure state, stored vectors,
/// change log, waiting changes, materialised rows, clock).
@Suite("Replica bad input")
struct ReplicaBadInputTests {
    static let start: UInt64 = 1_780_000_000_000
    static let aliceID = ReplicaID(rawValue: 0xA11CE)!
    static let bobID = ReplicaID(rawValue: 0xB0B)!
    static let carolID = ReplicaID(rawValue: 0xCA201)!

    /// A replica holding one space with a session (title, summary, one agenda item, one
    /// participant), an insight, an action and a deleted session.
    struct Fixture {
        let directory = TemporaryDirectory()
        let clock = ManualWallClock(ReplicaBadInputTests.start)
        /// The server Alice and Bob log in to (their directories list the fixture's space).
        let trust = BundleTrust()
        let space = SpaceID(UUID(uuidString: "5ace0000-0000-4000-8000-00000000bad1")!)
        var replica: Replica!
        var session: EntityID!
        var insight: EntityID!
        var action: EntityID!
        var prompt: EntityID!
        var member: EntityID!
        var deletedSession: EntityID!

        static func make() async throws -> Fixture {
            var f = Fixture()
            let path = f.directory.path("alice.sqlite")
            try createReplicaFile(at: path, id: ReplicaBadInputTests.aliceID)
            let ids = SeededEntityIDs(seed: 42)
            f.replica = try Replica(path: path, wallClock: f.clock, entityIDs: { ids.next() })
            try await f.trust.login(f.replica, shared: [f.space])
            try await f.replica.addSpace(f.space)
            let made = try await f.replica.edit(in: f.space) { editor in
                let session = try editor.createSession(title: "Feedback that moves learning on")
                try editor.editText(DialogueSession.Field.summary, of: session, at: 0, insert: "We looked at marking.")
                let prompt = try editor.createPrompt("What is your role?")
                try editor.addToAgenda(prompt, of: session)
                let member = try editor.createMember("Ada", role: .teacher)
                try editor.addParticipant(member, to: session)
                let insight = try editor.captureInsight(in: session, text: "Pupils act on feedback", hallmarks: [.synergy])
                let action = try editor.addAction("Share the marking policy", owner: member, dueDate: "2026-03-01", session: session)
                let deleted = try editor.createSession(title: "Cancelled visit")
                try editor.delete(deleted)
                return [session, insight, action, prompt, member, deleted]
            }
            (f.session, f.insight, f.action, f.prompt, f.member, f.deletedSession) = (made[0], made[1], made[2], made[3], made[4], made[5])
            f.clock.advance(by: 1_000)
            return f
        }

        /// Everything the replica has stored for the space, in causal order.
        func log() throws -> [Change] {
            try replica.changes(in: space, missingFrom: VersionVector(), limit: 100_000).changes
        }

        /// A pure document holding what the replica holds, for crafting remote changes.
        func remoteCopy() throws -> SpaceDocument {
            var document = SpaceDocument(space: space)
            try document.apply(log())
            return document
        }

        func context(_ replica: ReplicaID, at wallTime: UInt64? = nil) -> EditContext {
            EditContext(replica: replica, timestamp: HLCTimestamp(wallTime: wallTime ?? clock.millisecondsSinceEpoch()))
        }
    }

    struct Halfway: Error {}

    // MARK: Checking a refusal

    /// Runs `body`, which must throw a ``ReplicaError`` that `matches`, whose description
    /// reads as a sentence and mentions each of `mentions`; then checks nothing changed.
    @discardableResult
    func expectRefusal(
        _ replica: Replica, _ what: String, mentions: [String] = [], sourceLocation: SourceLocation = #_sourceLocation,
        matching matches: (ReplicaError) -> Bool, _ body: () async throws -> Void
    ) async throws -> ReplicaError? {
        let before = try await ReplicaSnapshot(replica)
        var caught: ReplicaError?
        do {
            try await body()
            Issue.record("\(what): was accepted, expected a refusal", sourceLocation: sourceLocation)
        } catch let error as ReplicaError {
            caught = error
        } catch {
            Issue.record("\(what): threw \(error) (\(type(of: error))), expected a ReplicaError", sourceLocation: sourceLocation)
        }
        if let error = caught {
            #expect(matches(error), "\(what): unexpected error \(error)", sourceLocation: sourceLocation)
            expectHelpful(error, what, mentions: mentions, sourceLocation: sourceLocation)
        }
        let after = try await ReplicaSnapshot(replica)
        #expect(after == before, "\(what): the refusal changed the replica", sourceLocation: sourceLocation)
        return caught
    }

    func expectHelpful(_ error: ReplicaError, _ what: String, mentions: [String], sourceLocation: SourceLocation = #_sourceLocation) {
        let text = error.description
        #expect(text.count >= 20, "\(what): description too short: \(text)", sourceLocation: sourceLocation)
        #expect(text.contains(" "), "\(what): description is not a sentence: \(text)", sourceLocation: sourceLocation)
        #expect(!text.contains("Optional("), "\(what): description leaks an optional: \(text)", sourceLocation: sourceLocation)
        for word in mentions {
            #expect(text.contains(word), "\(what): description '\(text)' does not mention '\(word)'", sourceLocation: sourceLocation)
        }
    }

    // MARK: Unknown space, entity, kind, field

    @Test("editing or exporting a space the replica does not hold")
    func unknownSpace() async throws {
        let f = try await Fixture.make()
        let elsewhere = SpaceID(UUID(uuidString: "5ace0000-0000-4000-8000-0000000e15e0")!)
        try await expectRefusal(
            f.replica, "edit in unknown space", mentions: [elsewhere.description, "holds no space"],
            matching: { $0 == .unknownSpace(elsewhere) }
        ) {
            _ = try await f.replica.edit(in: elsewhere) { editor in try editor.createSession(title: "Lost") }
        }
        let url = f.directory.url.appendingPathComponent("elsewhere.dlgb")
        try await expectRefusal(
            f.replica, "export of unknown space", mentions: [elsewhere.description], matching: { $0 == .unknownSpace(elsewhere) }
        ) {
            try f.replica.exportBundle(to: url, spaces: [f.space, elsewhere])
        }
        #expect(!FileManager.default.fileExists(atPath: url.path), "a refused export left a file")
    }

    @Test("operations on an entity that does not exist, or is deleted")
    func entityNotFound() async throws {
        let f = try await Fixture.make()
        let missing = EntityID(UUID(uuidString: "00000000-0000-4000-8000-00000000dead")!)
        let (space, deleted) = (f.space, f.deletedSession!)
        let operations: [(String, EntityID, @Sendable (inout SpaceEditor) throws -> Void)] = [
            ("set title of a missing entity", missing, { try $0.set(DialogueSession.Field.title, of: missing, to: .string("x")) }),
            ("add participant to a missing session", missing, { try $0.addParticipant(missing, to: missing) }),
            ("edit text of a missing insight", missing, { try $0.editText(Insight.Field.text, of: missing, at: 0, insert: "x") }),
            ("complete a missing action", missing, { try $0.complete(missing) }),
            ("delete a missing entity", missing, { try $0.delete(missing) }),
            ("capture an insight in a missing session", missing, { _ = try $0.captureInsight(in: missing, text: "x") }),
            ("retitle a deleted session", deleted, { try $0.set(DialogueSession.Field.title, of: deleted, to: .string("Back")) }),
            ("add to the agenda of a deleted session", deleted, { try $0.addToAgenda(missing, of: deleted) }),
            ("delete a deleted session", deleted, { try $0.delete(deleted) }),
        ]
        for (what, id, operation) in operations {
            try await expectRefusal(f.replica, what, mentions: [id.description], matching: { $0 == .entityNotFound(id) }) {
                try await f.replica.edit(in: space) { editor in try operation(&editor) }
            }
        }
    }

    @Test("typed operations on an entity of another kind")
    func wrongKind() async throws {
        let f = try await Fixture.make()
        let (space, session, insight, action, member) = (f.space, f.session!, f.insight!, f.action!, f.member!)
        let operations: [(String, EntityID, EntityKind, String, @Sendable (inout SpaceEditor) throws -> Void)] = [
            ("tag a session with a hallmark", session, .insight, "session", { try $0.tag(session, with: .synergy) }),
            ("untag a session", session, .insight, "session", { try $0.untag(session, hallmark: .synergy) }),
            ("complete an insight", insight, .action, "insight", { try $0.complete(insight) }),
            ("reassign a session", session, .action, "session", { try $0.reassign(session, to: member) }),
            ("add a participant to an action", action, .session, "action", { try $0.addParticipant(member, to: action) }),
            ("capture an insight in a member", member, .session, "member", { _ = try $0.captureInsight(in: member, text: "x") }),
            ("put a prompt on an insight's agenda", insight, .session, "insight", { try $0.addToAgenda(member, of: insight) }),
        ]
        for (what, id, expected, found, operation) in operations {
            try await expectRefusal(
                f.replica, what, mentions: [id.description, found, expected.rawValue],
                matching: { $0 == .wrongKind(id, expected: expected, found: found) }
            ) {
                try await f.replica.edit(in: space) { editor in try operation(&editor) }
            }
        }
    }

    @Test("an entity of a kind this version does not know is refused by name")
    func unknownKind() async throws {
        let f = try await Fixture.make()
        // A newer Dialogue created a "widget": stored and forwarded, not editable here.
        var remote = try f.remoteCopy()
        let widget = EntityID(UUID(uuidString: "00000000-0000-4000-8000-0000000e1d9e")!)
        try await f.replica.merge([remote.create(widget, kind: "widget", by: f.context(Self.bobID))])
        let space = f.space
        try await expectRefusal(
            f.replica, "set a field of a widget", mentions: [widget.description, "widget"],
            matching: { $0.code == .wrongKind && $0.entity == widget && $0.message.contains("is a widget") }
        ) {
            try await f.replica.edit(in: space) { editor in try editor.set("name", of: widget, to: .string("x")) }
        }
    }

    @Test("unknown fields and fields of the wrong type")
    func invalidField() async throws {
        let f = try await Fixture.make()
        let (space, session, insight) = (f.space, f.session!, f.insight!)
        let operations: [(String, EntityKind, String, [String], @Sendable (inout SpaceEditor) throws -> Void)] = [
            (
                "set an unknown field", .session, "colour", ["no such field", "title"],
                { try $0.set("colour", of: session, to: .string("red")) }
            ),
            (
                "edit text of an unknown field", .insight, "body", ["no such field"],
                { try $0.editText("body", of: insight, at: 0, insert: "x") }
            ),
            (
                "set a text field", .session, "summary", ["text", "register"],
                { try $0.set(DialogueSession.Field.summary, of: session, to: .string("x")) }
            ),
            (
                "edit a register as text", .session, "title", ["register", "text"],
                { try $0.editText(DialogueSession.Field.title, of: session, at: 0, insert: "x") }
            ),
            (
                "add to a register", .session, "title", ["register", "set"],
                { try $0.add(.string("x"), to: DialogueSession.Field.title, of: session) }
            ),
            (
                "insert into a set as a list", .session, "participants", ["set", "list"],
                { try $0.insertItem(.reference(session), into: DialogueSession.Field.participants, of: session) }
            ),
            (
                "remove from a list as a set", .session, "agenda", ["list", "set"],
                { try $0.remove(.reference(session), from: DialogueSession.Field.agenda, of: session) }
            ),
            (
                "move in a text field", .insight, "text", ["text", "list"],
                { try $0.moveItem(in: Insight.Field.text, of: insight, from: 0, to: 0) }
            ),
        ]
        for (what, kind, field, words, operation) in operations {
            try await expectRefusal(
                f.replica, what, mentions: [field] + words,
                matching: { $0.code == .invalidField && $0.message.hasPrefix("\(kind.rawValue) field '\(field)'") }
            ) {
                try await f.replica.edit(in: space) { editor in try operation(&editor) }
            }
        }
    }

    // MARK: Invalid values and positions

    @Test("values a field cannot accept")
    func invalidValues() async throws {
        let f = try await Fixture.make()
        let (space, session, insight, action) = (f.space, f.session!, f.insight!, f.action!)
        let operations: [(String, [String], @Sendable (inout SpaceEditor) throws -> Void)] = [
            ("create a session with an empty title", ["the session's title", "empty"], { _ = try $0.createSession(title: "") }),
            (
                "retitle with blanks", ["the session's title", "empty"],
                { try $0.set(DialogueSession.Field.title, of: session, to: .string("  \n")) }
            ),
            ("clear the title", ["the session's title", "cleared"], { try $0.set(DialogueSession.Field.title, of: session, to: .null) }),
            (
                "a status that is not a term", ["the session's status", "planned", "cancelled"],
                { try $0.set(DialogueSession.Field.status, of: session, to: .string("cancelled")) }
            ),
            (
                "a strategy that is not a term", ["the session's strategy", "dialogue"],
                { try $0.set(DialogueSession.Field.strategy, of: session, to: .string("Dialogue")) }
            ),
            (
                "a due date that does not exist", ["the action's due date", "2026-02-30", "YYYY-MM-DD"],
                { _ = try $0.addAction("Visit", dueDate: "2026-02-30") }
            ),
            (
                "a due date in another format", ["the action's due date", "1/3/2026"],
                { try $0.set(Action.Field.dueDate, of: action, to: .string("1/3/2026")) }
            ),
            ("an action with an empty description", ["the action's description", "empty"], { _ = try $0.addAction("") }),
            (
                "a reference where text is expected", ["the session's focus"],
                { try $0.set(DialogueSession.Field.focus, of: session, to: .reference(session)) }
            ),
            (
                "a reference where a title is expected", ["the session's title"],
                { try $0.set(DialogueSession.Field.title, of: session, to: .reference(session)) }
            ),
            (
                "text where a reference is expected", ["the session's facilitator"],
                { try $0.set(DialogueSession.Field.facilitator, of: session, to: .string("Ada")) }
            ),
            (
                "text where a timestamp is expected", ["the session's scheduled time"],
                { try $0.set(DialogueSession.Field.scheduledAt, of: session, to: .string("tomorrow")) }
            ),
            (
                "a hallmark that is not a term", ["the insight's hallmarks", "synergy"],
                { try $0.add(.string("charisma"), to: Insight.Field.hallmarks, of: insight) }
            ),
            (
                "a participant that is not a reference", ["the session's participants"],
                { try $0.add(.string("Ada"), to: DialogueSession.Field.participants, of: session) }
            ),
            ("creating an entity that exists", ["already exists"], { try $0.create(.session, id: session) }),
        ]
        for (what, words, operation) in operations {
            try await expectRefusal(
                f.replica, what, mentions: words, matching: { $0.code == .invalidValue }
            ) {
                try await f.replica.edit(in: space) { editor in try operation(&editor) }
            }
        }
    }

    @Test("text offsets and list positions out of range")
    func invalidPositions() async throws {
        let f = try await Fixture.make()
        let (space, session, insight, prompt) = (f.space, f.session!, f.insight!, f.prompt!)
        let summaryLength = "We looked at marking.".unicodeScalars.count
        let operations: [(String, [String], @Sendable (inout SpaceEditor) throws -> Void)] = [
            (
                "insert past the end of the text", ["\(summaryLength)"],
                { try $0.editText(DialogueSession.Field.summary, of: session, at: summaryLength + 1, insert: "x") }
            ),
            (
                "delete past the end of the text", ["\(summaryLength)"],
                { try $0.editText(DialogueSession.Field.summary, of: session, at: 3, delete: summaryLength, insert: "") }
            ),
            ("a negative offset", [], { try $0.editText(Insight.Field.text, of: insight, at: -1, insert: "x") }),
            ("a negative deletion", [], { try $0.editText(Insight.Field.text, of: insight, at: 2, delete: -1) }),
            (
                "replace past the end after a valid edit", [],
                {
                    try $0.editText(DialogueSession.Field.summary, of: session, at: 0, insert: "Today ")
                    try $0.editText(DialogueSession.Field.summary, of: session, at: summaryLength + 7, insert: "!")
                }
            ),
            ("agenda insert past the end", ["1"], { try $0.addToAgenda(prompt, of: session, at: 2) }),
            ("agenda insert at a negative index", [], { try $0.addToAgenda(prompt, of: session, at: -1) }),
            ("agenda move from past the end", ["0...0"], { try $0.moveOnAgenda(from: 1, to: 0, of: session) }),
            ("agenda move to past the end", ["0...0"], { try $0.moveOnAgenda(from: 0, to: 3, of: session) }),
            ("agenda remove past the end", ["0...0"], { try $0.removeFromAgenda(at: 1, of: session) }),
            ("agenda remove at a negative index", [], { try $0.removeFromAgenda(at: -1, of: session) }),
            (
                "remove from an empty list", ["0"],
                { editor in
                    let empty = try editor.createSession(title: "Empty")
                    try editor.removeItem(from: DialogueSession.Field.agenda, of: empty, at: 0)
                }
            ),
        ]
        for (what, words, operation) in operations {
            try await expectRefusal(
                f.replica, what, mentions: ["position"] + words, matching: { $0.code == .invalidPosition }
            ) {
                try await f.replica.edit(in: space) { editor in try operation(&editor) }
            }
        }
    }

    // MARK: Edits that fail halfway

    @Test("an edit closure that throws halfway stores nothing of it")
    func editThrowsHalfway() async throws {
        let f = try await Fixture.make()
        let (space, session) = (f.space, f.session!)
        let before = try await ReplicaSnapshot(f.replica)
        do {
            _ = try await f.replica.edit(in: space) { (editor: inout SpaceEditor) throws -> Int in
                let added = try editor.createSession(title: "Half done")
                try editor.editText(DialogueSession.Field.summary, of: added, at: 0, insert: "typed")
                try editor.set(DialogueSession.Field.title, of: session, to: .string("Renamed"))
                try editor.delete(session)
                #expect(editor.changes.count >= 5)
                throw Halfway()
            }
            Issue.record("the edit did not throw")
        } catch is Halfway {
            // expected: the closure's own error comes back unchanged
        }
        #expect(try await ReplicaSnapshot(f.replica) == before, "a thrown edit stored something")

        // A ReplicaError halfway through: the valid operations before it are dropped too.
        try await expectRefusal(
            f.replica, "valid operations then an invalid one", matching: { $0.code == .invalidValue }
        ) {
            try await f.replica.edit(in: space) { editor in
                try editor.editText(DialogueSession.Field.summary, of: session, at: 0, insert: "Monday: ")
                try editor.addParticipant(session, to: session)
                try editor.set(DialogueSession.Field.status, of: session, to: .string("postponed"))
            }
        }

        // The abandoned changes used no counters: the next edit continues where the log ends.
        let held = try #require(try f.replica.heldVectors()[space])[Self.aliceID]
        let span = try await f.replica.edit(in: space) { editor in
            try editor.set(DialogueSession.Field.title, of: session, to: .string("Renamed"))
            return editor.changes.reduce(0) { $0 + $1.counterSpan }
        }
        let log = try f.log()
        let last = try #require(log.last)
        #expect(last.id == Dot(Self.aliceID, held + 1), "the next change is \(last.id), expected counter \(held + 1)")
        #expect(try f.replica.heldVectors()[space]?[Self.aliceID] == held + span)
        let title = try await f.replica.database.read { db in
            try String.fetchOne(db, sql: "SELECT title FROM sessions WHERE session_id = ?", arguments: [session.blob])
        }
        #expect(title == "Renamed")
    }

    // MARK: Merge refusals

    @Test(
        "a change referring to an element that does not exist refuses its whole batch",
        arguments: 0..<4, [false, true])
    func mergeUnknownReference(variant: Int, textOnSecondThread: Bool) async throws {
        let f = try await Fixture.make()
        if textOnSecondThread { await f.replica.integrateTextConcurrently(fromFrameSize: 1) }
        var bob = try f.remoteCopy()
        let context = f.context(Self.bobID)
        // Valid changes first: Bob types into the summary and retitles the session.
        var batch = try bob.editText(DialogueSession.Field.summary, of: f.session, at: 0, insert: "Bob: ", by: context)
        batch.append(bob.set(DialogueSession.Field.title, of: f.session, to: .string("Bob's title"), by: context))
        let ghost = Dot(Self.aliceID, 9_999)
        let next = Dot(Self.bobID, batch.map(\.lastCounter).max()! + 1)
        let (field, operation): (String, DialogueModel.Operation) =
            switch variant {
            case 0: (DialogueSession.Field.summary, .insertText(originLeft: ghost, originRight: nil, text: "x"))
            case 1: (DialogueSession.Field.summary, .deleteText([try! DotRange(replica: Self.aliceID, firstCounter: 9_999, length: 2)]))
            case 2: (DialogueSession.Field.agenda, .removeItem(element: ghost))
            default: (DialogueSession.Field.agenda, .moveItem(element: ghost, originLeft: nil, originRight: nil, predecessors: []))
            }
        let bad = Change(id: next, timestamp: context.timestamp, space: f.space, entity: f.session, field: field, operation: operation)
        // And a valid change of another author after it, in the same batch.
        var carol = try f.remoteCopy()
        let fromCarol = carol.set(DialogueSession.Field.focus, of: f.session, to: .string("assessment"), by: f.context(Self.carolID))
        try await expectRefusal(
            f.replica, "variant \(variant): unknown reference",
            mentions: [bad.id.description, ghost.description, "nothing from this batch was stored"],
            matching: { $0.code == .changeRejected && $0.change == bad.id }
        ) {
            try await f.replica.merge(batch + [bad, fromCarol])
        }
        // The valid part alone is accepted afterwards: the refusal left nothing behind.
        let report = try await f.replica.merge(batch + [fromCarol])
        #expect(report.applied == batch.count + 1)
    }

    @Test("a text change refused on the second thread is reported before a later refusal in its batch")
    func textRefusalComesFirst() async throws {
        let f = try await Fixture.make()
        await f.replica.integrateTextConcurrently(fromFrameSize: 1)
        var bob = try f.remoteCopy()
        let context = f.context(Self.bobID)
        let valid = try bob.editText(DialogueSession.Field.summary, of: f.session, at: 0, insert: "Bob: ", by: context)
        let ghost = Dot(Self.aliceID, 9_999)
        let badText = Change(
            id: Dot(Self.bobID, valid.map(\.lastCounter).max()! + 1), timestamp: context.timestamp, space: f.space, entity: f.session,
            field: DialogueSession.Field.summary, operation: .insertText(originLeft: ghost, originRight: nil, text: "x"))
        // Refused on the merging thread, while the text change may still be queued.
        let farFuture = Change(
            id: Dot(Self.carolID, 1), timestamp: HLCTimestamp(wallTime: f.clock.millisecondsSinceEpoch() + 86_400_000), space: f.space,
            entity: f.session, field: DialogueSession.Field.focus, operation: .set(.string("later"), predecessors: []))
        try await expectRefusal(
            f.replica, "a bad text change, then a far-future change", mentions: [badText.id.description, ghost.description],
            matching: { $0.code == .changeRejected && $0.change == badText.id }
        ) {
            try await f.replica.merge(valid + [badText, farFuture])
        }
        let report = try await f.replica.merge(valid)
        #expect(report.applied == valid.count)
    }

    @Test("malformed changes refuse their batch")
    func mergeMalformed() async throws {
        let f = try await Fixture.make()
        var bob = try f.remoteCopy()
        let valid = bob.set(DialogueSession.Field.title, of: f.session, to: .string("Bob's title"), by: f.context(Self.bobID))
        var selfDependent = Change(
            id: Dot(Self.bobID, 2), timestamp: valid.timestamp, space: f.space, entity: f.session, field: DialogueSession.Field.focus,
            dependencies: [Dot(Self.bobID, 1)], operation: .set(.string("x"), predecessors: []))
        try await expectRefusal(
            f.replica, "a change depending on its own author", mentions: ["malformed", "own author"],
            matching: { $0.code == .changeRejected && $0.change == selfDependent.id }
        ) {
            try await f.replica.merge([valid, selfDependent])
        }
        selfDependent.dependencies = []
        selfDependent.operation = .deleteText([try! DotRange(replica: Self.aliceID, firstCounter: 1, length: 0)])
        try await expectRefusal(
            f.replica, "an empty deletion range", mentions: ["malformed", "empty"],
            matching: { $0.code == .changeRejected && $0.change == selfDependent.id }
        ) {
            try await f.replica.merge([valid, selfDependent])
        }
    }

    @Test("a change timestamped a day ahead of this device's clock refuses its batch")
    func mergeFarFuture() async throws {
        let f = try await Fixture.make()
        var bob = try f.remoteCopy()
        let now = f.clock.millisecondsSinceEpoch()
        let valid = bob.set(DialogueSession.Field.title, of: f.session, to: .string("Bob's title"), by: f.context(Self.bobID, at: now))
        let future = bob.set(
            DialogueSession.Field.status, of: f.session, to: .string("held"), by: f.context(Self.bobID, at: now + 86_400_000))
        try await expectRefusal(
            f.replica, "far-future timestamp", mentions: [future.id.description, "too far ahead"],
            matching: { $0.code == .changeRejected && $0.change == future.id && $0.rejection == .timestampTooFarAhead }
        ) {
            try await f.replica.merge([valid, future])
        }
        // Within the drift bound (four minutes ahead) the same change is accepted.
        var soon = future
        soon.timestamp = HLCTimestamp(wallTime: now + 4 * 60_000)
        #expect(try await f.replica.merge([valid, soon]).applied == 2)
    }

    // MARK: Opening and exporting

    @Test("opening a file that is not a replica database fails and leaves the file alone")
    func openNotADatabase() async throws {
        let directory = TemporaryDirectory()
        let path = directory.path("notes.sqlite")
        let text = Data(String(repeating: "Minutes of the partnership meeting.\n", count: 200).utf8)
        try text.write(to: URL(fileURLWithPath: path))
        do {
            _ = try Replica(path: path)
            Issue.record("a text file opened as a replica")
        } catch {
            if error.code != .storage { Issue.record("unexpected error \(error)") }
            expectHelpful(error, "open a text file", mentions: ["cannot open replica", path])
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == text, "opening damaged the file")
    }

    @Test("exporting into a folder that does not exist")
    func exportToMissingFolder() async throws {
        let f = try await Fixture.make()
        let url = f.directory.url.appendingPathComponent("no-such-folder/out.dlgb")
        try await expectRefusal(
            f.replica, "export to a missing folder", mentions: ["no-such-folder"],
            matching: { $0.code == .storage }
        ) {
            try f.replica.exportBundle(to: url)
        }
    }

    // MARK: Bundles

    /// Bob holds the fixture's space (and another one), with changes Alice lacks.
    func makeBob(_ f: Fixture, otherSpace: SpaceID? = nil) async throws -> Replica {
        let path = f.directory.path("bob.sqlite")
        try createReplicaFile(at: path, id: Self.bobID)
        let bob = try Replica(path: path, wallClock: f.clock)
        try await f.trust.login(bob, shared: [f.space] + (otherSpace.map { [$0] } ?? []))
        try await bob.merge(f.log())
        let session = f.session!
        try await bob.edit(in: f.space) { editor in
            try editor.editText(DialogueSession.Field.summary, of: session, at: 0, insert: "Bob was here. ")
            try editor.set(DialogueSession.Field.status, of: session, to: .string("held"))
            _ = try editor.createSession(title: "Bob's session")
        }
        if let otherSpace {
            try await bob.addSpace(otherSpace)
            try await bob.edit(in: otherSpace) { editor in _ = try editor.createSession(title: "Another school's session") }
        }
        return bob
    }

    /// A bundle from Bob for Alice, cut against what Alice holds.
    func goodBundle(_ f: Fixture, _ bob: Replica) throws -> [UInt8] {
        let url = f.directory.url.appendingPathComponent("good-\(UUID().uuidString).dlgb")
        try bob.exportBundle(to: url, spaces: [f.space], recipientHolds: f.replica.heldVectors())
        return [UInt8](try Data(contentsOf: url))
    }

    /// Writes bytes to a fresh file.
    func write(_ bytes: [UInt8], _ f: Fixture, _ name: String) throws -> URL {
        let url = f.directory.url.appendingPathComponent("\(name)-\(UUID().uuidString).dlgb")
        try Data(bytes).write(to: url)
        return url
    }

    static func resealed(_ bytes: [UInt8]) -> [UInt8] { CraftedBundle.resealed(bytes) }
    static func le64(_ value: UInt64) -> [UInt8] { CraftedBundle.le64(value) }
    static func le32(_ value: UInt32) -> [UInt8] { CraftedBundle.le32(value) }

    /// Bob's key and certificate, for changes crafted by hand as Bob's device.
    static let bobKey = SigningKeyPair()

    static func headerJSON(declaring spaces: [SpaceID], _ f: Fixture) throws -> [UInt8] {
        let header = BundleFormat.Header(
            createdBy: bobID, createdAt: start, spaces: spaces.map { .init(space: $0) },
            certificates: [f.trust.certificate(bobID, key: bobKey.publicKey)])
        return [UInt8](try JSONEncoder().encode(header))
    }

    /// Imports `bytes` into the fixture's replica, expecting ``ReplicaError/invalidBundle(_:)``
    /// mentioning each of `mentions`, and nothing changed.
    func expectBundleRefused(
        _ f: Fixture, _ bytes: [UInt8], _ what: String, mentions: [String] = [], sourceLocation: SourceLocation = #_sourceLocation
    ) async throws {
        let url = try write(bytes, f, "bad")
        let error = try await expectRefusal(
            f.replica, what, mentions: ["bundle refused", "nothing was imported"] + mentions, sourceLocation: sourceLocation,
            matching: { $0.code == .invalidBundle }
        ) {
            try await f.replica.importBundle(from: url)
        }
        _ = error
    }

    @Test("a file that is not a bundle")
    func notABundle() async throws {
        let f = try await Fixture.make()
        var random = SplitMix64(seed: 7)
        let noise = (0..<2_000).map { _ in UInt8.random(in: 0...255, using: &random) }
        try await expectBundleRefused(f, noise, "random bytes", mentions: ["not a Dialogue bundle"])
        try await expectBundleRefused(
            f, Array("Agenda for Tuesday\n1. Feedback\n".utf8), "a text file", mentions: ["not a Dialogue bundle"])
        try await expectBundleRefused(f, [], "an empty file", mentions: ["not a Dialogue bundle"])
        try await expectBundleRefused(f, Array("DLGB".utf8) + [2] + noise, "bundle magic then noise", mentions: ["damaged"])
        let missing = f.directory.url.appendingPathComponent("never-written.dlgb")
        try await expectRefusal(
            f.replica, "a missing file", mentions: ["cannot read", "never-written.dlgb"],
            matching: { $0.code == .invalidBundle }
        ) {
            try await f.replica.importBundle(from: missing)
        }
    }

    @Test("a bundle truncated anywhere")
    func truncatedBundle() async throws {
        let f = try await Fixture.make()
        let bob = try await makeBob(f)
        let good = try goodBundle(f, bob)
        let lengths = [
            1, 4, 5, 9, 24, 25, 40, good.count / 2, good.count - 17, good.count - 16, good.count - 5, good.count - 4, good.count - 1,
        ]
        for length in lengths {
            try await expectBundleRefused(f, Array(good.prefix(length)), "truncated to \(length) of \(good.count) bytes")
        }
        // The untouched bundle still imports.
        let report = try await f.replica.importBundle(from: try write(good, f, "good"))
        #expect(report.applied > 0)
    }

    @Test("a bundle with one byte flipped fails its checksum", arguments: [0.3, 0.5, 0.8])
    func flippedByte(position: Double) async throws {
        let f = try await Fixture.make()
        let bob = try await makeBob(f)
        var bytes = try goodBundle(f, bob)
        let index = Int(Double(bytes.count) * position)
        bytes[index] ^= 0x20
        try await expectBundleRefused(f, bytes, "byte \(index) flipped", mentions: ["checksum"])
    }

    @Test("a bundle from a newer (or an impossible) format version")
    func futureVersion() async throws {
        let f = try await Fixture.make()
        let bob = try await makeBob(f)
        var bytes = try goodBundle(f, bob)
        bytes[4] = 3
        try await expectBundleRefused(f, Self.resealed(bytes), "version 3", mentions: ["version 3", "newer", "update Dialogue"])
        bytes[4] = 0
        try await expectBundleRefused(f, Self.resealed(bytes), "version 0", mentions: ["version 0"])
    }

    @Test("a bundle holding a space the importer's directory does not list is refused whole, naming it; once listed, it imports")
    func foreignSpace() async throws {
        let f = try await Fixture.make()
        let other = SpaceID(UUID(uuidString: "5ace0000-0000-4000-8000-0000000e15e1")!)
        let bob = try await makeBob(f, otherSpace: other)
        let url = f.directory.url.appendingPathComponent("other.dlgb")
        try bob.exportBundle(to: url, spaces: [other])
        let name = "Shared \(other.description.prefix(4))"
        let refused = { (error: ReplicaError) in
            error.code == .spaceNotPermitted && error.space == other && error.message.contains("«\(name)»")
        }
        try await expectRefusal(
            f.replica, "the other space only", mentions: [name, other.description, "space directory", "nothing was imported"],
            matching: refused
        ) { try await f.replica.importBundle(from: url) }
        // Both spaces: the permitted one is not imported either.
        try bob.exportBundle(to: url, recipientHolds: f.replica.heldVectors())
        try await expectRefusal(f.replica, "both spaces", mentions: [name], matching: refused) {
            try await f.replica.importBundle(from: url)
        }
        #expect(await f.replica.spaces == [f.space])
        // Once Alice's directory lists it, the same file imports both, and the space is added.
        try await f.trust.login(f.replica, shared: [f.space, other])
        let report = try await f.replica.importBundle(from: url)
        #expect(report.applied > 0)
        #expect(await f.replica.spaces.sorted() == [f.space, other].sorted())
    }

    @Test("a format-1 bundle (before signed changes) is refused, saying it cannot be verified and what to do")
    func formatOne() async throws {
        let f = try await Fixture.make()
        let bob = try await makeBob(f)
        var bytes = try goodBundle(f, bob)
        bytes[4] = 1
        try await expectBundleRefused(
            f, Self.resealed(bytes), "format 1",
            mentions: ["format-1", "before signed changes", "cannot be verified", "upgrade dialogue-client"])
    }

    @Test("a bundle whose trailer miscounts its changes")
    func lyingTrailer() async throws {
        let f = try await Fixture.make()
        let bob = try await makeBob(f)
        let good = try goodBundle(f, bob)
        let countOffset = good.count - 12
        let real = (0..<8).reduce(UInt64(0)) { $0 | UInt64(good[countOffset + $1]) << (8 * UInt64($1)) }
        #expect(real > 0)
        for claimed in [real + 1, real - 1, 0] {
            var bytes = good
            bytes.replaceSubrange(countOffset..<(countOffset + 8), with: Self.le64(claimed))
            try await expectBundleRefused(f, Self.resealed(bytes), "trailer says \(claimed)", mentions: ["\(real)", "\(claimed)"])
        }
    }

    @Test("a bundle carrying a change of a space its header does not declare")
    func undeclaredSpace() async throws {
        let f = try await Fixture.make()
        let other = SpaceID(UUID(uuidString: "5ace0000-0000-4000-8000-0000000e15e2")!)
        var bob = try f.remoteCopy()
        let valid = bob.set(DialogueSession.Field.title, of: f.session, to: .string("Bob's title"), by: f.context(Self.bobID))
        var stranger = SpaceDocument(space: other)
        let stray = stranger.create(
            EntityID(UUID(uuidString: "00000000-0000-4000-8000-00000000057a")!), kind: .session, by: f.context(Self.bobID))
        let header = try Self.headerJSON(declaring: [f.space], f)
        var signer = ChangeSigner(key: Self.bobKey)
        let validFrame = try CraftedBundle.frame([valid], signer: &signer)
        // The stray change in its own frame after a valid frame: the valid frame is not kept.
        var strays = signer
        let twoFrames = CraftedBundle.bundle(
            headerJSON: header, frames: [validFrame, try CraftedBundle.frame([stray], signer: &strays)], count: 2)
        try await expectBundleRefused(f, twoFrames, "stray change in the second frame", mentions: [other.description, "does not declare"])
        // The stray change mixed into one frame.
        var mixed = ChangeSigner(key: Self.bobKey)
        let oneFrame = CraftedBundle.bundle(
            headerJSON: header, frames: [try CraftedBundle.frame([valid, stray], signer: &mixed)], count: 2)
        try await expectBundleRefused(f, oneFrame, "stray change in the same frame", mentions: [other.description, "does not declare"])
        // The same bundle, declaring only the valid change, imports.
        let honest = CraftedBundle.bundle(headerJSON: header, frames: [validFrame], count: 1)
        #expect(try await f.replica.importBundle(from: try write(honest, f, "honest")).applied == 1)
    }

    @Test("a bundle whose header or frames are damaged behind a valid checksum")
    func damagedInside() async throws {
        let f = try await Fixture.make()
        var bob = try f.remoteCopy()
        let valid = bob.set(DialogueSession.Field.title, of: f.session, to: .string("Bob's title"), by: f.context(Self.bobID))
        let header = try Self.headerJSON(declaring: [f.space], f)
        var signer = ChangeSigner(key: Self.bobKey)
        let frame = try CraftedBundle.frame([valid], signer: &signer)
        let changeBatch = ChangeCodec.encode([valid])

        let notJSON = CraftedBundle.bundle(headerJSON: Array("{not json".utf8), frames: [frame], count: 1)
        try await expectBundleRefused(f, notJSON, "header not JSON", mentions: ["header"])
        let otherFormat = Array(String(decoding: header, as: UTF8.self).replacingOccurrences(of: "dialogue-bundle", with: "zip").utf8)
        try await expectBundleRefused(
            f, CraftedBundle.bundle(headerJSON: otherFormat, frames: [frame], count: 1), "another format", mentions: ["zip"])
        let otherVersion = Array(
            String(decoding: header, as: UTF8.self).replacingOccurrences(of: "\"version\":2", with: "\"version\":1").utf8)
        try await expectBundleRefused(
            f, CraftedBundle.bundle(headerJSON: otherVersion, frames: [frame], count: 1), "header version differs", mentions: ["version 1"])

        var longHeader = CraftedBundle.bundle(headerJSON: header, frames: [frame], count: 1)
        longHeader.replaceSubrange(5..<9, with: Self.le32(UInt32(longHeader.count)))
        try await expectBundleRefused(f, Self.resealed(longHeader), "header length past the end", mentions: ["header length"])

        var noEnd = CraftedBundle.bundle(headerJSON: header, frames: [frame], count: 1)
        noEnd.replaceSubrange((noEnd.count - 16)..<(noEnd.count - 12), with: Array("DLGX".utf8))
        try await expectBundleRefused(f, Self.resealed(noEnd), "no end marker", mentions: ["end marker"])

        var longFrame = CraftedBundle.bundle(headerJSON: header, frames: [frame], count: 1)
        let frameOffset = 9 + header.count
        longFrame.replaceSubrange(frameOffset..<(frameOffset + 4), with: Self.le32(UInt32(frame.count + 100)))
        try await expectBundleRefused(f, Self.resealed(longFrame), "frame length past the end", mentions: ["frame"])

        var hugeHeads = CraftedBundle.bundle(headerJSON: header, frames: [frame], count: 1)
        let headsOffset = frameOffset + 4 + changeBatch.count
        hugeHeads.replaceSubrange(headsOffset..<(headsOffset + 4), with: Self.le32(UInt32.max))
        try await expectBundleRefused(f, Self.resealed(hugeHeads), "head list length past the end", mentions: ["head list"])

        let noHeads = CraftedBundle.bundle(headerJSON: header, frames: [Self.le32(UInt32(changeBatch.count)) + changeBatch], count: 1)
        try await expectBundleRefused(f, noHeads, "a frame without its head list", mentions: ["heads are missing"])

        let stub = CraftedBundle.bundle(headerJSON: header, frames: [frame], count: 1)
        var shortFrame = Array(stub[0..<(stub.count - 16)]) + [1, 0] + Array(stub[(stub.count - 16)...])
        shortFrame = Self.resealed(shortFrame)
        try await expectBundleRefused(f, shortFrame, "two stray bytes before the trailer", mentions: ["frame"])

        var garbledFrame = changeBatch
        garbledFrame[garbledFrame.count / 2] ^= 0xFF  // the frame's own checksum no longer matches
        try await expectBundleRefused(
            f, CraftedBundle.bundle(headerJSON: header, frames: [frame, CraftedBundle.frame(garbledFrame, heads: [])], count: 2),
            "garbled second frame", mentions: ["frame cannot be read"])
        var headSigner = ChangeSigner(key: Self.bobKey)
        var garbledHeads = ChainHeadCodec.encode(try headSigner.sign([valid]))
        garbledHeads[garbledHeads.count / 2] ^= 0xFF
        try await expectBundleRefused(
            f,
            CraftedBundle.bundle(
                headerJSON: header,
                frames: [Self.le32(UInt32(changeBatch.count)) + changeBatch + Self.le32(UInt32(garbledHeads.count)) + garbledHeads],
                count: 1),
            "garbled head list", mentions: ["heads cannot be read"])
    }

    @Test("a bundle carrying a change the merge refuses is refused whole")
    func bundleWithRefusedChange() async throws {
        let f = try await Fixture.make()
        var bob = try f.remoteCopy()
        let now = f.clock.millisecondsSinceEpoch()
        let valid = bob.set(DialogueSession.Field.title, of: f.session, to: .string("Bob's title"), by: f.context(Self.bobID, at: now))
        let future = bob.set(DialogueSession.Field.focus, of: f.session, to: .string("x"), by: f.context(Self.bobID, at: now + 86_400_000))
        var signer = ChangeSigner(key: Self.bobKey)
        let bytes = CraftedBundle.bundle(
            headerJSON: try Self.headerJSON(declaring: [f.space], f),
            frames: [try CraftedBundle.frame([valid], signer: &signer), try CraftedBundle.frame([future], signer: &signer)], count: 2)
        let url = try write(bytes, f, "future")
        try await expectRefusal(
            f.replica, "bundle with a far-future change", mentions: ["too far ahead"],
            matching: { $0.code == .changeRejected && $0.change == future.id && $0.rejection == .timestampTooFarAhead }
        ) {
            try await f.replica.importBundle(from: url)
        }
    }

    @Test("opening a file that is not a replica throws a storage error and leaves the file as it was")
    func openingSomethingElse() throws {
        let directory = TemporaryDirectory()
        let path = directory.path("notes.txt")
        let bytes = Data(String(repeating: "Not a database: minutes of the partnership meeting.\n", count: 200).utf8)
        try bytes.write(to: URL(fileURLWithPath: path))
        let message = try #require(Self.storageError(opening: path))
        #expect(message.contains("cannot open replica at \(path)"))
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == bytes)
    }

    @Test("opening a database of another application throws a storage error and changes nothing")
    func openingAnotherDatabase() throws {
        let directory = TemporaryDirectory()
        let path = directory.path("other.sqlite")
        let other = try DatabaseQueue(path: path)
        try other.write { db in try db.execute(sql: "CREATE TABLE meta (note TEXT); INSERT INTO meta VALUES ('theirs')") }
        try other.close()
        let message = try #require(Self.storageError(opening: path))
        #expect(message.contains("cannot open replica at \(path): it is not a Dialogue replica"))
        let reopened = try DatabaseQueue(path: path)
        #expect(try reopened.read { db in try String.fetchAll(db, sql: "SELECT name FROM sqlite_master ORDER BY name") } == ["meta"])
        #expect(try reopened.read { db in try String.fetchAll(db, sql: "SELECT note FROM meta") } == ["theirs"])
    }

    @Test("opening a replica written by a newer version throws a storage error and changes nothing")
    func openingNewerReplica() async throws {
        let directory = TemporaryDirectory()
        let path = directory.path("newer.sqlite")
        do {
            let replica = try Replica(path: path)
            try await replica.addSpace(SpaceID(UUID()))
        }
        // The replica's checkpoint connection may still be closing: wait for its lock.
        var patient = Configuration()
        patient.busyMode = .timeout(10)
        let raw = try DatabaseQueue(path: path, configuration: patient)
        try await raw.write { db in try db.execute(sql: "INSERT INTO grdb_migrations (identifier) VALUES ('v99-from-the-future')") }
        let before = try await raw.read { db in try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations ORDER BY identifier") }
        try raw.close()
        let message = try #require(Self.storageError(opening: path))
        #expect(message.contains("written by a newer version of Dialogue"))
        let reopened = try DatabaseQueue(path: path, configuration: patient)
        #expect(
            try await reopened.read { db in try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations ORDER BY identifier") }
                == before)
    }

    /// The message of the storage error that opening `path` as a replica throws, or `nil`
    /// (and a recorded issue) when it opens or fails otherwise.
    static func storageError(opening path: String) -> String? {
        do throws(ReplicaError) {
            _ = try Replica(path: path)
            Issue.record("\(path) opened as a replica")
        } catch  where error.code == .storage {
            return error.message
        } catch {
            Issue.record("expected a storage error, got \(error)")
        }
        return nil
    }
}
