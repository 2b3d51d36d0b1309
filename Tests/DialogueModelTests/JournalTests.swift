import DialogueModel
import Foundation
import Testing

/// The journal a storage layer writes to its log: with the verbatim head omitted, the
/// head of the changes handed to `apply` is only counted, and the journal holds the rest,
/// so that head + journal is exactly what a full journal holds.
@Suite("Journal")
struct JournalTests {
    let space = SpaceID(UUID(uuidString: "5ace0000-0000-4000-8000-00000000a0b1")!)

    /// Five title writes by one author, and a text insert of three characters by another.
    func changes() -> [Change] {
        var document = SpaceDocument(space: space)
        let session = EntityID(UUID())
        let alice = EditContext(replica: ReplicaID(rawValue: 0xA1)!, timestamp: HLCTimestamp(wallTime: 1))
        var changes = [document.create(session, kind: EntityKind.session.rawValue, by: alice)]
        for title in ["a", "b", "c", "d"] { changes.append(document.set("title", of: session, to: .string(title), by: alice)) }
        let bob = EditContext(replica: ReplicaID(rawValue: 0xB0)!, timestamp: HLCTimestamp(wallTime: 2))
        changes += try! document.editText("summary", of: session, at: 0, insert: "xyz", by: bob)
        return changes
    }

    @Test("head counted, the rest journaled, the same as a full journal", arguments: 0..<4)
    func headPlusJournalIsEverythingApplied(variant: Int) throws {
        let all = changes()
        var prefix = SpaceDocument(space: space)
        // What the receiver already holds, and the batch it is handed.
        let (held, batch): ([Change], [Change]) =
            switch variant {
            case 0: ([], all)  // all whole, in order: everything counted
            case 1: ([], [all[0], all[1], all[1], all[2], all[4], all[3], all[5]])  // a duplicate, then a gap
            case 2: (Array(all[..<2]), Array(all[1...]))  // starts with a change already held
            // The text insert's last two characters alone (waiting for the first), then all of it.
            default: ([all[0]], [all[1], all[2], all[5].dropping(countersThrough: all[5].id.counter), all[3], all[4], all[5]])
            }
        try prefix.apply(held)
        var full = prefix
        var counted = prefix
        full.journal = []
        counted.startJournal(omittingVerbatimHead: true)
        for change in batch {
            let outcome = try full.apply(change)
            #expect(try counted.apply(change) == outcome)
        }
        let head = counted.verbatimJournalHead
        let applied = Array(batch[..<head]) + (counted.journal ?? [])
        #expect(applied.map(\.id) == full.journal!.map(\.id))
        #expect(applied.map(\.counterSpan) == full.journal!.map(\.counterSpan))
        #expect(counted.canonicalExport() == full.canonicalExport())
        if variant == 0 { #expect(head == batch.count && counted.journal!.isEmpty) }
        if variant == 1 { #expect(head == 2, "counting stops at the duplicate") }
        if variant == 2 { #expect(head == 0, "counting stops at a change already held") }
    }
}
