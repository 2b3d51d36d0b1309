import DialogueModel
import Foundation

/// A small, realistic history every target starts from: two leaders' devices planning a
/// session together, concurrently editing its summary and agenda, one deleting a prompt,
/// then the text of an insight erased by its author (so the log holds an erasure and
/// stripped changes, as a store's does after one). Fixed identifiers and timestamps,
/// so seeds are the same on every run.
enum FuzzCorpus {
    static let space = SpaceID(UUID(uuidString: "5ba7ed00-0000-4000-8000-000000000001")!)
    static let hill = ReplicaID(rawValue: 0xA1)!
    static let vale = ReplicaID(rawValue: 0xB2)!
    static let session = EntityID(UUID(uuidString: "5e55e55e-0000-4000-8000-000000000001")!)
    static let member = EntityID(UUID(uuidString: "3e3be300-0000-4000-8000-000000000001")!)
    static let note = EntityID(UUID(uuidString: "a0a0a0a0-0000-4000-8000-000000000001")!)

    /// The history in an order a replica can apply (each device's changes in order, the
    /// other's after it saw them).
    static func changes(in space: SpaceID = space) -> [Change] {
        var hillDocument = SpaceDocument(space: space)
        var valeDocument = SpaceDocument(space: space)
        var log: [Change] = []
        var wall: UInt64 = 1_765_000_000_000
        func by(_ replica: ReplicaID) -> EditContext {
            wall += 1_000
            return EditContext(replica: replica, timestamp: HLCTimestamp(wallTime: wall))
        }
        func record(_ changes: [Change], into other: inout SpaceDocument) {
            log += changes
            try! other.apply(changes)  // the other device's own edits: always valid
        }
        let prompts = Array(PromptLibrary.starter.prefix(3))
        record(hillDocument.createSession(session, title: "Feedback that moves learning", by: by(hill)), into: &valeDocument)
        record(
            [hillDocument.set(DialogueSession.Field.scheduledAt, of: session, to: .timestamp(1_765_400_000_000), by: by(hill))],
            into: &valeDocument)
        record(
            [hillDocument.add(.reference(member), toSet: DialogueSession.Field.participants, of: session, by: by(hill))].compactMap { $0 },
            into: &valeDocument)
        record(
            try! hillDocument.editText(DialogueSession.Field.summary, of: session, at: 0, insert: "We met at Hill. ", by: by(hill)),
            into: &valeDocument)
        for prompt in prompts {
            record(hillDocument.addStarterPrompt(prompt, by: by(hill)), into: &valeDocument)
            record([try! hillDocument.appendToAgenda(prompt.id, of: session, by: by(hill))], into: &valeDocument)
        }
        record([hillDocument.create(note, kind: "insight", by: by(hill))], into: &valeDocument)
        record(
            try! hillDocument.editText(Insight.Field.text, of: note, at: 0, insert: "Pupil A froze at the board", by: by(hill)),
            into: &valeDocument)
        // Concurrent edits on both devices, then each receives the other's.
        var hillEdits: [Change] = []
        hillEdits += try! hillDocument.editText(
            DialogueSession.Field.summary, of: session, at: 3, delete: 4, insert: "gathered", by: by(hill))
        hillEdits.append(try! hillDocument.moveItem(from: 0, to: 2, inList: DialogueSession.Field.agenda, of: session, by: by(hill)))
        hillEdits.append(hillDocument.set(DialogueSession.Field.focus, of: session, to: .string("Oral feedback in Y5 — 😊"), by: by(hill)))
        var valeEdits: [Change] = []
        valeEdits += try! valeDocument.editText(
            DialogueSession.Field.summary, of: session, at: 16, insert: "Vale brought marking samples.", by: by(vale))
        valeEdits.append(try! valeDocument.removeItem(at: 1, inList: DialogueSession.Field.agenda, of: session, by: by(vale)))
        valeEdits.append(valeDocument.delete(note, by: by(vale)))
        valeEdits += [valeDocument.remove(.reference(member), fromSet: DialogueSession.Field.participants, of: session, by: by(vale))]
            .compactMap { $0 }
        valeEdits.append(valeDocument.set(DialogueSession.Field.focus, of: session, to: .string("Written feedback"), by: by(vale)))
        record(hillEdits, into: &valeDocument)
        record(valeEdits, into: &hillDocument)
        record(
            try! valeDocument.editText(DialogueSession.Field.summary, of: session, at: 0, delete: 2, insert: "Two schools", by: by(vale)),
            into: &hillDocument)
        // Hill erases the text of the insight she wrote (her own: no approval needed).
        record([hillDocument.erase(Erasure(target: .field(note, Insight.Field.text)), by: by(hill))], into: &valeDocument)
        return hillDocument.strippingErased(log).changes
    }

    /// The document holding the whole history.
    static let document: SpaceDocument = {
        var document = SpaceDocument(space: space)
        try! document.apply(changes())
        return document
    }()
}
