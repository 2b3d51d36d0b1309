import DialogueModel
import DialogueTestSupport
import Foundation
import Testing

@testable import DialogueSync

/// Text integrated on a thread of its own (what a replica does in a large merge, through
/// ``TextThreads``) must give exactly the document that integrating in line gives, and
/// refuse the same changes.
@Suite("Text threads")
struct TextThreadsTests {
    let space = SpaceID(UUID(uuidString: "5ace0000-0000-4000-8000-00000000c0c0")!)
    let alice = ReplicaID(rawValue: 0xA1)!
    let bob = ReplicaID(rawValue: 0xB0)!

    @Test("the same changes, shuffled and duplicated, give the same document either way", arguments: 0..<40)
    func sameDocumentAsInLine(seed: UInt64) throws {
        let (log, _) = try ReplicaConvergenceTests.typingLog(in: space, seed: seed, steps: 600)
        var random = SplitMix64(seed: seed ^ 0x7E47)
        var changes = log + log.filter { _ in random.next() % 5 == 0 }
        // Shuffled: many changes wait for their past and are drained from the buffer; a
        // drained text change brings the texts back from the thread.
        changes.shuffle(using: &random)
        var inLine = SpaceDocument(space: space)
        var threaded = SpaceDocument(space: space)
        var threads = TextThreads(threshold: 1)
        _ = threads.start(space, &threaded, frameSize: 1)
        var restarts = 0
        for change in changes {
            let expected = try inLine.apply(change)
            let outcome = try threaded.apply(change)
            #expect(outcome == expected, "seed \(seed): \(change.id)")
            let handOverAll = random.next() % 3 == 0
            try threads.feed(space, &threaded, all: handOverAll)
            // Now and then the thread ends and another starts (a merge's frames do).
            if random.next() % 40 == 0 {
                try threads.end(space, &threaded)
                _ = threads.start(space, &threaded, frameSize: 1)
                restarts += 1
            }
        }
        try threads.end(space, &threaded)
        #expect(!threads.runs(space) && restarts > 0)
        #expect(threaded.canonicalExportText() == inLine.canonicalExportText(), "seed \(seed)")
        #expect(threaded.vector == inLine.vector)
        #expect(threaded.pendingCount == 0 && threaded.quarantined.isEmpty, "seed \(seed)")
    }

    @Test("a text change naming an unknown element is refused when the thread ends, by its id")
    func refusalReportedAtTheEnd() throws {
        let scenario = try LentTextScenario(space: space)
        let (start, ghost) = (scenario.document, scenario.ghost)
        let bad = scenario.bobsBadEdit(.insertText(originLeft: ghost, originRight: nil, text: "x"))
        var threaded = start
        var threads = TextThreads(threshold: 1)
        _ = threads.start(space, &threaded, frameSize: 1)
        #expect(try threaded.apply(bad) == .applied, "queued, not checked yet")
        try threads.feed(space, &threaded, all: true)
        #expect(throws: RefusedTextChange(change: bad.id, error: .invalidReference(bad.id, .unknownElement(ghost)))) {
            try threads.end(space, &threaded)
        }
    }

    @Test("a refused text change drained from the buffer is quarantined, as in line")
    func drainedRefusalQuarantined() throws {
        let scenario = try LentTextScenario(space: space)
        let (start, session) = (scenario.document, scenario.session)
        let (first, bad, good) = scenario.drainedRefusal()
        var documents = [start, start]
        var threads = TextThreads(threshold: 1)
        _ = threads.start(space, &documents[1], frameSize: 1)
        for index in documents.indices {
            #expect(try documents[index].apply(bad) == .buffered)
            #expect(try documents[index].apply(good) == .applied)
            #expect(try documents[index].apply(first) == .applied)
            if index == 1 { try threads.feed(space, &documents[1]) }
        }
        #expect(threads.runs(space), "the texts went back to a thread after the drained change")
        try threads.end(space, &documents[1])
        for document in documents {
            #expect(document.quarantined.map(\.change.id) == [bad.id])
            #expect(document.vector[bob] == 1, "the refused change is not recorded as held")
            #expect(document.text(DialogueSession.Field.summary, of: session) == "hello!")
        }
        #expect(documents[0].canonicalExportText() == documents[1].canonicalExportText())
    }

    @Test("the thread stops when it ends, and when the merge drops it without ending it")
    func threadStops() async throws {
        let scenario = try LentTextScenario(space: space)
        let (session, log) = (scenario.session, scenario.log)
        for ending in [true, false] {
            weak var state: AnyObject?
            do {
                var document = SpaceDocument(space: space)
                var threads = TextThreads(threshold: 1)
                _ = threads.start(space, &document, frameSize: 1)
                state = threads.threadState(of: space)
                #expect(state != nil)
                for change in log { try document.apply(change) }
                try threads.feed(space, &document, all: true)
                if ending {
                    try threads.end(space, &document)
                    #expect(document.text(DialogueSession.Field.summary, of: session) == "hello")
                }
                // Otherwise dropped here, as a failed merge drops its threads.
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
