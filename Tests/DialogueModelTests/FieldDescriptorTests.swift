import DialogueModel
import Foundation
import Testing

/// The field descriptors and the merge check derived from them: a change whose value
/// breaks its field's rule, or whose operation belongs to another CRDT, is refused by
/// `SpaceDocument.apply` with `ChangeError.invalidValue` and changes nothing.
@Suite struct FieldDescriptorTests {
    static let space = SpaceID("6f1c2a3e-0000-4000-8000-0000000000f1")!
    static let alice = ReplicaID(rawValue: 0xA11CE)!
    static let mallory = ReplicaID(rawValue: 0x0BAD)!
    static let session = EntityID("00000000-0000-4000-8000-0000000000a1")!

    /// A document holding one session created by Alice.
    static func document() -> (SpaceDocument, Change) {
        var document = SpaceDocument(space: space)
        let create = document.create(session, kind: .session, by: EditContext(replica: alice, timestamp: HLCTimestamp(wallTime: 1_000)))
        return (document, create)
    }

    /// Mallory's change to the session, made after she saw its creation.
    static func malloryChange(_ field: String, _ operation: DialogueModel.Operation, counter: UInt64 = 1, after create: Change) -> Change {
        Change(
            id: Dot(mallory, counter), timestamp: HLCTimestamp(wallTime: 2_000), space: space, entity: session, field: field,
            dependencies: [create.id], operation: operation)
    }

    @Test func everyKindDeclaresEachFieldOnceWithStorageMatchingItsCRDT() {
        for kind in EntityKind.allCases {
            let names = kind.fields.map(\.name)
            #expect(Set(names).count == names.count, "\(kind) declares a field twice")
            var columns: [String] = []
            for field in kind.fields {
                #expect(kind.field(named: field.name) == field)
                switch (field.type, field.storage) {
                case (.register, .column(let column)), (.text, .column(let column)): columns.append(column)
                case (.set, .childTable), (.list, .childTable): break
                default: Issue.record("\(kind).\(field.name): \(field.type) stored as \(field.storage)")
                }
            }
            #expect(Set(columns).count == columns.count, "\(kind) maps two fields to one column")
            #expect(kind.field(named: "noSuchField") == nil)
        }
        #expect(DialogueSession.Key.scheduledAt.descriptor.rule == .timestamp)
        #expect(DialogueSession.Field.scheduledAt == DialogueSession.Key.scheduledAt.name)
        #expect(EntityKind.session.fieldType(of: "scheduledAt") == .register)
    }

    @Test(arguments: [
        (ValueRule.timestamp, FieldValue.string("soon"), false), (.timestamp, .timestamp(5), true), (.timestamp, .int(5), false),
        (.timestamp, .null, true), (.nonEmptyText, .string("  "), false), (.nonEmptyText, .null, false),
        (.nonEmptyText, .string("Title"), true), (.text, .string(""), true), (.text, .bool(true), false),
        (.reference, .string("x"), false), (.date, .string("2026-02-29"), false), (.date, .string("2028-02-29"), true),
        (.date, .string("2026-1-01"), false), (.date, .string("+026-01-01"), false), (.date, .timestamp(1), false),
        (.vocabulary(SessionStatus.self), .string("planned"), true), (.vocabulary(SessionStatus.self), .string("postponed"), false),
    ])
    func rulesArePureFunctionsOfTheValue(rule: ValueRule, value: FieldValue, accepted: Bool) {
        #expect(rule.accepts(value) == accepted, "\(rule) on \(value)")
    }

    @Test func aWronglyTypedValueIsRefusedAndChangesNothing() throws {
        let (original, create) = Self.document()
        var document = original
        let poisoned = Self.malloryChange(
            DialogueSession.Field.scheduledAt, .set(.string("soon"), predecessors: []), after: create)
        #expect(throws: ChangeError.invalidValue(poisoned.id, reason: "the session's scheduled time must be a timestamp, got a string")) {
            try document.apply(poisoned)
        }
        #expect(document.canonicalExport() == original.canonicalExport())
        #expect(document.vector == original.vector)
        // The same value, well typed, is accepted.
        try document.apply(
            Self.malloryChange(DialogueSession.Field.scheduledAt, .set(.timestamp(1_780_000_000_000), predecessors: []), after: create))
        #expect(DialogueSession(Self.session, in: document)?.scheduledAt == 1_780_000_000_000)
    }

    @Test(arguments: [
        (DialogueSession.Field.title, DialogueModel.Operation.set(.string(" "), predecessors: [])),
        (DialogueSession.Field.title, .set(.null, predecessors: [])),
        (DialogueSession.Field.status, .set(.string("postponed"), predecessors: [])),
        (DialogueSession.Field.facilitator, .set(.string("Ada"), predecessors: [])),
        (DialogueSession.Field.participants, .add(.string("Ada"))),
        (DialogueSession.Field.agenda, .insertItem(originLeft: nil, originRight: nil, value: .int(3))),
        // Operations of another CRDT than the field's.
        (DialogueSession.Field.title, .insertText(originLeft: nil, originRight: nil, text: "hi")),
        (DialogueSession.Field.summary, .set(.string("hi"), predecessors: [])),
        (DialogueSession.Field.participants, .set(.null, predecessors: [])),
        (DialogueSession.Field.agenda, .add(.null)),
    ])
    func changesThatBreakTheirFieldAreRefused(field: String, operation: DialogueModel.Operation) {
        let (original, create) = Self.document()
        var document = original
        let change = Self.malloryChange(field, operation, after: create)
        #expect(document.valueProblem(of: change) != nil)
        do throws(ChangeError) {
            try document.apply(change)
            Issue.record("applied \(operation) to \(field)")
        } catch {
            if case .invalidValue(let dot, _) = error { #expect(dot == change.id) } else { Issue.record("refused as \(error)") }
        }
        #expect(document.canonicalExport() == original.canonicalExport())
    }

    @Test func unknownFieldsKindsAndRemovalsAreStoredAsBefore() throws {
        let (original, create) = Self.document()
        var document = original
        // A field a newer version added, a removal of a bad member (a repair), a kind this version does not know.
        try document.apply(Self.malloryChange("mood", .set(.int(3), predecessors: []), after: create))
        try document.apply(
            Self.malloryChange(DialogueSession.Field.participants, .remove(.string("Ada"), observed: []), counter: 2, after: create))
        let newer = EntityID("00000000-0000-4000-8000-0000000000b2")!
        try document.apply(
            Change(
                id: Dot(Self.mallory, 3), timestamp: HLCTimestamp(wallTime: 3_000), space: Self.space, entity: newer, field: "",
                operation: .create(kind: "poll", predecessors: [])))
        try document.apply(
            Change(
                id: Dot(Self.mallory, 4), timestamp: HLCTimestamp(wallTime: 3_001), space: Self.space, entity: newer, field: "title",
                operation: .set(.int(1), predecessors: [])))
        #expect(document.value("mood", of: Self.session) == .int(3))
        #expect(document.value("title", of: newer) == .int(1))
    }

    @Test func aBufferedChangeIsCheckedWhenItsCausalPastArrives() throws {
        let (original, create) = Self.document()
        var document = SpaceDocument(space: Self.space)
        let poisoned = Self.malloryChange(DialogueSession.Field.scheduledAt, .set(.string("soon"), predecessors: []), after: create)
        #expect(try document.apply(poisoned) == .buffered)
        try document.apply(create)
        #expect(document.quarantined.map(\.change.id) == [poisoned.id])
        if case .invalidValue = document.quarantined.first?.error {} else { Issue.record("not refused as invalid") }
        #expect(document.canonicalExport() == original.canonicalExport())
    }

    @Test func aCreationArrivingBetweenTwoChangesOfItsEntityIsSeenByTheSecondCheck() throws {
        let (_, create) = Self.document()
        var document = SpaceDocument(space: Self.space)
        // A hand-made change to the entity before its creation (kind unknown: not checked)…
        let early = Change(
            id: Dot(Self.mallory, 1), timestamp: HLCTimestamp(wallTime: 500), space: Self.space, entity: Self.session,
            field: DialogueSession.Field.focus, operation: .set(.string("early"), predecessors: []))
        try document.apply(early)
        try document.apply(create)
        // …then one after it: checked against the kind the creation brought.
        let late = Self.malloryChange(DialogueSession.Field.scheduledAt, .set(.string("soon"), predecessors: []), counter: 2, after: create)
        #expect(throws: ChangeError.self) { try document.apply(late) }
        #expect(document.value(DialogueSession.Field.scheduledAt, of: Self.session) == nil)
    }

    @Test func typedReadsTellAnInvalidValueFromAnAbsentOne() throws {
        var (document, create) = Self.document()
        #expect(document.read(DialogueSession.Key.scheduledAt, of: Self.session) == .absent)
        // A value stored before values were checked, as a log replayed at open holds it.
        try document.replay([Self.malloryChange(DialogueSession.Field.scheduledAt, .set(.string("soon"), predecessors: []), after: create)])
        #expect(document.read(DialogueSession.Key.scheduledAt, of: Self.session) == .invalid(.string("soon")))
        #expect(DialogueSession(Self.session, in: document)?.scheduledAt == nil)
        // The next valid write replaces it.
        let context = EditContext(replica: Self.alice, timestamp: HLCTimestamp(wallTime: 5_000))
        _ = document.set(DialogueSession.Field.scheduledAt, of: Self.session, to: .timestamp(1_780_000_000_000), by: context)
        #expect(document.read(DialogueSession.Key.scheduledAt, of: Self.session) == .value(Date(millisecondsSinceEpoch: 1_780_000_000_000)))
    }
}
