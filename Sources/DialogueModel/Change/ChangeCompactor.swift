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
    /// The compacted changes, in order.
    public private(set) var changes: [Change] = []

    public init() {}

    /// Compacts a whole list.
    public static func compact(_ changes: some Sequence<Change>) -> [Change] {
        var compactor = ChangeCompactor()
        for change in changes { compactor.append(change) }
        return compactor.changes
    }

    /// Appends a change, joining it to the previous one when it continues it.
    public mutating func append(_ change: Change) {
        guard var last = changes.last, Self.continues(last, with: change) else {
            changes.append(change)
            return
        }
        // Take the operation out so its payload is uniquely referenced while it grows.
        let previous = last.operation
        last.operation = .removeItem(element: change.id)
        changes[changes.count - 1].operation = .removeItem(element: change.id)
        switch (previous, change.operation) {
        case (.insertText(let originLeft, let originRight, var text), .insertText(_, _, let more)):
            text.append(more)
            last.operation = .insertText(originLeft: originLeft, originRight: originRight, text: text)
        case (.deleteText(var ranges), .deleteText(let more)):
            for range in more {
                if let tail = ranges.last, tail.replica == range.replica, tail.firstCounter + tail.length == range.firstCounter {
                    ranges[ranges.count - 1].length += range.length
                } else {
                    ranges.append(range)
                }
            }
            last.operation = .deleteText(ranges)
        default:
            preconditionFailure("continues(_:with:) admitted a pair it cannot join")
        }
        changes[changes.count - 1] = last
    }

    static func continues(_ first: Change, with next: Change) -> Bool {
        guard next.replica == first.replica, next.id.counter == first.lastCounter + 1, next.dependencies.isEmpty,
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
