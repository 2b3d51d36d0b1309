/// Joins consecutive changes of one author into runs, as an editor batches keystrokes
/// (and as Loro merges changes typed in quick succession).
///
/// Two changes join when the second continues the first: same author, space, entity
/// and field, next counter, no dependencies of its own, and either both insert text
/// with the second starting right after the first's last character (same right
/// origin), or both delete text. The joined change has the first's timestamp and
/// occupies both counter ranges, element for element in the same order, so that a
/// receiver holding only a prefix can still take the rest (`Change.dropping`).
public struct ChangeCompactor: Sendable {
    /// The changes so far; the last one may still be growing, its payload held in
    /// `openText` / `openRanges` so that appending never copies it.
    private var pending: [Change] = []
    private var openText = ""
    private var openRanges: [DotRange] = []

    public init() {}

    /// The compacted changes, in order.
    public var changes: [Change] {
        guard !pending.isEmpty else { return pending }
        var result = pending
        Self.materialize(&result[result.count - 1], text: openText, ranges: openRanges)
        return result
    }

    /// Compacts a whole list.
    public static func compact(_ changes: some Sequence<Change>) -> [Change] {
        var compactor = ChangeCompactor()
        for change in changes { compactor.append(change) }
        return compactor.changes
    }

    /// Appends a change, joining it to the previous one when it continues it.
    public mutating func append(_ change: Change) {
        let last = pending.count - 1
        if last >= 0, Self.continues(pending[last], with: change) {
            // The sum fits: `continues` checked it.
            pending[last].replaceOperation(pending[last].operation, span: pending[last].counterSpan + change.counterSpan)
            switch change.operation {
            case .insertText(_, _, let more):
                openText.append(more)
            case .deleteText(let more):
                for range in more {
                    if let tail = openRanges.last, let joined = tail.joined(with: range) {
                        openRanges[openRanges.count - 1] = joined
                    } else {
                        openRanges.append(range)
                    }
                }
            default:
                preconditionFailure("continues(_:with:) admitted a change it cannot join")
            }
            return
        }
        if last >= 0 { Self.materialize(&pending[last], text: openText, ranges: openRanges) }
        switch change.operation {
        case .insertText(_, _, let text): openText = text
        case .deleteText(let ranges): openRanges = ranges
        default: break
        }
        pending.append(change)
    }

    /// Writes the open payload back into the last change.
    private static func materialize(_ change: inout Change, text: String, ranges: [DotRange]) {
        switch change.operation {
        case .insertText(let originLeft, let originRight, _):
            change.replaceOperation(.insertText(originLeft: originLeft, originRight: originRight, text: text), span: change.counterSpan)
        case .deleteText:
            change.replaceOperation(.deleteText(ranges), span: change.counterSpan)
        default:
            break
        }
    }

    static func continues(_ first: Change, with next: Change) -> Bool {
        // Spans that would overflow joined (malformed changes, see `Change.shapeProblem`) never join.
        guard next.replica == first.replica, first.lastCounter < UInt64.max, next.id.counter == first.lastCounter + 1,
            first.counterSpan <= UInt64.max - next.counterSpan, next.dependencies.isEmpty,
            next.field == first.field, next.entity == first.entity, next.space == first.space
        else { return false }
        switch (first.operation, next.operation) {
        case (.insertText(_, let firstRight, _), .insertText(let nextLeft, let nextRight, _)):
            return nextLeft == Dot(first.replica, first.lastCounter) && nextRight == firstRight
        case (.deleteText, .deleteText):
            return true
        default:
            return false
        }
    }
}
