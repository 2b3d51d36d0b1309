import Foundation

extension Change {
    /// Whether this change and `other` say the same about every counter they share: the
    /// same change, or the same characters of a text run joined or trimmed at other
    /// boundaries. A change received twice with different content means someone reused
    /// dots; the server and a replica's merge refuse it (`conflicting_duplicate`).
    public func agrees(with other: Change) -> Bool {
        if id == other.id, counterSpan == other.counterSpan {
            return ChangeCodec.encode([self]) == ChangeCodec.encode([other])
        }
        guard replica == other.replica, space == other.space, entity == other.entity, sameUTF8(field, other.field) else { return false }
        let low = max(id.counter, other.id.counter)
        let high = min(lastCounter, other.lastCounter)
        guard low <= high else { return true }
        switch (operation, other.operation) {
        case (.insertText(_, let right, let text), .insertText(_, let otherRight, let otherText)):
            guard right == otherRight else { return false }
            let a = Array(text.unicodeScalars)
            let b = Array(otherText.unicodeScalars)
            for counter in low...high where a[Int(counter - id.counter)] != b[Int(counter - other.id.counter)] { return false }
            return true
        case (.deleteText(let ranges), .deleteText(let otherRanges)):
            // Range by range (never element by element: a range may name 2^40 counters).
            var a = DeletionCursor(ranges, skipping: low - id.counter)
            var b = DeletionCursor(otherRanges, skipping: low - other.id.counter)
            var remaining = high - low + 1
            while remaining > 0 {
                guard let (dot, runA) = a.current, let (otherDot, runB) = b.current, dot == otherDot else { return false }
                let step = min(remaining, runA, runB)
                a.advance(by: step)
                b.advance(by: step)
                remaining -= step
            }
            return true
        default:
            return false
        }
    }
}

/// Walks the elements a deletion names, a run at a time.
private struct DeletionCursor {
    let ranges: [DotRange]
    var index = 0
    var offset: UInt64 = 0

    init(_ ranges: [DotRange], skipping count: UInt64) {
        self.ranges = ranges
        advance(by: count)
    }

    /// The element at the cursor and how many follow it consecutively in its range.
    var current: (Dot, UInt64)? {
        guard index < ranges.count else { return nil }
        let range = ranges[index]
        return (Dot(range.replica, range.firstCounter + offset), range.length - offset)
    }

    mutating func advance(by count: UInt64) {
        var count = count
        while count > 0, index < ranges.count {
            let left = ranges[index].length - offset
            if count < left {
                offset += count
                return
            }
            count -= left
            index += 1
            offset = 0
        }
        while index < ranges.count, ranges[index].length == 0 { index += 1 }
    }
}
