import DialogueModel
import Foundation

/// The scenario of the lent-texts tests (DialogueModel's `TextLoanTests`, DialogueSync's
/// `TextThreadsTests`): a session with "hello" in its summary written by Alice, and text
/// changes naming an element nobody holds.
public struct LentTextScenario {
    public let space: SpaceID
    public let alice = ReplicaID(rawValue: 0xA1)!
    public let bob = ReplicaID(rawValue: 0xB0)!
    /// The element nobody holds.
    public let ghost: Dot
    public let session = EntityID(UUID())
    /// The document holding the session, and the log that made it.
    public let document: SpaceDocument
    public let log: [Change]

    public init(space: SpaceID) throws {
        self.space = space
        ghost = Dot(alice, 9_999)
        var document = SpaceDocument(space: space)
        let context = EditContext(replica: alice, timestamp: HLCTimestamp(wallTime: 1))
        var log = [document.create(session, kind: EntityKind.session.rawValue, by: context)]
        log += try document.editText(DialogueSession.Field.summary, of: session, at: 0, insert: "hello", by: context)
        self.document = document
        self.log = log
    }

    /// Bob's change to the summary, `operation`, which names the ghost.
    public func bobsBadEdit(_ operation: DialogueModel.Operation, counter: UInt64 = 1) -> Change {
        Change(
            id: Dot(bob, counter), timestamp: HLCTimestamp(wallTime: 2), space: space, entity: session,
            field: DialogueSession.Field.summary, operation: operation)
    }

    /// Three changes: Bob retitles the session (his first), Bob inserts after the ghost (his
    /// second: it waits for the first, then is refused), Alice appends "!" to the summary.
    public func drainedRefusal() -> (first: Change, bad: Change, good: Change) {
        let timestamp = HLCTimestamp(wallTime: 2)
        let first = Change(
            id: Dot(bob, 1), timestamp: timestamp, space: space, entity: session, field: DialogueSession.Field.title,
            operation: .set(.string("Bob's"), predecessors: []))
        let bad = bobsBadEdit(.insertText(originLeft: ghost, originRight: nil, text: "x"), counter: 2)
        let good = Change(
            id: Dot(alice, 7), timestamp: timestamp, space: space, entity: session, field: DialogueSession.Field.summary,
            operation: .insertText(originLeft: Dot(alice, 6), originRight: nil, text: "!"))
        return (first, bad, good)
    }
}
