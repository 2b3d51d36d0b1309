import DialogueModel
import DialogueTestSupport
import Foundation
import Testing

/// Text integrated on a second thread (what a replica does in a large merge) must give
/// exactly the document that integrating in line gives, and refuse the same changes.
@Suite("Concurrent text integration")
struct ConcurrentTextIntegrationTests {
    let space = SpaceID(UUID(uuidString: "5ace0000-0000-4000-8000-00000000c0c0")!)
    let alice = ReplicaID(rawValue: 0xA1)!
    let bob = ReplicaID(rawValue: 0xB0)!

    @Test("the same changes, shuffled and duplicated, give the same document either way", arguments: 0..<120)
    func sameDocumentAsInLine(seed: UInt64) throws {
        var simulation = ConvergenceSimulation(seed: seed)
        try simulation.run()
        var random = SplitMix64(seed: seed ^ 0x7E47)
        var changes = simulation.allChanges.values.sorted { $0.id < $1.id }
        changes += changes.filter { _ in random.next() % 5 == 0 }
        // Shuffled: many changes wait for their past and are drained from the buffer,
        // which integrates in line even while the thread runs.
        changes.shuffle(using: &random)
        var inLine = SpaceDocument(space: simulation.space)
        var threaded = SpaceDocument(space: simulation.space)
        threaded.beginConcurrentTextIntegration()
        for change in changes {
            let expected = try inLine.apply(change)
            #expect(try threaded.apply(change) == expected, "seed \(seed): \(change.id)")
            // Now and then the integration ends and starts again (a merge's frames do).
            if random.next() % 40 == 0 {
                try threaded.endConcurrentTextIntegration()
                threaded.beginConcurrentTextIntegration()
            }
        }
        try threaded.endConcurrentTextIntegration()
        #expect(threaded.canonicalExportText() == inLine.canonicalExportText(), "seed \(seed)")
        #expect(threaded.vector == inLine.vector)
        #expect(threaded.pendingCount == 0 && threaded.quarantined.isEmpty, "seed \(seed)")
    }

    /// A session with "hello" in its summary, and Bob's copy of it.
    func sessionWithSummary() throws -> (document: SpaceDocument, session: EntityID, log: [Change]) {
        var document = SpaceDocument(space: space)
        let session = EntityID(UUID())
        let context = EditContext(replica: alice, timestamp: HLCTimestamp(wallTime: 1))
        var log = [document.create(session, kind: EntityKind.session.rawValue, by: context)]
        log += try document.editText(DialogueSession.Field.summary, of: session, at: 0, insert: "hello", by: context)
        return (document, session, log)
    }

    @Test("a text change naming an unknown element is refused when the integration ends, by its id")
    func refusalReportedAtTheEnd() throws {
        let (start, session, _) = try sessionWithSummary()
        let ghost = Dot(alice, 9_999)
        let timestamp = HLCTimestamp(wallTime: 2)
        for operation: DialogueModel.Operation in [
            .insertText(originLeft: ghost, originRight: nil, text: "x"),
            .deleteText([try! DotRange(replica: alice, firstCounter: 9_999, length: 2)]),
        ] {
            let bad = Change(
                id: Dot(bob, 1), timestamp: timestamp, space: space, entity: session, field: DialogueSession.Field.summary,
                operation: operation)
            var inLine = start
            #expect(throws: ChangeError.invalidReference(bad.id, .unknownElement(ghost))) { try inLine.apply(bad) }

            var threaded = start
            threaded.beginConcurrentTextIntegration()
            #expect(try threaded.apply(bad) == .applied, "queued, not checked yet")
            let later = Change(
                id: Dot(alice, 7), timestamp: timestamp, space: space, entity: session, field: DialogueSession.Field.title,
                operation: .set(.string("later"), predecessors: []))
            _ = try threaded.apply(later)
            #expect(throws: RefusedTextChange(change: bad.id, error: .invalidReference(bad.id, .unknownElement(ghost)))) {
                try threaded.endConcurrentTextIntegration()
            }
        }
    }

    @Test("a refused text change drained from the buffer is quarantined, as in line")
    func drainedRefusalQuarantined() throws {
        let (start, session, _) = try sessionWithSummary()
        let ghost = Dot(alice, 9_999)
        let timestamp = HLCTimestamp(wallTime: 2)
        let first = Change(
            id: Dot(bob, 1), timestamp: timestamp, space: space, entity: session, field: DialogueSession.Field.title,
            operation: .set(.string("Bob's"), predecessors: []))
        let bad = Change(
            id: Dot(bob, 2), timestamp: timestamp, space: space, entity: session, field: DialogueSession.Field.summary,
            operation: .insertText(originLeft: ghost, originRight: nil, text: "x"))
        let good = Change(
            id: Dot(alice, 7), timestamp: timestamp, space: space, entity: session, field: DialogueSession.Field.summary,
            operation: .insertText(originLeft: Dot(alice, 6), originRight: nil, text: "!"))
        var documents = [start, start]
        documents[1].beginConcurrentTextIntegration()
        for index in documents.indices {
            #expect(try documents[index].apply(bad) == .buffered)
            #expect(try documents[index].apply(good) == .applied)
            #expect(try documents[index].apply(first) == .applied)
        }
        try documents[1].endConcurrentTextIntegration()
        for document in documents {
            #expect(document.quarantined.map(\.change.id) == [bad.id])
            #expect(document.vector[bob] == 1, "the refused change is not recorded as held")
            #expect(document.text(DialogueSession.Field.summary, of: session) == "hello!")
        }
        #expect(documents[0].canonicalExportText() == documents[1].canonicalExportText())
    }

    @Test("the thread stops when the integration ends, and when the document is dropped without ending it")
    func threadStops() async throws {
        let (_, session, log) = try sessionWithSummary()
        for ending in [true, false] {
            weak var state: AnyObject?
            do {
                var document = SpaceDocument(space: space)
                document.beginConcurrentTextIntegration()
                state = document.textIntegrationThreadState
                #expect(state != nil)
                for change in log { try document.apply(change) }
                if ending {
                    try document.endConcurrentTextIntegration()
                    #expect(document.text(DialogueSession.Field.summary, of: session) == "hello")
                }
                // Otherwise dropped here, as a failed merge drops its documents.
            }
            // The thread holds its state until it exits: wait (bounded) for it to go.
            var waited = 0
            while state != nil, waited < 200 {
                try await Task.sleep(for: .milliseconds(10))
                waited += 1
            }
            #expect(state == nil, "the integration thread is still running (ending: \(ending))")
        }
    }
}
