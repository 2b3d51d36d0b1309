import DialogueTestSupport
import Foundation
import Testing

@testable import DialogueModel

private let alice = ReplicaID(rawValue: 0xA11CE)!
private let bob = ReplicaID(rawValue: 0xB0B)!
private let space = SpaceID(UUID(byteArray: [UInt8](repeating: 0x5A, count: 16)))
private let note = EntityID(UUID(byteArray: [UInt8](repeating: 0x01, count: 16)))
private let other = EntityID(UUID(byteArray: [UInt8](repeating: 0x02, count: 16)))

/// One author's edit contexts with a ticking clock.
private struct Author {
    let replica: ReplicaID
    var wallTime: UInt64 = 1_700_000_000_000

    init(_ replica: ReplicaID) { self.replica = replica }

    mutating func next() -> EditContext {
        wallTime += 1
        return EditContext(replica: replica, timestamp: HLCTimestamp(wallTime: wallTime))
    }
}

/// Types `text` one scalar at a time at `offset`, as a keyboard does.
private func type(
    _ text: String, at offset: Int, into document: inout SpaceDocument, field: String = "body", entity: EntityID = note,
    by author: inout Author
) throws -> [Change] {
    var changes: [Change] = []
    for (index, scalar) in text.unicodeScalars.enumerated() {
        changes += try document.editText(field, of: entity, at: offset + index, insert: String(scalar), by: author.next())
    }
    return changes
}

/// A comparable rendering of a text field's runs, tombstones included.
private func runs(_ document: SpaceDocument, _ field: String = "body", of entity: EntityID = note) -> [String] {
    document.textSequence(field, of: entity)?.canonicalRuns.map { "\($0.first)+\($0.length)\($0.deleted ? "x" : "")" } ?? []
}

private func applied(_ changes: [Change]) throws -> SpaceDocument {
    var document = SpaceDocument(space: space)
    try document.apply(changes)
    return document
}

private func insertion(_ change: Change) -> (left: Dot?, right: Dot?, text: String)? {
    if case .insertText(let left, let right, let text) = change.operation { (left, right, text) } else { nil }
}

private func deletion(_ change: Change) -> [DotRange]? {
    if case .deleteText(let ranges) = change.operation { ranges } else { nil }
}

@Suite("ChangeCompactor")
struct ChangeCompactorTests {
    // MARK: What joins

    @Test func consecutiveTypingJoinsIntoOneInsertion() throws {
        var document = SpaceDocument(space: space)
        var author = Author(alice)
        let changes = try type("hello", at: 0, into: &document, by: &author)
        #expect(changes.count == 5)
        let compacted = ChangeCompactor.compact(changes)
        try #require(compacted.count == 1)
        let joined = compacted[0]
        #expect(joined.id == changes[0].id)
        #expect(joined.timestamp == changes[0].timestamp, "the joined change keeps the first timestamp")
        #expect(joined.counterSpan == changes.reduce(0) { $0 + $1.counterSpan })
        #expect(joined.counterSpan == 5)
        #expect(joined.lastCounter == changes.last!.lastCounter)
        #expect(joined.dependencies == changes[0].dependencies)
        let payload = try #require(insertion(joined))
        #expect(payload.text == "hello")
        #expect(payload.left == nil && payload.right == nil)
    }

    @Test func typingInTheMiddleJoinsAndKeepsTheRightOrigin() throws {
        var document = SpaceDocument(space: space)
        var author = Author(alice)
        let first = try type("ad", at: 0, into: &document, by: &author)
        let middle = try type("bc", at: 1, into: &document, by: &author)
        #expect(document.text("body", of: note) == "abcd")
        let compacted = ChangeCompactor.compact(first + middle)
        #expect(compacted.count == 2)
        let payload = try #require(insertion(compacted[1]))
        #expect(payload.text == "bc")
        #expect(payload.left == Dot(alice, 1))
        #expect(payload.right == Dot(alice, 2))
        #expect(compacted[1].counterSpan == 2)
    }

    @Test func multiScalarInsertionsSumTheirSpans() throws {
        var document = SpaceDocument(space: space)
        var author = Author(alice)
        var changes: [Change] = []
        for piece in ["👩‍👩‍👧", "é", "e\u{301}", "🇳🇿", "x"] {
            let offset = document.textSequence("body", of: note)?.count ?? 0
            changes += try document.editText("body", of: note, at: offset, insert: piece, by: author.next())
        }
        let compacted = ChangeCompactor.compact(changes)
        try #require(compacted.count == 1)
        #expect(compacted[0].counterSpan == changes.reduce(0) { $0 + $1.counterSpan })
        #expect(compacted[0].counterSpan == UInt64("👩‍👩‍👧é\u{65}\u{301}🇳🇿x".unicodeScalars.count))
        #expect(insertion(compacted[0])?.text == "👩‍👩‍👧ée\u{301}🇳🇿x")
    }

    @Test func backspacingJoinsIntoOneDeletion() throws {
        var document = SpaceDocument(space: space)
        var author = Author(alice)
        var changes = try type("hello", at: 0, into: &document, by: &author)
        for offset in stride(from: 4, through: 2, by: -1) {
            changes += try document.editText("body", of: note, at: offset, delete: 1, by: author.next())
        }
        #expect(document.text("body", of: note) == "he")
        let compacted = ChangeCompactor.compact(changes)
        try #require(compacted.count == 2)
        #expect(compacted[1].counterSpan == 3)
        #expect(compacted[1].id == Dot(alice, 6))
        #expect(deletion(compacted[1]) == [5, 4, 3].map { try! DotRange(replica: alice, firstCounter: $0, length: 1) })
    }

    @Test func forwardDeletingCoalescesRanges() throws {
        var document = SpaceDocument(space: space)
        var author = Author(alice)
        var changes = try type("hello", at: 0, into: &document, by: &author)
        for _ in 0..<3 { changes += try document.editText("body", of: note, at: 1, delete: 1, by: author.next()) }
        #expect(document.text("body", of: note) == "ho")
        let compacted = ChangeCompactor.compact(changes)
        try #require(compacted.count == 2)
        #expect(deletion(compacted[1]) == [try! DotRange(replica: alice, firstCounter: 2, length: 3)])
        #expect(compacted[1].counterSpan == 3)
    }

    @Test func changesWithDependenciesDoNotJoin() throws {
        // Alice types, then receives Bob's edit, then types on: her next change names Bob's.
        var aliceDocument = SpaceDocument(space: space)
        var bobDocument = SpaceDocument(space: space)
        var aliceAuthor = Author(alice)
        var bobAuthor = Author(bob)
        let first = try type("ab", at: 0, into: &aliceDocument, by: &aliceAuthor)
        let bobs = try bobDocument.editText("title", of: note, at: 0, insert: "T", by: bobAuthor.next())
        try aliceDocument.apply(bobs)
        let second = try type("cd", at: 2, into: &aliceDocument, by: &aliceAuthor)
        #expect(second[0].dependencies == [Dot(bob, 1)])
        #expect(second[1].dependencies.isEmpty)
        let compacted = ChangeCompactor.compact(first + second)
        #expect(compacted.count == 2)
        #expect(insertion(compacted[0])?.text == "ab")
        #expect(insertion(compacted[1])?.text == "cd")
        #expect(compacted[1].dependencies == [Dot(bob, 1)], "the dependency is kept on the change that starts the run")
    }

    @Test func aHandBuiltDependencyPreventsJoining() {
        let first = Change(
            id: Dot(alice, 1), timestamp: HLCTimestamp(wallTime: 1), space: space, entity: note, field: "body",
            operation: .insertText(originLeft: nil, originRight: nil, text: "a"))
        var next = Change(
            id: Dot(alice, 2), timestamp: HLCTimestamp(wallTime: 2), space: space, entity: note, field: "body",
            operation: .insertText(originLeft: Dot(alice, 1), originRight: nil, text: "b"))
        #expect(ChangeCompactor.compact([first, next]).count == 1)
        #expect(ChangeCompactor.continues(first, with: next))
        next.dependencies = [Dot(bob, 7)]
        #expect(!ChangeCompactor.continues(first, with: next))
        #expect(ChangeCompactor.compact([first, next]) == [first, next])
    }

    @Test func differentFieldsDoNotJoin() throws {
        var document = SpaceDocument(space: space)
        var author = Author(alice)
        var changes: [Change] = []
        for index in 0..<4 {
            changes += try document.editText(
                index.isMultiple(of: 2) ? "body" : "title", of: note, at: index / 2, insert: "x", by: author.next())
        }
        #expect(ChangeCompactor.compact(changes) == changes)
    }

    @Test func differentEntitiesDoNotJoin() throws {
        var document = SpaceDocument(space: space)
        var author = Author(alice)
        let changes =
            try document.editText("body", of: note, at: 0, insert: "a", by: author.next())
            + document.editText("body", of: other, at: 0, insert: "b", by: author.next())
        #expect(ChangeCompactor.compact(changes) == changes)
    }

    @Test func otherBreaksInARunDoNotJoin() {
        func text(_ counter: UInt64, left: Dot?, right: Dot? = nil, replica: ReplicaID = alice, in changeSpace: SpaceID = space) -> Change {
            Change(
                id: Dot(replica, counter), timestamp: HLCTimestamp(wallTime: counter), space: changeSpace, entity: note, field: "body",
                operation: .insertText(originLeft: left, originRight: right, text: "z"))
        }
        let start = text(1, left: nil)
        #expect(ChangeCompactor.compact([start, text(2, left: Dot(alice, 1))]).count == 1, "control: a true continuation joins")
        #expect(ChangeCompactor.compact([start, text(3, left: Dot(alice, 1))]).count == 2, "a gap in counters")
        #expect(ChangeCompactor.compact([start, text(2, left: nil)]).count == 2, "not after the last character")
        #expect(ChangeCompactor.compact([start, text(2, left: Dot(alice, 1), right: Dot(bob, 1))]).count == 2, "another right origin")
        #expect(ChangeCompactor.compact([start, text(1, left: Dot(alice, 1), replica: bob)]).count == 2, "another author")
        let elsewhere = SpaceID(UUID(byteArray: [UInt8](repeating: 0x77, count: 16)))
        #expect(ChangeCompactor.compact([start, text(2, left: Dot(alice, 1), in: elsewhere)]).count == 2, "another space")
        // Insertions and deletions never join each other; register writes never join.
        let delete = Change(
            id: Dot(alice, 2), timestamp: HLCTimestamp(wallTime: 2), space: space, entity: note, field: "body",
            operation: .deleteText([try! DotRange(replica: alice, firstCounter: 1, length: 1)]))
        #expect(ChangeCompactor.compact([start, delete]).count == 2)
        let set1 = Change(
            id: Dot(alice, 1), timestamp: HLCTimestamp(wallTime: 1), space: space, entity: note, field: "t",
            operation: .set(.int(1), predecessors: []))
        let set2 = Change(
            id: Dot(alice, 2), timestamp: HLCTimestamp(wallTime: 2), space: space, entity: note, field: "t",
            operation: .set(.int(2), predecessors: [Dot(alice, 1)]))
        #expect(ChangeCompactor.compact([set1, set2]) == [set1, set2])
    }

    @Test func incrementalAndBatchCompactionAgree() throws {
        var document = SpaceDocument(space: space)
        var author = Author(alice)
        var changes = try type("abc", at: 0, into: &document, by: &author)
        changes += try document.editText("body", of: note, at: 1, delete: 1, insert: "XY", by: author.next())
        changes += try type("def", at: 3, into: &document, by: &author)
        var compactor = ChangeCompactor()
        for (index, change) in changes.enumerated() {
            compactor.append(change)
            #expect(compactor.changes == ChangeCompactor.compact(changes.prefix(index + 1)), "after \(index + 1)")
        }
        #expect(ChangeCompactor().changes.isEmpty)
    }

    // MARK: Applying compacted changes

    /// A random editing session by one or two authors who sync now and then; returns the
    /// log of changes in the order made (a causal order) and the final documents.
    private static func session(seed: UInt64, authors: Int) throws -> (log: [Change], documents: [SpaceDocument]) {
        var random = SplitMix64(seed: seed)
        let replicas = [alice, bob].prefix(authors)
        var documents = replicas.map { _ in SpaceDocument(space: space) }
        var editors = replicas.map { Author($0) }
        var logs: [[Change]] = replicas.map { _ in [] }
        var log: [Change] = []
        var cursors = replicas.map { _ in 0 }
        let fields = ["body", "body", "body", "title"]
        for _ in 0..<120 {
            let who = Int.random(in: 0..<replicas.count, using: &random)
            if replicas.count > 1, Int.random(in: 0..<12, using: &random) == 0 {
                // Sync: take everything the other author made.
                try documents[who].apply(logs[1 - who])
            }
            let field = fields.randomElement(using: &random)!
            let length = documents[who].textSequence(field, of: note)?.count ?? 0
            var cursor = min(cursors[who], length)
            if Int.random(in: 0..<8, using: &random) == 0 { cursor = Int.random(in: 0...length, using: &random) }
            let made: [Change]
            let roll = Int.random(in: 0..<10, using: &random)
            if roll < 6 || length == 0 {
                let piece = ["a", "b", "🙂", "é", " ", "ab", "e\u{301}"].randomElement(using: &random)!
                made = try documents[who].editText(field, of: note, at: cursor, insert: piece, by: editors[who].next())
                cursor += piece.unicodeScalars.count
            } else if roll < 8, cursor > 0 {
                // Backspace.
                made = try documents[who].editText(field, of: note, at: cursor - 1, delete: 1, by: editors[who].next())
                cursor -= 1
            } else if roll == 8, cursor < length {
                // Forward delete.
                made = try documents[who].editText(field, of: note, at: cursor, delete: 1, by: editors[who].next())
            } else if cursor < length {
                // Replace a selection.
                let count = Int.random(in: 1...(length - cursor), using: &random)
                made = try documents[who].editText(field, of: note, at: cursor, delete: count, insert: "R", by: editors[who].next())
                cursor += 1
            } else {
                made = try documents[who].editText(field, of: note, at: cursor, insert: "k", by: editors[who].next())
                cursor += 1
            }
            cursors[who] = cursor
            logs[who] += made
            log += made
        }
        return (log, documents)
    }

    private static func expectSame(_ left: SpaceDocument, _ right: SpaceDocument, _ context: String) {
        for field in ["body", "title"] {
            #expect(left.text(field, of: note) == right.text(field, of: note), "\(context): text of \(field)")
            #expect(runs(left, field) == runs(right, field), "\(context): runs of \(field)")
        }
        #expect(left.vector == right.vector, "\(context): vector")
        #expect(left.canonicalExportText().utf8.elementsEqual(right.canonicalExportText().utf8), "\(context): canonical export")
    }

    @Test("compacted changes give the same document", arguments: 0..<30)
    func compactedChangesGiveTheSameDocument(seed: UInt64) throws {
        let (log, documents) = try Self.session(seed: seed, authors: seed.isMultiple(of: 3) ? 2 : 1)
        let compacted = ChangeCompactor.compact(log)
        #expect(compacted.count < log.count, "seed \(seed): typing runs should have joined")
        #expect(
            compacted.reduce(0) { $0 + $1.counterSpan } == log.reduce(0) { $0 + $1.counterSpan },
            "seed \(seed): compaction keeps every counter")
        let fromLog = try applied(log)
        let fromCompacted = try applied(compacted)
        #expect(fromCompacted.pendingCount == 0)
        #expect(fromCompacted.quarantined.isEmpty)
        Self.expectSame(fromLog, fromCompacted, "seed \(seed)")
        if documents.count == 1 { Self.expectSame(documents[0], fromCompacted, "seed \(seed) vs author") }
        // Compacted changes survive the codec too.
        #expect(try ChangeCodec.decode(ChangeCodec.encode(compacted)) == compacted, "seed \(seed)")
    }

    @Test("a receiver holding a prefix of a joined run takes the rest", arguments: 0..<30)
    func receiverHoldingAPrefix(seed: UInt64) throws {
        let (log, _) = try Self.session(seed: 100 + seed, authors: seed.isMultiple(of: 3) ? 2 : 1)
        let compacted = ChangeCompactor.compact(log)
        let reference = try applied(log)
        var random = SplitMix64(seed: seed)
        // Prefixes that end inside a joined run: log[i] and log[i + 1] were joined.
        let insideRuns = (0..<log.count - 1).filter { ChangeCompactor.continues(log[$0], with: log[$0 + 1]) }.map { $0 + 1 }
        #expect(!insideRuns.isEmpty, "seed \(seed): no joined runs")
        var prefixes = [0, 1, log.count]
        for _ in 0..<4 { prefixes.append(Int.random(in: 0...log.count, using: &random)) }
        for _ in 0..<6 { if let inside = insideRuns.randomElement(using: &random) { prefixes.append(inside) } }
        for held in prefixes {
            var receiver = try applied(Array(log.prefix(held)))
            var outcomes: [ApplyOutcome] = []
            for change in compacted { outcomes.append(try receiver.apply(change)) }
            #expect(!outcomes.contains(.buffered), "seed \(seed) held \(held)")
            #expect(receiver.pendingCount == 0, "seed \(seed) held \(held)")
            #expect(receiver.quarantined.isEmpty, "seed \(seed) held \(held)")
            Self.expectSame(reference, receiver, "seed \(seed) held \(held)")
        }
    }

    @Test func receiverHoldingPartOfAJoinedInsertion() throws {
        var document = SpaceDocument(space: space)
        var author = Author(alice)
        let changes = try type("hello", at: 0, into: &document, by: &author)
        let joined = ChangeCompactor.compact(changes)
        try #require(joined.count == 1)
        for held in 0...changes.count {
            var receiver = try applied(Array(changes.prefix(held)))
            let outcome = try receiver.apply(joined[0])
            #expect(outcome == (held == changes.count ? .alreadyHeld : .applied), "held \(held)")
            #expect(receiver.text("body", of: note) == "hello", "held \(held)")
            #expect(runs(receiver) == runs(document), "held \(held)")
            #expect(receiver.vector == document.vector, "held \(held)")
        }
    }

    @Test func receiverHoldingPartOfAJoinedDeletion() throws {
        var document = SpaceDocument(space: space)
        var author = Author(alice)
        let typed = try type("abcdefgh", at: 0, into: &document, by: &author)
        var deletions: [Change] = []
        for offset in [6, 5, 1, 1, 1] { deletions += try document.editText("body", of: note, at: offset, delete: 1, by: author.next()) }
        #expect(document.text("body", of: note) == "aeh")
        let joined = ChangeCompactor.compact(deletions)
        try #require(joined.count == 1)
        #expect(joined[0].counterSpan == 5)
        for held in 0...deletions.count {
            var receiver = try applied(typed + deletions.prefix(held))
            try receiver.apply(joined[0])
            #expect(receiver.text("body", of: note) == "aeh", "held \(held)")
            #expect(runs(receiver) == runs(document), "held \(held)")
        }
    }

    // MARK: Change.dropping

    @Test func droppingAPrefixOfAnInsertion() {
        let change = Change(
            id: Dot(alice, 10), timestamp: HLCTimestamp(wallTime: 5), space: space, entity: note, field: "body",
            dependencies: [Dot(bob, 2)], operation: .insertText(originLeft: Dot(bob, 1), originRight: Dot(bob, 2), text: "a🙂c"))
        let rest = change.dropping(countersThrough: 11)
        #expect(rest.id == Dot(alice, 12))
        #expect(rest.counterSpan == 1)
        #expect(rest.lastCounter == change.lastCounter)
        #expect(insertion(rest)?.text == "c")
        #expect(insertion(rest)?.left == Dot(alice, 11), "the rest starts right after the last character held")
        #expect(insertion(rest)?.right == Dot(bob, 2))
        #expect(rest.timestamp == change.timestamp)
        #expect(rest.dependencies == change.dependencies)
    }

    @Test func droppingAPrefixOfADeletion() {
        let change = Change(
            id: Dot(alice, 20), timestamp: HLCTimestamp(wallTime: 5), space: space, entity: note, field: "body",
            operation: .deleteText([
                try! DotRange(replica: bob, firstCounter: 5, length: 3), try! DotRange(replica: alice, firstCounter: 1, length: 2),
            ]))
        let throughFirstRange = change.dropping(countersThrough: 22)
        #expect(throughFirstRange.id == Dot(alice, 23))
        #expect(deletion(throughFirstRange) == [try! DotRange(replica: alice, firstCounter: 1, length: 2)])
        let insideFirstRange = change.dropping(countersThrough: 20)
        #expect(insideFirstRange.id == Dot(alice, 21))
        #expect(
            deletion(insideFirstRange) == [
                try! DotRange(replica: bob, firstCounter: 6, length: 2), try! DotRange(replica: alice, firstCounter: 1, length: 2),
            ])
        #expect(insideFirstRange.counterSpan == 4)
        let insideSecondRange = change.dropping(countersThrough: 23)
        #expect(deletion(insideSecondRange) == [try! DotRange(replica: alice, firstCounter: 2, length: 1)])
        #expect(insideSecondRange.lastCounter == change.lastCounter)
    }
}
