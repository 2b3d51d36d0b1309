import DialogueTestSupport
import Foundation
import Testing

@testable import DialogueModel

/// Counters, lengths and offsets from outside at the edges of `UInt64`: refused with a
/// typed error by the model's own types and decoders, never a trap (issue 11, item 1).
@Suite("Out-of-range input")
struct OutOfRangeInputTests {
    let alice = ReplicaID(rawValue: 0xA11CE)!
    let space = SpaceID(UUID(uuidString: "5ace0000-0000-4000-8000-0000000000e1")!)
    let session = EntityID(UUID(uuidString: "5e550000-0000-4000-8000-0000000000e1")!)

    @Test("a DotRange cannot be built starting at 0 or running past UInt64.max")
    func dotRangeConstruction() throws {
        #expect(throws: DotRangeError.self) { try DotRange(replica: alice, firstCounter: UInt64.max, length: 1) }
        #expect(throws: DotRangeError.self) { try DotRange(replica: alice, firstCounter: 2, length: UInt64.max - 1) }
        #expect(throws: DotRangeError.self) { try DotRange(replica: alice, firstCounter: 0, length: 1) }
        // The largest ranges that fit: their end is representable, so `counters` is safe.
        let last = try DotRange(replica: alice, firstCounter: UInt64.max - 1, length: 1)
        #expect(last.counters == (UInt64.max - 1)..<UInt64.max)
        #expect(last.lastCounter == UInt64.max - 1)
        let whole = try DotRange(replica: alice, firstCounter: 1, length: UInt64.max - 1)
        #expect(whole.counters.upperBound == UInt64.max)
        // The error says what was wrong.
        do {
            _ = try DotRange(replica: alice, firstCounter: UInt64.max, length: 1)
        } catch {
            #expect(error.description.contains("runs past the largest counter"))
        }
    }

    /// The JSON of a deletion change with one range `first`+`length`.
    func deletionJSON(first: String, length: String) -> Data {
        Data(
            """
            {"id": "\(alice)@5", "hlc": "1.0", "space": "\(space.description)", "entity": "\(session.description)", "field": "summary",
             "deps": [], "op": {"kind": "deleteText", "ranges": [{"replica": "\(alice)", "firstCounter": \(first), "length": \(length)}]}}
            """.utf8)
    }

    @Test(
        "JSON: a deletion range past UInt64.max is a decoding error carrying DotRangeError",
        arguments: [
            ("18446744073709551615", "1"), ("2", "18446744073709551615"), ("0", "1"), ("9223372036854775808", "9223372036854775808"),
        ])
    func jsonExtremes(first: String, length: String) throws {
        do {
            _ = try JSONDecoder().decode(Change.self, from: deletionJSON(first: first, length: length))
            Issue.record("decoded an out-of-range deletion range \(first)+\(length)")
        } catch DecodingError.dataCorrupted(let context) {
            #expect(context.underlyingError is DotRangeError, "\(context)")
        }
        // Past UInt64 itself: not a number the decoder accepts at all.
        #expect(throws: DecodingError.self) {
            try JSONDecoder().decode(Change.self, from: deletionJSON(first: "18446744073709551616", length: "1"))
        }
        // At the edge, still valid.
        let edge = try JSONDecoder().decode(Change.self, from: deletionJSON(first: "18446744073709551614", length: "1"))
        #expect(edge.counterSpan == 1)
    }

    @Test("binary: a deletion range past UInt64.max (as an old or hostile encoder writes it) is a CodecError")
    func binaryExtremes() throws {
        for (first, length): (UInt64, UInt64) in [(UInt64.max, 1), (2, UInt64.max - 1), (UInt64.max - 5, 10)] {
            // Bypass the validating initialiser, as a hostile peer's encoder would.
            let hostile = DotRange(checked: alice, firstCounter: first, length: length)
            let change = Change(
                id: Dot(alice, 5), timestamp: HLCTimestamp(wallTime: 1), space: space, entity: session, field: "summary",
                operation: .deleteText([hostile]))
            #expect(throws: CodecError.self) { try ChangeCodec.decode(ChangeCodec.encode([change])) }
        }
    }

    @Test("lastCounter, operationCount and shapeProblem are total on any change")
    func totalArithmetic() {
        let empty = Change(
            id: Dot(alice, 1), timestamp: .zero, space: space, entity: session, field: "summary",
            operation: .insertText(originLeft: nil, originRight: nil, text: ""))
        #expect(empty.lastCounter == 1)
        #expect(empty.shapeProblem == "the operation is empty")
        let overflowing = Change(
            id: Dot(alice, UInt64.max), timestamp: .zero, space: space, entity: session, field: "summary",
            operation: .insertText(originLeft: nil, originRight: nil, text: "ab"))
        #expect(overflowing.lastCounter == UInt64.max)
        #expect(overflowing.shapeProblem == "counter overflow")
        let huge = Change(
            id: Dot(alice, 1), timestamp: .zero, space: space, entity: session, field: "summary",
            operation: .deleteText([
                DotRange(checked: alice, firstCounter: 1, length: UInt64.max - 1),
                DotRange(checked: alice, firstCounter: 1, length: UInt64.max - 1),
            ]))
        #expect(huge.counterSpan == UInt64.max)
        #expect(huge.shapeProblem == "counter overflow")
        let vector = VersionVector([alice: UInt64.max, ReplicaID(rawValue: 2)!: UInt64.max])
        #expect(vector.operationCount == UInt64.max)
        // The compactor never joins changes whose spans would overflow.
        let first = Change(
            id: Dot(alice, 1), timestamp: .zero, space: space, entity: session, field: "summary",
            operation: .deleteText([DotRange(checked: alice, firstCounter: 1, length: 1)]))
        var second = huge
        second.id = Dot(alice, 2)
        #expect(ChangeCompactor.compact([first, second]).count == 2)
        #expect(ChangeCompactor.compact([overflowing, overflowing]).count == 2)
    }

    @Test("a document refuses extreme changes with a ChangeError, never a trap")
    func documentRefusesExtremes() throws {
        var document = SpaceDocument(space: space)
        let context = EditContext(replica: alice, timestamp: HLCTimestamp(wallTime: 1))
        _ = document.create(session, kind: EntityKind.session.rawValue, by: context)
        _ = try document.editText("summary", of: session, at: 0, insert: "hello", by: context)
        let bob = ReplicaID(rawValue: 0xB0B)!
        let extremes: [Change] = [
            // The deletion of the attack, at the last counter a range may start at.
            Change(
                id: Dot(bob, 1), timestamp: .zero, space: space, entity: session, field: "summary",
                operation: .deleteText([try DotRange(replica: alice, firstCounter: UInt64.max - 1, length: 1)])),
            // Spans past UInt64.max, and an empty one.
            Change(
                id: Dot(bob, UInt64.max), timestamp: .zero, space: space, entity: session, field: "summary",
                operation: .insertText(originLeft: nil, originRight: nil, text: "ab")),
            Change(
                id: Dot(bob, 1), timestamp: .zero, space: space, entity: session, field: "summary",
                operation: .deleteText([
                    DotRange(checked: alice, firstCounter: 1, length: UInt64.max - 1), DotRange(checked: alice, firstCounter: 1, length: 2),
                ])),
            Change(id: Dot(bob, 1), timestamp: .zero, space: space, entity: session, field: "summary", operation: .deleteText([])),
            // References at the largest counters.
            Change(
                id: Dot(bob, 1), timestamp: .zero, space: space, entity: session, field: "summary",
                operation: .insertText(originLeft: Dot(alice, UInt64.max), originRight: Dot(alice, UInt64.max - 1), text: "x")),
            Change(
                id: Dot(bob, 1), timestamp: .zero, space: space, entity: session, field: "agenda",
                operation: .moveItem(element: Dot(alice, UInt64.max), originLeft: nil, originRight: nil, predecessors: [])),
        ]
        let before = document.canonicalExport()
        for change in extremes {
            #expect(throws: ChangeError.self, "\(change.operation)") { try document.apply(change) }
        }
        #expect(document.canonicalExport() == before)
        // Buffered far ahead and never drained: no arithmetic on its counter traps either.
        let farAhead = Change(
            id: Dot(bob, UInt64.max - 1), timestamp: .zero, space: space, entity: session, field: "title",
            operation: .set(.string("x"), predecessors: []))
        #expect(try document.apply(farAhead) == .buffered)
    }
}
