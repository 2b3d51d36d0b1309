/// An insertion as it travels between replicas: the run's first dot, its origins, its elements.
public struct SequenceInsertion<Element: Sendable>: Sendable {
    /// The dot of the first element; element *i* has counter `first.counter + i`.
    public var first: Dot
    /// The element just left of the insertion point when it was made (`nil`: document start).
    public var originLeft: Dot?
    /// The element just right of the insertion point when it was made (`nil`: document end).
    public var originRight: Dot?
    public var elements: [Element]

    public init(first: Dot, originLeft: Dot?, originRight: Dot?, elements: [Element]) {
        self.first = first
        self.originLeft = originLeft
        self.originRight = originRight
        self.elements = elements
    }
}

/// A run of consecutive dots from one replica: what a deletion names.
///
/// Built only through a validating initialiser (the JSON and binary decoders too), so
/// every range in existence starts at counter 1 or later and ends within `UInt64`:
/// ``counters`` and every sum over a range are safe whatever a peer sent.
public struct DotRange: Hashable, Sendable, Codable, CustomStringConvertible {
    public let replica: ReplicaID
    public private(set) var firstCounter: UInt64
    public private(set) var length: UInt64

    /// A range of `length` counters from `firstCounter` (an empty range is representable;
    /// a change naming one is malformed, see ``Change/shapeProblem``).
    /// - Throws: ``DotRangeError`` when `firstCounter` is zero or the range runs past `UInt64.max`.
    public init(replica: ReplicaID, firstCounter: UInt64, length: UInt64) throws(DotRangeError) {
        guard firstCounter >= 1 else { throw DotRangeError(replica: replica, firstCounter: firstCounter, length: length) }
        guard firstCounter <= UInt64.max - length else { throw DotRangeError(replica: replica, firstCounter: firstCounter, length: length) }
        self.init(checked: replica, firstCounter: firstCounter, length: length)
    }

    /// For ranges derived from held elements or from other valid ranges (the caller
    /// guarantees the bounds).
    init(checked replica: ReplicaID, firstCounter: UInt64, length: UInt64) {
        self.replica = replica
        self.firstCounter = firstCounter
        self.length = length
    }

    /// The counters named (cannot overflow: the initialiser checked the end).
    public var counters: Range<UInt64> { firstCounter..<firstCounter + length }

    /// The last counter named (the first when empty).
    public var lastCounter: UInt64 { length == 0 ? firstCounter : firstCounter + length - 1 }

    /// This range followed by `next` when `next` continues it (same replica, next counter).
    func joined(with next: DotRange) -> DotRange? {
        guard next.replica == replica, firstCounter + length == next.firstCounter else { return nil }
        return DotRange(checked: replica, firstCounter: firstCounter, length: length + next.length)  // ends where `next` ends
    }

    /// The range without its first `count` counters (`count` below `length`).
    func droppingFirst(_ count: UInt64) -> DotRange {
        DotRange(checked: replica, firstCounter: firstCounter + count, length: length - count)
    }

    public var description: String { "\(replica)@\(firstCounter)+\(length)" }

    private enum CodingKeys: String, CodingKey { case replica, firstCounter, length }

    /// Decodes through the validating initialiser: a range that overflows is a decoding
    /// error whose underlying error is the ``DotRangeError``.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let replica = try container.decode(ReplicaID.self, forKey: .replica)
        let first = try container.decode(UInt64.self, forKey: .firstCounter)
        let length = try container.decode(UInt64.self, forKey: .length)
        do {
            try self.init(replica: replica, firstCounter: first, length: length)
        } catch {
            throw DecodingError.dataCorrupted(
                .init(codingPath: decoder.codingPath, debugDescription: error.description, underlyingError: error))
        }
    }
}

/// A deletion range that no replica could hold: it starts at counter zero or runs past
/// the largest counter. Raised by ``DotRange/init(replica:firstCounter:length:)`` and so
/// by every decoder of changes.
public struct DotRangeError: Error, Hashable, Sendable, CustomStringConvertible {
    public var replica: ReplicaID
    public var firstCounter: UInt64
    public var length: UInt64

    public var description: String {
        firstCounter == 0
            ? "deletion range \(replica)@0+\(length) starts at counter 0 (counters start at 1)"
            : "deletion range \(replica)@\(firstCounter)+\(length) runs past the largest counter \(UInt64.max)"
    }
}

extension RunSequence.ElementID {
    init(_ dot: Dot?) {
        if let dot { self.init(replica: dot.replica.rawValue, counter: dot.counter) } else { self = .none }
    }

    var dot: Dot? { isNone ? nil : Dot(ReplicaID(rawValue: replica)!, counter) }
}

extension RunSequence {
    // MARK: Local edits

    /// Inserts `elements` at visible `position` as replica `replica` with dots starting
    /// at `firstCounter`, and returns the insertion to replicate.
    public mutating func insert(
        _ elements: some Collection<Element>, at position: Int, replica: ReplicaID, firstCounter: UInt64
    ) throws(SequenceError) -> SequenceInsertion<Element> {
        guard position >= 0, position <= count else { throw .positionOutOfRange(position: position, count: count) }
        let elements = Array(elements)
        let first = Dot(replica, firstCounter)
        guard !elements.isEmpty else { return SequenceInsertion(first: first, originLeft: nil, originRight: nil, elements: []) }
        var left: Position?
        var originLeft = ElementID.none
        if position > 0 {
            var (found, offset) = locate(visible: position - 1)
            let index = item(at: found)
            if offset + 1 < Int(items[Int(index)].length) {
                split(at: found, offset: offset + 1)
                found = self.position(of: index)
                offset = Int(items[Int(index)].length) - 1
            }
            left = found
            originLeft = items[Int(index)].lastID
        }
        let rightPosition = left.map { self.position(after: $0) } ?? firstPosition
        let originRight = rightPosition.map { items[Int(item(at: $0))].firstID } ?? .none
        place(elements, first: first, originLeft: originLeft, originRight: originRight, after: left)
        return SequenceInsertion(first: first, originLeft: originLeft.dot, originRight: originRight.dot, elements: elements)
    }

    /// Deletes `length` visible elements from `position` and returns the dot ranges to replicate.
    public mutating func delete(at position: Int, length: Int) throws(SequenceError) -> [DotRange] {
        guard position >= 0, length >= 0, position + length <= count else {
            guard position >= 0, position <= count else { throw .positionOutOfRange(position: position, count: count) }
            throw .lengthOutOfRange(position: position, length: length, count: count)
        }
        var ranges: [DotRange] = []
        var remaining = length
        while remaining > 0 {
            let (found, offset) = locate(visible: position)
            let item = items[Int(item(at: found))]
            let take = min(remaining, Int(item.length) - offset)
            let range = DotRange(
                checked: ReplicaID(rawValue: item.replica)!, firstCounter: item.counter + UInt64(offset), length: UInt64(take))
            _ = markDeleted(at: found, offset: offset, length: take)
            if let last = ranges.last, let joined = last.joined(with: range) {
                ranges[ranges.count - 1] = joined
            } else {
                ranges.append(range)
            }
            remaining -= take
        }
        return ranges
    }

    // MARK: Remote operations

    /// Integrates a remote insertion (idempotent: an insertion already held is ignored).
    public mutating func integrate(_ insertion: SequenceInsertion<Element>) throws(SequenceError) {
        try integrate(insertion, mayBeHeld: true)
    }

    /// The same; a caller that knows none of the insertion's dots is held (a document
    /// trims what its version vector covers) passes `mayBeHeld: false` to skip a lookup.
    mutating func integrate(_ insertion: SequenceInsertion<Element>, mayBeHeld: Bool) throws(SequenceError) {
        guard !insertion.elements.isEmpty else { return }
        if mayBeHeld, let existing = itemIndex(holding: ElementID(insertion.first)) {
            // Already held. Re-delivery of the same run is fine; a different run is not.
            let item = items[Int(existing)]
            if item.counter + UInt64(item.length) < insertion.first.counter + UInt64(insertion.elements.count) {
                throw .duplicateElement(insertion.first)
            }
            return
        }
        let originLeft = ElementID(insertion.originLeft)
        let originRight = ElementID(insertion.originRight)
        // Each origin is looked up once (a hash and a binary search each time).
        var leftIndex: Int32?
        if !originLeft.isNone {
            guard let found = itemIndex(holding: originLeft) else { throw .unknownElement(originLeft.dot!) }
            leftIndex = found
        }
        var rightIndex: Int32?
        if !originRight.isNone {
            // Usually nothing was inserted between the origins since: originRight is then the
            // element after originLeft, in the same item or the next, found without a search.
            rightIndex = elementAfter(originLeft, in: leftIndex).flatMap { next in
                let item = items[Int(next)]
                return item.replica == originRight.replica && item.holds(originRight.counter) ? next : nil
            }
            if rightIndex == nil {
                guard let found = itemIndex(holding: originRight) else { throw .unknownElement(originRight.dot!) }
                rightIndex = found
            }
        }
        // Make originLeft the last element of an item and originRight the first of one.
        // A split keeps the left part at its pool index and gives the rest a new one.
        var left: Position?
        if let index = leftIndex {
            let offset = Int(originLeft.counter - items[Int(index)].counter)
            if offset + 1 < Int(items[Int(index)].length) {
                let rest = split(at: position(of: index), offset: offset + 1)
                if rightIndex == index, !items[Int(index)].holds(originRight.counter) {
                    rightIndex = rest  // originRight was in the part split off
                }
            }
        }
        var rightStop: Int32?
        if let index = rightIndex {
            let offset = Int(originRight.counter - items[Int(index)].counter)
            rightStop = offset > 0 ? split(at: position(of: index), offset: offset) : index
            if offset > 0, leftIndex == index { leftIndex = itemIndex(holding: originLeft) }  // only when origins are out of order
        }
        if let index = leftIndex { left = position(of: index) }

        if order == .fugueMax {
            let after = fugueMaxPlace(
                after: left, originLeft: originLeft, originRight: originRight, rightStop: rightStop,
                replica: insertion.first.replica.rawValue)
            place(insertion.elements, first: insertion.first, originLeft: originLeft, originRight: originRight, after: after)
            return
        }
        // YATA: scan the items between the origins for concurrent insertions. Which items
        // the scan has passed, and which since `left` last moved, are read from stamps
        // (see `scanStamps`): a stamp above `scanStart` was passed in this scan, one above
        // `conflictFloor` since `left` last moved.
        var scan = left.map { position(after: $0) } ?? firstPosition
        let scanStart = beginScan()
        var conflictFloor = scanStart
        let replica = insertion.first.replica.rawValue
        while let current = scan {
            let index = item(at: current)
            if index == rightStop { break }
            let stamp = stampScanned(index)
            let other = items[Int(index)]
            if other.originLeft == originLeft {
                if other.replica < replica {
                    left = current
                    conflictFloor = stamp
                } else if other.originRight == originRight {
                    break
                }
            } else if !other.originLeft.isNone, let otherOrigin = itemIndex(holding: other.originLeft),
                scanStamps[Int(otherOrigin)] > scanStart
            {
                if scanStamps[Int(otherOrigin)] <= conflictFloor {
                    left = current
                    conflictFloor = stamp
                }
            } else {
                break
            }
            scan = position(after: current)
        }
        place(insertion.elements, first: insertion.first, originLeft: originLeft, originRight: originRight, after: left)
    }

    /// Where a remote insertion goes under ``InsertionOrder/fugueMax``: after the returned
    /// position (`nil`: at the start). Scans the items between the origins, as YATA does,
    /// but orders two insertions with the same left origin as FugueMax orders right
    /// siblings (Weidner & Kleppmann 2023, Definition 6; their "YjsMod" scan): the one whose
    /// right origin comes later first, the lower replica first when the right origins are
    /// the same. An item whose left origin lies inside the scanned range belongs to the
    /// subtree of an item before it and goes where that item goes.
    private func fugueMaxPlace(
        after left: Position?, originLeft: ElementID, originRight: ElementID, rightStop: Int32?, replica: UInt64
    ) -> Position? {
        var destination = left
        // Whether the items scanned since `destination` may yet come after the insertion
        // (it precedes a same-left-origin item whose right origin comes earlier than its own).
        var tentative = false
        var scan = left.map { position(after: $0) } ?? firstPosition
        while let current = scan {
            let index = item(at: current)
            if index == rightStop { break }
            let other = items[Int(index)]
            if other.originLeft == originLeft {
                if other.originRight == originRight {
                    if other.replica > replica { break }  // same origins: the lower replica first
                    tentative = false
                } else {
                    tentative = precedes(other.originRight, rightStop)  // its right origin earlier: we go first
                }
            } else if !other.originLeft.isNone, let origin = itemIndex(holding: other.originLeft),
                left.map({ position(of: origin) > $0 }) ?? true
            {
                // Left origin inside the range: the item hangs below one scanned before.
            } else {
                break  // left origin before ours: the range of concurrent insertions ends
            }
            if !tentative { destination = current }
            scan = position(after: current)
        }
        return destination
    }

    /// Whether `element` (`.none`: the end) comes before the item `stop` (`nil`: the end).
    /// An element of that very item is not before it.
    private func precedes(_ element: ElementID, _ stop: Int32?) -> Bool {
        guard let stop else { return !element.isNone }
        guard !element.isNone, let index = itemIndex(holding: element) else { return false }
        return position(of: index) < position(of: stop)
    }

    /// The item holding the element right after `element` (the first element when it is
    /// `.none`), given the item holding `element`; `nil` at the end.
    private func elementAfter(_ element: ElementID, in index: Int32?) -> Int32? {
        guard let index else { return firstPosition.map { item(at: $0) } }
        let holder = items[Int(index)]
        if element.counter + 1 < holder.counter + UInt64(holder.length) { return index }
        return position(after: position(of: index)).map { item(at: $0) }
    }

    /// Deletes the elements named by `range` (idempotent). Refused, changing nothing,
    /// when any of them is not held.
    public mutating func delete(_ range: DotRange) throws(SequenceError) {
        guard holds(replica: range.replica, counters: range.counters) else {
            var next = range.firstCounter
            while itemIndex(holding: ElementID(replica: range.replica.rawValue, counter: next)) != nil { next += 1 }
            throw .unknownElement(Dot(range.replica, next))
        }
        var next = range.firstCounter
        let end = range.firstCounter + range.length
        while next < end {
            let index = itemIndex(holding: ElementID(replica: range.replica.rawValue, counter: next))!
            let item = items[Int(index)]
            let offset = Int(next - item.counter)
            let take = min(Int(end - next), Int(item.length) - offset)
            if !item.deleted { _ = markDeleted(at: position(of: index), offset: offset, length: take) }
            next += UInt64(take)
        }
    }

    // MARK: Placement

    /// Puts a new run right after `left` (or at the start), extending `left`'s item in
    /// place when the run continues it: same replica, next counters, same right origin,
    /// content adjacent. That is what keeps a typed paragraph one item.
    private mutating func place(
        _ elements: [Element], first: Dot, originLeft: ElementID, originRight: ElementID, after left: Position?
    ) {
        if let left {
            let index = item(at: left)
            let item = items[Int(index)]
            if !item.deleted, item.replica == first.replica.rawValue,
                item.counter + UInt64(item.length) == first.counter,
                item.originRight == originRight, item.lastID == originLeft,
                Int(item.contentStart) + Int(item.length) == content.count
            {
                items[Int(index)].length += Int32(elements.count)
                content.append(contentsOf: elements)
                adjustVisible(order: left.order, by: elements.count)
                return
            }
        }
        let item = Item(
            replica: first.replica.rawValue, counter: first.counter, originLeft: originLeft, originRight: originRight,
            contentStart: Int32(content.count), length: Int32(elements.count), deleted: false)
        content.append(contentsOf: elements)
        insert(item, after: left)
    }
}
