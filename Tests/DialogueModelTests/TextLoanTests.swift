import DialogueModel
import DialogueTestSupport
import Foundation
import Testing

/// A document's texts lent out (what a replica's merge hands to a text thread) and
/// integrated by the borrower, here in line: the document must come out exactly as when it
/// integrates its text itself, and refuse the same changes. The document holds no thread.
@Suite("Texts lent out")
struct TextLoanTests {
    let space = SpaceID(UUID(uuidString: "5ace0000-0000-4000-8000-00000000c0c1")!)
    let alice = ReplicaID(rawValue: 0xA1)!
    let bob = ReplicaID(rawValue: 0xB0)!

    /// The borrower: the lent texts and the first refusal met integrating them.
    struct Borrower {
        var texts: FieldStore<TextSequence>
        var failure: RefusedTextChange?

        init(_ document: inout SpaceDocument) { texts = document.lendTexts() }

        mutating func integrate(from document: inout SpaceDocument) {
            for work in document.takeLentTextWork() where failure == nil {
                do throws(RefusedTextChange) { try texts.integrate(work) } catch { failure = error }
            }
        }

        /// Gives the texts back, everything queued integrated.
        consuming func giveBack(to document: inout SpaceDocument) throws(RefusedTextChange) {
            integrate(from: &document)
            document.returnTexts(texts)
            if let failure { throw failure }
        }
    }

    @Test("the same changes, shuffled and duplicated, give the same document with the texts lent", arguments: 0..<120)
    func sameDocumentAsInLine(seed: UInt64) throws {
        var simulation = ConvergenceSimulation(seed: seed)
        try simulation.run()
        var random = SplitMix64(seed: seed ^ 0x7E47)
        var changes = simulation.allChanges.values.sorted { $0.id < $1.id }
        changes += changes.filter { _ in random.next() % 5 == 0 }
        // Shuffled: many changes wait for their past and are drained from the buffer, and
        // a drained text change waits for the texts to come back.
        changes.shuffle(using: &random)
        var inLine = SpaceDocument(space: simulation.space)
        var lent = SpaceDocument(space: simulation.space)
        var borrower = Borrower(&lent)
        for change in changes {
            let expected = try inLine.apply(change)
            #expect(try lent.apply(change) == expected, "seed \(seed): \(change.id)")
            if lent.waitsForLentTexts {
                try borrower.giveBack(to: &lent)
                #expect(!lent.waitsForLentTexts)
                borrower = Borrower(&lent)
            } else if random.next() % 7 == 0 {
                borrower.integrate(from: &lent)
            } else if random.next() % 40 == 0 {
                try borrower.giveBack(to: &lent)
                borrower = Borrower(&lent)
            }
        }
        try borrower.giveBack(to: &lent)
        #expect(lent.canonicalExportText() == inLine.canonicalExportText(), "seed \(seed)")
        #expect(lent.vector == inLine.vector)
        #expect(lent.pendingCount == 0 && lent.quarantined.isEmpty, "seed \(seed)")
    }

    @Test("drained text changes wait for the texts in some of the shuffled histories")
    func drainedTextWaits() throws {
        var histories = 0
        for seed in UInt64(0)..<40 {
            var simulation = ConvergenceSimulation(seed: seed)
            try simulation.run()
            var random = SplitMix64(seed: seed ^ 0x7E47)
            var changes = simulation.allChanges.values.sorted { $0.id < $1.id }
            changes.shuffle(using: &random)
            var lent = SpaceDocument(space: simulation.space)
            var borrower = Borrower(&lent)
            var waited = false
            for change in changes {
                try lent.apply(change)
                if lent.waitsForLentTexts {
                    waited = true
                    try borrower.giveBack(to: &lent)
                    borrower = Borrower(&lent)
                }
            }
            try borrower.giveBack(to: &lent)
            if waited { histories += 1 }
        }
        #expect(histories > 0, "the path where a drained text change waits was never taken")
    }

    @Test("a text change naming an unknown element is queued as applied; the borrower refuses it by its id")
    func refusalFoundByTheBorrower() throws {
        let scenario = try LentTextScenario(space: space)
        let (start, session, ghost) = (scenario.document, scenario.session, scenario.ghost)
        for operation: DialogueModel.Operation in [
            .insertText(originLeft: ghost, originRight: nil, text: "x"),
            .deleteText([try! DotRange(replica: alice, firstCounter: 9_999, length: 2)]),
        ] {
            let bad = scenario.bobsBadEdit(operation)
            var inLine = start
            #expect(throws: ChangeError.invalidReference(bad.id, .unknownElement(ghost))) { try inLine.apply(bad) }

            var lent = start
            let borrower = Borrower(&lent)
            #expect(try lent.apply(bad) == .applied, "queued, not checked yet")
            #expect(lent.lentTextWorkCount == 1)
            let later = Change(
                id: Dot(alice, 7), timestamp: bad.timestamp, space: space, entity: session, field: DialogueSession.Field.title,
                operation: .set(.string("later"), predecessors: []))
            _ = try lent.apply(later)
            #expect(lent.lentTextWorkCount == 1, "only text changes are lent")
            #expect(throws: RefusedTextChange(change: bad.id, error: .invalidReference(bad.id, .unknownElement(ghost)))) {
                try borrower.giveBack(to: &lent)
            }
        }
    }

    @Test("a refused text change drained from the buffer waits for the texts, then is quarantined, as in line")
    func drainedRefusalQuarantined() throws {
        let scenario = try LentTextScenario(space: space)
        let (start, session) = (scenario.document, scenario.session)
        let (first, bad, good) = scenario.drainedRefusal()
        var documents = [start, start]
        var borrower = Borrower(&documents[1])
        for index in documents.indices {
            #expect(try documents[index].apply(bad) == .buffered)
            #expect(try documents[index].apply(good) == .applied)
            #expect(try documents[index].apply(first) == .applied)
        }
        #expect(documents[1].waitsForLentTexts, "the drained text change waits for the texts")
        #expect(documents[1].vector[bob] == 1 && documents[1].quarantined.isEmpty, "not applied, not refused yet")
        try borrower.giveBack(to: &documents[1])
        borrower = Borrower(&documents[1])
        try borrower.giveBack(to: &documents[1])
        for document in documents {
            #expect(document.quarantined.map(\.change.id) == [bad.id])
            #expect(document.vector[bob] == 1, "the refused change is not recorded as held")
            #expect(document.text(DialogueSession.Field.summary, of: session) == "hello!")
        }
        #expect(documents[0].canonicalExportText() == documents[1].canonicalExportText())
    }
}
