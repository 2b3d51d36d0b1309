import DialogueModel
import Foundation
import Testing

/// Builds edit contexts with increasing timestamps for one replica.
private struct Editor {
    let replica: ReplicaID
    var wallTime: UInt64 = 1_700_000_000_000

    init(_ raw: UInt64) {
        guard let replica = ReplicaID(rawValue: raw) else { preconditionFailure("replica 0 is reserved") }
        self.replica = replica
    }

    mutating func next() -> EditContext {
        wallTime += 1
        return EditContext(replica: replica, timestamp: HLCTimestamp(wallTime: wallTime))
    }
}

private let testSpace = SpaceID("6f1c2a3e-0000-4000-8000-000000000001")!

private func entity(_ n: Int) -> EntityID {
    let digits = String(n)
    return EntityID("00000000-0000-4000-8000-" + String(repeating: "0", count: 12 - digits.count) + digits)!
}

/// The course reading, found beside the package (`../shared/domain/`).
private func sourceText() throws -> String {
    let packageRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    let url = packageRoot.deletingLastPathComponent().appendingPathComponent("shared/domain/distributed-leadership.txt")
    return try String(contentsOf: url, encoding: .utf8)
}

@Suite struct DomainVocabularyTests {
    private func checkRoundTrips<Term: VocabularyTerm>(_ type: Term.Type) throws {
        #expect(!Term.allCases.isEmpty)
        #expect(Set(Term.allCases.map(\.rawValue)).count == Term.allCases.count)
        #expect(Set(Term.allCases.map(\.displayName)).count == Term.allCases.count)
        for term in Term.allCases {
            #expect(Term(rawValue: term.rawValue) == term)
            #expect(Term(FieldValue(term)) == term)
            #expect(term.rawValue.range(of: "^[a-z]+(-[a-z]+)*$", options: .regularExpression) != nil, "\(term.rawValue)")
            #expect(!term.displayName.isEmpty)
            let json = try JSONEncoder().encode([term])
            #expect(String(decoding: json, as: UTF8.self) == "[\"\(term.rawValue)\"]")
            #expect(try JSONDecoder().decode([Term].self, from: json) == [term])
        }
        #expect(Term(rawValue: "no-such-term") == nil)
        #expect(Term(FieldValue.string("no-such-term")) == nil)
        #expect(Term(FieldValue.int(1)) == nil)
        #expect(Term(nil as FieldValue?) == nil)
    }

    @Test("every kind's ordinal is its position in allCases (tables are indexed by it)")
    func ordinals() {
        for (position, kind) in EntityKind.allCases.enumerated() { #expect(kind.ordinal == position, "\(kind)") }
    }

    @Test func everyVocabularyRoundTripsThroughItsRawValue() throws {
        try checkRoundTrips(LeadershipStrategy.self)
        try checkRoundTrips(Hallmark.self)
        try checkRoundTrips(Influence.self)
        try checkRoundTrips(MemberRole.self)
        try checkRoundTrips(ContinuumPosition.self)
        try checkRoundTrips(SessionStatus.self)
        try checkRoundTrips(InsightKind.self)
        try checkRoundTrips(ActionStatus.self)
        try checkRoundTrips(SpaceOwnerKind.self)
    }

    @Test func deanHasEightHallmarksNamedAsInTheSourceText() throws {
        let text = try sourceText().lowercased()
        #expect(Hallmark.allCases.count == 8)
        for hallmark in Hallmark.allCases {
            #expect(text.contains(hallmark.displayName.lowercased()), "\(hallmark.displayName)")
        }
    }

    @Test func strategiesAndInfluencesAreNamedInTheSourceText() throws {
        let text = try sourceText().lowercased()
        for strategy in LeadershipStrategy.allCases {
            #expect(text.contains(strategy.displayName.lowercased()))
        }
        for influence in Influence.allCases {
            #expect(text.contains(influence.displayName.lowercased()))
        }
    }

    @Test func continuumRunsFromAutocracyToAnarchy() {
        #expect(ContinuumPosition.allCases.count == 7)
        #expect(ContinuumPosition.allCases.sorted() == ContinuumPosition.allCases)
        #expect(ContinuumPosition.autocracy < .guidedDistribution)
        #expect(ContinuumPosition.allCases.min() == .autocracy)
        #expect(ContinuumPosition.allCases.max() == .anarchy)
    }

    @Test func ownerKindsNameEntityKinds() {
        #expect(SpaceOwnerKind.partnership.entityKind == .partnership)
        #expect(SpaceOwnerKind.school.entityKind == .school)
    }
}

@Suite struct EntityKindTests {
    @Test(arguments: EntityKind.allCases)
    func fieldNamesAreUniqueAndStoredInFieldCRDTs(kind: EntityKind) {
        let names = kind.fields.map(\.name)
        #expect(!names.isEmpty)
        #expect(Set(names).count == names.count)
        #expect(!names.contains(""))
        #expect(kind.fields.allSatisfy { $0.type != .lifecycle })
        for field in kind.fields {
            #expect(SpaceDocument.fieldType(of: field.name, in: kind) == field.type)
        }
        #expect(SpaceDocument.fieldType(of: "noSuchField", in: kind) == nil)
        #expect(EntityKind(rawValue: kind.rawValue) == kind)
    }

    @Test func fieldTypesMatchTheDomain() {
        #expect(SpaceDocument.fieldType(of: DialogueSession.Field.agenda, in: .session) == .list)
        #expect(SpaceDocument.fieldType(of: DialogueSession.Field.summary, in: .session) == .text)
        #expect(SpaceDocument.fieldType(of: DialogueSession.Field.participants, in: .session) == .set)
        #expect(SpaceDocument.fieldType(of: DialogueSession.Field.title, in: .session) == .register)
        #expect(SpaceDocument.fieldType(of: Insight.Field.text, in: .insight) == .text)
        #expect(SpaceDocument.fieldType(of: Insight.Field.hallmarks, in: .insight) == .set)
        #expect(SpaceDocument.fieldType(of: Partnership.Field.schools, in: .partnership) == .set)
        #expect(SpaceDocument.fieldType(of: Space.Field.members, in: .space) == .set)
        #expect(SpaceDocument.fieldType(of: Action.Field.dueDate, in: .action) == .register)
        #expect(SpaceDocument.fieldType(of: Insight.Field.text, in: .prompt) == .register)
        #expect(SpaceDocument.fieldType(of: DialogueSession.Field.agenda, in: .insight) == nil)
    }

    @Test func viewsDeclareTheirKinds() {
        #expect(Partnership.entityKind == .partnership)
        #expect(School.entityKind == .school)
        #expect(Member.entityKind == .member)
        #expect(Space.entityKind == .space)
        #expect(DialogueSession.entityKind == .session)
        #expect(Prompt.entityKind == .prompt)
        #expect(Insight.entityKind == .insight)
        #expect(Action.entityKind == .action)
    }

    @Test func kindsCodeAsTheirRawValues() throws {
        let json = try JSONEncoder().encode(EntityKind.allCases)
        #expect(try JSONDecoder().decode([EntityKind].self, from: json) == EntityKind.allCases)
        #expect(String(decoding: try JSONEncoder().encode([EntityKind.session]), as: UTF8.self) == "[\"session\"]")
    }
}

@Suite struct PromptLibraryTests {
    @Test func starterLibraryHoldsBothReflectionLists() {
        #expect(PromptLibrary.starter.count == 7)
        #expect(PromptLibrary.starter.filter { $0.theme == PromptLibrary.Theme.distributedLeadership }.count == 5)
        #expect(PromptLibrary.starter.filter { $0.theme == PromptLibrary.Theme.learningCentredLeadership }.count == 2)
    }

    @Test func identifiersAreUniqueStableAndNameBased() {
        let ids = PromptLibrary.starter.map(\.id)
        #expect(Set(ids).count == ids.count)
        #expect(Set(PromptLibrary.starter.map(\.text)).count == ids.count)
        for id in ids {
            let text = id.description
            #expect(text[text.index(text.startIndex, offsetBy: 14)] == "5", "\(text) is not a version-5 UUID")
        }
        // Golden values: these must never change.
        #expect(ids.first?.description == "d494aac8-9c67-52ba-873c-b0b7db965626")
        #expect(ids.last?.description == "c530f019-7a0a-58d5-bc69-972082676355")
        for prompt in PromptLibrary.starter {
            #expect(PromptLibrary.starterPrompt(prompt.id) == prompt)
        }
    }

    @Test func textsAppearVerbatimInTheSourceText() throws {
        let source = try sourceText()
        for prompt in PromptLibrary.starter {
            #expect(source.contains(prompt.text), "not verbatim: \(prompt.text)")
            #expect(!prompt.theme.isEmpty)
            #expect(prompt.source.contains("Personal reflection"))
        }
    }

    @Test func devicesThatAddTheSamePromptConverge() throws {
        var first = SpaceDocument(space: testSpace)
        var second = SpaceDocument(space: testSpace)
        var alice = Editor(1)
        var bob = Editor(2)
        let prompt = try #require(PromptLibrary.starter.first)
        let fromFirst = first.addStarterPrompt(prompt, by: alice.next())
        let fromSecond = second.addStarterPrompt(prompt, by: bob.next())
        try first.apply(fromSecond)
        try second.apply(fromFirst)
        #expect(first.prompts.count == 1)
        #expect(first.prompts == second.prompts)
        let view = try #require(first.prompts.first)
        #expect(view.id == prompt.id)
        #expect(view.text == prompt.text)
        #expect(view.theme == prompt.theme)
        #expect(view.source == prompt.source)
        #expect(first.addStarterPrompt(prompt, by: alice.next()).isEmpty)
    }

    @Test func addingADeletedStarterPromptBringsItBack() {
        var document = SpaceDocument(space: testSpace)
        var editor = Editor(1)
        let prompt = PromptLibrary.starter[1]
        _ = document.addStarterPrompt(prompt, by: editor.next())
        _ = document.delete(prompt.id, by: editor.next())
        #expect(document.prompts.isEmpty)
        #expect(!document.addStarterPrompt(prompt, by: editor.next()).isEmpty)
        #expect(document.prompts.map(\.id) == [prompt.id])
    }
}

@Suite struct EntityViewTests {
    @Test func sessionReadsBackWhatWasWritten() throws {
        var document = SpaceDocument(space: testSpace)
        var editor = Editor(7)
        let session = entity(1)
        let (school, facilitator, alice, bob) = (entity(2), entity(3), entity(4), entity(5))
        let (promptA, promptB) = (entity(6), entity(7))
        _ = document.createSession(session, title: "Feedback that moves learning on", by: editor.next())
        _ = document.set(DialogueSession.Field.scheduledAt, of: session, to: .timestamp(1_760_000_000_000), by: editor.next())
        _ = document.set(DialogueSession.Field.hostSchool, of: session, to: .reference(school), by: editor.next())
        _ = document.set(DialogueSession.Field.facilitator, of: session, to: .reference(facilitator), by: editor.next())
        _ = document.add(.reference(bob), toSet: DialogueSession.Field.participants, of: session, by: editor.next())
        _ = document.add(.reference(alice), toSet: DialogueSession.Field.participants, of: session, by: editor.next())
        _ = document.add(.string("not a reference"), toSet: DialogueSession.Field.participants, of: session, by: editor.next())
        _ = document.set(DialogueSession.Field.focus, of: session, to: .string("Oral feedback"), by: editor.next())
        _ = document.set(DialogueSession.Field.strategy, of: session, to: LeadershipStrategy.dialogue, by: editor.next())
        _ = document.set(DialogueSession.Field.status, of: session, to: SessionStatus.held, by: editor.next())
        _ = try document.appendToAgenda(promptB, of: session, by: editor.next())
        _ = try document.appendToAgenda(promptA, of: session, by: editor.next())
        _ = try document.editText(DialogueSession.Field.summary, of: session, at: 0, insert: "We agreed…", by: editor.next())

        let view = try #require(DialogueSession(session, in: document))
        #expect(view.id == session)
        #expect(view.title == "Feedback that moves learning on")
        #expect(view.scheduledAt == 1_760_000_000_000)
        #expect(view.hostSchool == school)
        #expect(view.facilitator == facilitator)
        #expect(view.participants == [alice, bob])
        #expect(view.focus == "Oral feedback")
        #expect(view.strategy == .dialogue)
        #expect(view.status == .held)
        #expect(view.agenda == [promptB, promptA])
        #expect(view.summary == "We agreed…")
        #expect(document.sessions == [view])
    }

    @Test func freshSessionHasEmptyFields() throws {
        var document = SpaceDocument(space: testSpace)
        var editor = Editor(7)
        _ = document.create(entity(1), kind: .session, by: editor.next())
        let view = try #require(DialogueSession(entity(1), in: document))
        #expect(view.title == nil && view.scheduledAt == nil && view.status == nil && view.strategy == nil)
        #expect(view.participants.isEmpty && view.agenda.isEmpty && view.summary.isEmpty)
    }

    @Test func unknownVocabularyAndWrongTypesReadAsNil() throws {
        var document = SpaceDocument(space: testSpace)
        var editor = Editor(3)
        let insight = entity(10)
        _ = document.create(insight, kind: .insight, by: editor.next())
        _ = document.set(Insight.Field.kind, of: insight, to: .string("prophecy"), by: editor.next())
        _ = document.set(Insight.Field.influence, of: insight, to: .int(2), by: editor.next())
        _ = document.set(Insight.Field.author, of: insight, to: .string("not a reference"), by: editor.next())
        _ = document.add(.string("telepathy"), toSet: Insight.Field.hallmarks, of: insight, by: editor.next())
        _ = document.add(FieldValue(Hallmark.synergy), toSet: Insight.Field.hallmarks, of: insight, by: editor.next())
        _ = document.add(FieldValue(Hallmark.sharedResponsibility), toSet: Insight.Field.hallmarks, of: insight, by: editor.next())
        let view = try #require(Insight(insight, in: document))
        #expect(view.kind == nil)
        #expect(view.influence == nil)
        #expect(view.author == nil)
        #expect(view.hallmarks == [.sharedResponsibility, .synergy])
    }

    @Test func kindMismatchAndMissingEntitiesReadAsNil() {
        var document = SpaceDocument(space: testSpace)
        var editor = Editor(3)
        let school = entity(20)
        _ = document.create(school, kind: .school, by: editor.next())
        _ = document.create(entity(21), kind: "future-kind", by: editor.next())
        #expect(School(school, in: document) != nil)
        #expect(DialogueSession(school, in: document) == nil)
        #expect(Partnership(school, in: document) == nil)
        #expect(Member(school, in: document) == nil)
        #expect(Space(school, in: document) == nil)
        #expect(Prompt(school, in: document) == nil)
        #expect(Insight(school, in: document) == nil)
        #expect(Action(school, in: document) == nil)
        #expect(School(entity(99), in: document) == nil)
        #expect(School(entity(21), in: document) == nil)
        #expect(document.entityKind(of: school) == .school)
        #expect(document.entityKind(of: entity(21)) == nil)
        #expect(document.sessions.isEmpty)
    }

    @Test func insightAndActionReadBack() throws {
        var document = SpaceDocument(space: testSpace)
        var editor = Editor(4)
        let (insight, action, author, session, prompt) = (entity(30), entity(31), entity(32), entity(33), entity(34))
        _ = document.create(insight, kind: .insight, by: editor.next())
        _ = try document.editText(Insight.Field.text, of: insight, at: 0, insert: "Pupils explain their thinking", by: editor.next())
        _ = document.set(Insight.Field.author, of: insight, to: .reference(author), by: editor.next())
        _ = document.set(Insight.Field.session, of: insight, to: .reference(session), by: editor.next())
        _ = document.set(Insight.Field.prompt, of: insight, to: .reference(prompt), by: editor.next())
        _ = document.set(Insight.Field.kind, of: insight, to: InsightKind.effectivePractice, by: editor.next())
        _ = document.set(Insight.Field.evidenceSource, of: insight, to: .string("Classroom visit"), by: editor.next())
        _ = document.set(Insight.Field.influence, of: insight, to: Influence.reciprocal, by: editor.next())
        _ = document.create(action, kind: .action, by: editor.next())
        _ = document.set(Action.Field.description, of: action, to: .string("Share the questioning grid"), by: editor.next())
        _ = document.set(Action.Field.owner, of: action, to: .reference(author), by: editor.next())
        _ = document.set(Action.Field.dueDate, of: action, to: .string("2026-03-31"), by: editor.next())
        _ = document.set(Action.Field.status, of: action, to: ActionStatus.open, by: editor.next())
        _ = document.set(Action.Field.insight, of: action, to: .reference(insight), by: editor.next())
        _ = document.set(Action.Field.session, of: action, to: .reference(session), by: editor.next())

        let readInsight = try #require(Insight(insight, in: document))
        #expect(readInsight.text == "Pupils explain their thinking")
        #expect(readInsight.author == author && readInsight.session == session && readInsight.prompt == prompt)
        #expect(readInsight.kind == .effectivePractice)
        #expect(readInsight.evidenceSource == "Classroom visit")
        #expect(readInsight.influence == .reciprocal)
        #expect(readInsight.hallmarks.isEmpty)
        let readAction = try #require(Action(action, in: document))
        #expect(readAction.description == "Share the questioning grid")
        #expect(readAction.owner == author && readAction.insight == insight && readAction.session == session)
        #expect(readAction.dueDate == "2026-03-31")
        #expect(readAction.status == .open)
        #expect(document.insights == [readInsight])
        #expect(document.actions == [readAction])
    }

    @Test func organisationReadsBack() throws {
        var document = SpaceDocument(space: testSpace)
        var editor = Editor(5)
        let (partnership, schoolA, schoolB, member, space) = (entity(40), entity(42), entity(41), entity(43), entity(44))
        _ = document.create(partnership, kind: .partnership, by: editor.next())
        _ = document.set(Partnership.Field.name, of: partnership, to: .string("River Valley Partnership"), by: editor.next())
        _ = document.add(.reference(schoolA), toSet: Partnership.Field.schools, of: partnership, by: editor.next())
        _ = document.add(.reference(schoolB), toSet: Partnership.Field.schools, of: partnership, by: editor.next())
        _ = document.set(Partnership.Field.continuum, of: partnership, to: ContinuumPosition.guidedDistribution, by: editor.next())
        for (school, name) in [(schoolA, "Hillside Primary"), (schoolB, "Brookfield Academy")] {
            _ = document.create(school, kind: .school, by: editor.next())
            _ = document.set(School.Field.name, of: school, to: .string(name), by: editor.next())
            _ = document.set(School.Field.partnership, of: school, to: .reference(partnership), by: editor.next())
        }
        _ = document.set(School.Field.reference, of: schoolA, to: .string("123456"), by: editor.next())
        _ = document.create(member, kind: .member, by: editor.next())
        _ = document.set(Member.Field.displayName, of: member, to: .string("J. Okafor"), by: editor.next())
        _ = document.set(Member.Field.role, of: member, to: MemberRole.middleLeader, by: editor.next())
        _ = document.set(Member.Field.homeSchool, of: member, to: .reference(schoolA), by: editor.next())
        _ = document.create(space, kind: .space, by: editor.next())
        _ = document.set(Space.Field.ownerKind, of: space, to: SpaceOwnerKind.partnership, by: editor.next())
        _ = document.set(Space.Field.owner, of: space, to: .reference(partnership), by: editor.next())
        _ = document.add(.reference(member), toSet: Space.Field.members, of: space, by: editor.next())

        let readPartnership = try #require(Partnership(partnership, in: document))
        #expect(readPartnership.name == "River Valley Partnership")
        #expect(readPartnership.schools == [schoolB, schoolA])
        #expect(readPartnership.continuum == .guidedDistribution)
        #expect(document.schools.map(\.id) == [schoolB, schoolA])
        #expect(document.schools.map(\.name) == ["Brookfield Academy", "Hillside Primary"])
        #expect(School(schoolA, in: document)?.reference == "123456")
        #expect(School(schoolB, in: document)?.reference == nil)
        #expect(document.schools.allSatisfy { $0.partnership == partnership })
        let readMember = try #require(Member(member, in: document))
        #expect(readMember.displayName == "J. Okafor" && readMember.role == .middleLeader && readMember.homeSchool == schoolA)
        let readSpace = try #require(Space(space, in: document))
        #expect(readSpace.ownerKind == .partnership && readSpace.owner == partnership && readSpace.members == [member])
        #expect(document.partnerships == [readPartnership])
        #expect(document.people == [readMember])
        #expect(document.spaces == [readSpace])
    }

    @Test func collectionsListLiveEntitiesSortedById() throws {
        var document = SpaceDocument(space: testSpace)
        var editor = Editor(6)
        for n in [53, 51, 52] {
            _ = document.createSession(entity(n), title: "Session \(n)", by: editor.next())
        }
        _ = document.delete(entity(52), by: editor.next())
        #expect(document.sessions.map(\.id) == [entity(51), entity(53)])
        #expect(document.sessions.allSatisfy { $0.status == .planned })
        // A deleted entity still reads by identifier: its content stays recoverable.
        #expect(DialogueSession(entity(52), in: document)?.title == "Session 52")
    }
}
