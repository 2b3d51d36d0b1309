/// A sequence CRDT that stores runs of consecutive insertions compactly: the engine
/// behind collaborative text (``TextSequence``) and ordered lists (``MovableList``).
///
/// **Merge rule**: every element has a unique ``Dot`` and remembers the element to its
/// left (`originLeft`) and to its right (`originRight`) when it was inserted. A remote
/// insertion is placed between its origins, among the concurrent insertions there, by
/// the sequence's ``order``, fixed when the sequence is made (a text takes its space's:
/// ``InsertionOrder/init(textIn:)``):
///
/// - ``InsertionOrder/fugueMax``: exactly FugueMax (Weidner & Kleppmann, "The Art of the
///   Fugue: Minimizing Interleaving in Collaborative Text Editing", 2023, Definition 6),
///   ties between siblings broken by the lower replica: the order of the paper's tree
///   walk, in which left siblings go in ascending id order and right siblings in the
///   reverse order of their right origins. It is maximally non-interleaving: runs typed
///   concurrently at one place, forward or backward, never interleave, and an insertion
///   stays next to the right origin it was typed against wherever any order can keep it
///   there. Computed without the tree, by the paper's "YjsMod" scan between the origins;
///   a plain tree implementation in the tests is the yardstick.
/// - ``InsertionOrder/yata``: YATA (Nicolaescu et al., "Near Real-Time Peer-to-Peer
///   Shared Editing on Extensible Data Types", GROUP 2016) as Yjs implements it:
///   insertions between the same origins ordered by replica, and an insertion whose
///   origin lies inside a concurrent run stays with that run. Forward runs do not
///   interleave, but an insertion can be parted from its right origin (the paper's
///   Figure 7). Ordered lists and the texts of spaces created before FugueMax use it.
///
/// Deletion marks elements as tombstones, so later insertions can still find their
/// origins; deleting twice is a no-op and deletion commutes with everything.
///
/// **Representation**: elements typed one after another by one replica share one item
/// (replica, first counter, length, content slice), as in Yjs and diamond-types. Items
/// live in a pool (stable indices); their order is kept in chunks of at most
/// `maxChunkSize` items with per-chunk visible lengths, so finding a position walks
/// chunk lengths from a cached cursor rather than every item; a per-replica index
/// sorted by counter finds the item holding any dot by binary search.
///
/// Callers must deliver operations in causal order (origins and deleted dots present);
/// operations that name unknown dots are refused with ``SequenceError`` and change nothing.
public struct RunSequence<Element>: Sendable where Element: Sendable {
    // MARK: Storage

    /// Identity of one element; `replica == 0` encodes "no element" (document edge).
    struct ElementID: Equatable {
        var replica: UInt64
        var counter: UInt64
        static var none: ElementID { ElementID(replica: 0, counter: 0) }
        var isNone: Bool { replica == 0 }
    }

    /// A run of consecutive elements inserted by one replica.
    struct Item {
        var replica: UInt64
        var counter: UInt64
        var originLeft: ElementID
        var originRight: ElementID
        var contentStart: Int32
        var length: Int32
        /// The chunk holding the item (kept here rather than in an array of its own: one
        /// array fewer to reach on a cold sequence; it fits the item's padding).
        var chunk: Int32 = 0
        var deleted: Bool

        var visibleLength: Int { deleted ? 0 : Int(length) }
        var firstID: ElementID { ElementID(replica: replica, counter: counter) }
        var lastID: ElementID { ElementID(replica: replica, counter: counter + UInt64(length) - 1) }
        func holds(_ counter: UInt64) -> Bool { counter >= self.counter && counter < self.counter + UInt64(length) }
    }

    /// One author's items sorted by first counter: entries (the counter and the pool index
    /// side by side) in blocks of at most ``blockSize``, each block's first counter in an
    /// array of its own. A lookup is two binary searches over a few cache lines rather
    /// than a pooled item at every step (on a large document those reads missed the cache
    /// and were a sixth of a merge). A split adds an entry inside the author's range: in
    /// one sorted array that moved every later entry (on automerge-paper, one author whose
    /// every deletion splits a run, 84% of a merge); in a block it moves at most a block.
    ///
    /// Invariants: no block is empty; entries are sorted by counter within and across
    /// blocks; `firstCounters[b] == blocks[b][0].counter`.
    struct ReplicaItems {
        typealias Entry = (counter: UInt64, index: Int32)
        var replica: UInt64
        var blocks: [[Entry]] = []
        var firstCounters: [UInt64] = []

        /// At most 8 kB moved by a split, and one block for most authors of a shared text.
        static var blockSize: Int { 512 }

        init(replica: UInt64) { self.replica = replica }

        /// The pool index of the entry with the largest counter at most `counter`.
        func lastIndex(atMost counter: UInt64) -> Int32? {
            // Most authors of a shared text have one block: no search among blocks then.
            let block =
                blocks.count == 1
                ? (firstCounters[0] <= counter ? 0 : -1)
                : firstCounters.withUnsafeBufferPointer { firsts in
                    var low = 0  // first block that starts after `counter`
                    var high = firsts.count
                    while low < high {
                        let mid = (low + high) >> 1
                        if firsts[mid] <= counter { low = mid + 1 } else { high = mid }
                    }
                    return low - 1
                }
            guard block >= 0 else { return nil }
            return blocks[block].withUnsafeBufferPointer { entries in
                var low = 0  // first entry that starts after `counter`; the block's first does not
                var high = entries.count
                while low < high {
                    let mid = (low + high) >> 1
                    if entries[mid].counter <= counter { low = mid + 1 } else { high = mid }
                }
                return entries[low - 1].index
            }
        }

        /// Adds an entry whose counter no entry has, keeping the order.
        mutating func add(counter: UInt64, index: Int32) {
            let last = blocks.count - 1
            if last < 0 || counter > blocks[last][blocks[last].count - 1].counter {
                // The usual case: a new run, after every counter held.
                if last >= 0, blocks[last].count < Self.blockSize {
                    blocks[last].append((counter, index))
                } else {
                    var block: [Entry] = []
                    block.reserveCapacity(Self.blockSize)
                    block.append((counter, index))
                    blocks.append(block)
                    firstCounters.append(counter)
                }
                return
            }
            // A split's right part: its counter lies inside the author's range, so after
            // the first block's first entry.
            var low = 0  // first block that starts after `counter`
            var high = firstCounters.count
            while low < high {
                let mid = (low + high) >> 1
                if firstCounters[mid] < counter { low = mid + 1 } else { high = mid }
            }
            let block = max(0, low - 1)
            var position = 0  // first entry of the block after `counter`
            high = blocks[block].count
            while position < high {
                let mid = (position + high) >> 1
                if blocks[block][mid].counter < counter { position = mid + 1 } else { high = mid }
            }
            blocks[block].insert((counter, index), at: position)
            if position == 0 { firstCounters[block] = counter }
            if blocks[block].count > Self.blockSize {
                let half = blocks[block].count / 2
                let moved = Array(blocks[block][half...])
                blocks[block].removeSubrange(half...)
                blocks.insert(moved, at: block + 1)
                firstCounters.insert(moved[0].counter, at: block + 1)
            }
        }
    }

    /// A slice of the order: pool indices of consecutive items.
    struct Chunk {
        var members: [Int32]
        var visible: Int
        /// Where the chunk sits in `chunkOrder`.
        var order: Int32
    }

    /// Where an item sits in the order.
    struct Position: Comparable {
        var order: Int
        var slot: Int

        static func < (lhs: Position, rhs: Position) -> Bool { (lhs.order, lhs.slot) < (rhs.order, rhs.slot) }
    }

    static var maxChunkSize: Int { 64 }

    var items: [Item] = []
    var chunks: [Chunk] = []
    var chunkOrder: [Int32] = []
    /// Per author, its items sorted by first counter (see ``ReplicaItems``). Most
    /// sequences have few authors, found by a scan; past ``authorsScanned`` a dictionary
    /// finds them (a trust-wide prompt has hundreds of authors, and a scan per lookup made
    /// its merge grow with their number).
    var itemsByReplica: [ReplicaItems] = []
    /// Each author's slot in ``itemsByReplica``, kept only once there are more than
    /// ``authorsScanned`` of them.
    var replicaSlots: [UInt64: Int32] = [:]
    var content: [Element] = []
    /// Scratch for the YATA scan of ``integrate(_:)``, one stamp per pool index: the scan
    /// stamps each item it passes with the next ``scanClock`` value, so "passed in this
    /// scan" and "passed since the left neighbour last moved" are two comparisons with
    /// the clock values at those moments, without a set allocated and hashed per
    /// insertion (hundreds of authors inserting at one place make that scan long).
    /// Invariant: every stamp is at most ``scanClock``; the array may be shorter than
    /// ``items`` (missing stamps read as 0) and is lengthened when a scan starts.
    var scanStamps: [UInt32] = []
    var scanClock: UInt32 = 0
    /// The number of visible (not deleted) elements.
    public private(set) var count: Int = 0
    /// Cached chunk order index and the number of visible elements before it.
    var cursorOrder = 0
    var cursorStart = 0

    /// How concurrent insertions at one place are ordered; fixed for the sequence's life.
    public let order: InsertionOrder

    /// An empty sequence ordering concurrent insertions by `order` (ordered lists, and
    /// texts of spaces created before FugueMax, use YATA).
    public init(order: InsertionOrder = .yata) { self.order = order }

    /// Whether no visible element remains.
    public var isEmpty: Bool { count == 0 }

    /// The number of items (runs) stored, visible or not: a measure of fragmentation.
    public var runCount: Int { items.count }
}

/// Why a sequence operation was refused.
public enum SequenceError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The operation names an element this sequence does not hold.
    case unknownElement(Dot)
    /// The operation's own dots are already held with other content.
    case duplicateElement(Dot)
    /// A position outside `0...count` (insertion) or `0..<count` (an existing element).
    case positionOutOfRange(position: Int, count: Int)
    /// A negative length or one that runs past the end.
    case lengthOutOfRange(position: Int, length: Int, count: Int)

    public var description: String {
        switch self {
        case .unknownElement(let dot): "refers to element \(dot), which this sequence does not hold"
        case .duplicateElement(let dot): "element \(dot) already exists"
        case .positionOutOfRange(let position, let count):
            count < 0 ? "position \(position) does not exist: it is empty" : "position \(position) is outside 0...\(count)"
        case .lengthOutOfRange(let position, let length, let count):
            "cannot take \(length) from position \(position): the length must be between 0 and \(max(0, count - position))"
        }
    }
}

// MARK: - Reading

extension RunSequence {
    /// The visible elements in order.
    public var elements: [Element] {
        var result: [Element] = []
        result.reserveCapacity(count)
        forEachVisibleRun { result.append(contentsOf: $0) }
        return result
    }

    /// Calls `body` with each visible run's elements, in order.
    public func forEachVisibleRun(_ body: (ArraySlice<Element>) -> Void) {
        for chunkID in chunkOrder {
            for index in chunks[Int(chunkID)].members {
                let item = items[Int(index)]
                if !item.deleted {
                    let start = Int(item.contentStart)
                    body(content[start..<start + Int(item.length)])
                }
            }
        }
    }

    /// Visible elements with their dots, in order.
    public var elementsWithDots: [(dot: Dot, element: Element)] {
        var result: [(Dot, Element)] = []
        for chunkID in chunkOrder {
            for index in chunks[Int(chunkID)].members {
                let item = items[Int(index)]
                guard !item.deleted else { continue }
                for offset in 0..<Int(item.length) {
                    let dot = Dot(ReplicaID(rawValue: item.replica)!, item.counter + UInt64(offset))
                    result.append((dot, content[Int(item.contentStart) + offset]))
                }
            }
        }
        return result
    }

    /// The whole structure, tombstones included, as maximal runs
    /// `(first dot, length, deleted)`: identical on replicas that applied the same
    /// operations, whatever the order, so convergence tests compare it.
    public var canonicalRuns: [(first: Dot, length: Int, deleted: Bool)] {
        var runs: [(first: Dot, length: Int, deleted: Bool)] = []
        for chunkID in chunkOrder {
            for index in chunks[Int(chunkID)].members {
                let item = items[Int(index)]
                let first = Dot(ReplicaID(rawValue: item.replica)!, item.counter)
                if let last = runs.last, last.deleted == item.deleted, last.first.replica == first.replica,
                    last.first.counter + UInt64(last.length) == first.counter
                {
                    runs[runs.count - 1].length += Int(item.length)
                } else {
                    runs.append((first, Int(item.length), item.deleted))
                }
            }
        }
        return runs
    }

    /// Whether every element with a counter in `counters` from `replica` is held.
    public func holds(replica: ReplicaID, counters: Range<UInt64>) -> Bool {
        var next = counters.lowerBound
        while next < counters.upperBound {
            guard let index = itemIndex(holding: ElementID(replica: replica.rawValue, counter: next)) else { return false }
            let item = items[Int(index)]
            next = item.counter + UInt64(item.length)
        }
        return true
    }

    /// The dot of the visible element at `position`.
    public func dot(at position: Int) -> Dot? {
        guard position >= 0, position < count else { return nil }
        var remaining = position
        for chunkID in chunkOrder {
            let chunk = chunks[Int(chunkID)]
            if remaining >= chunk.visible {
                remaining -= chunk.visible
                continue
            }
            for index in chunk.members {
                let item = items[Int(index)]
                if remaining < item.visibleLength {
                    return Dot(ReplicaID(rawValue: item.replica)!, item.counter + UInt64(remaining))
                }
                remaining -= item.visibleLength
            }
        }
        return nil
    }
}

// MARK: - Index helpers

extension RunSequence {
    /// The most authors found by a scan of ``itemsByReplica``.
    static var authorsScanned: Int { 8 }

    /// The slot of `replica`'s items in ``itemsByReplica``.
    @inline(__always)
    func slot(of replica: UInt64) -> Int? {
        if itemsByReplica.count <= Self.authorsScanned { return itemsByReplica.firstIndex { $0.replica == replica } }
        return replicaSlots[replica].map(Int.init)
    }

    /// The pool index of the item holding `id`, by binary search in its replica's index.
    func itemIndex(holding id: ElementID) -> Int32? {
        guard let slot = slot(of: id.replica), let index = itemsByReplica[slot].lastIndex(atMost: id.counter) else { return nil }
        return items[Int(index)].holds(id.counter) ? index : nil
    }

    /// Adds a pool index to its replica's index, keeping it sorted by counter.
    mutating func indexByReplica(_ index: Int32) {
        let item = items[Int(index)]
        let slot: Int
        if let known = self.slot(of: item.replica) {
            slot = known
        } else {
            itemsByReplica.append(ReplicaItems(replica: item.replica))
            slot = itemsByReplica.count - 1
            if itemsByReplica.count > Self.authorsScanned {
                if replicaSlots.isEmpty {
                    for (known, items) in itemsByReplica.enumerated() { replicaSlots[items.replica] = Int32(known) }
                } else {
                    replicaSlots[item.replica] = Int32(slot)
                }
            }
        }
        itemsByReplica[slot].add(counter: item.counter, index: index)
    }

    /// Starts a scan (see ``scanStamps``): returns the clock value that every stamp of an
    /// item not yet passed in this scan is at most. A scan passes each item at most once,
    /// so the clock is wound back to 0 (and every stamp cleared) only when it could
    /// otherwise overflow during this scan.
    mutating func beginScan() -> UInt32 {
        if scanStamps.count < items.count { scanStamps.append(contentsOf: repeatElement(0, count: items.count - scanStamps.count)) }
        if UInt64(scanClock) + UInt64(items.count) >= UInt64(UInt32.max) {
            for stamp in scanStamps.indices { scanStamps[stamp] = 0 }
            scanClock = 0
        }
        return scanClock
    }

    /// Stamps pool index `index` as passed now and returns its stamp.
    @inline(__always)
    mutating func stampScanned(_ index: Int32) -> UInt32 {
        scanClock += 1
        scanStamps[Int(index)] = scanClock
        return scanClock
    }

    /// Where pool index `index` sits in the order.
    func position(of index: Int32) -> Position {
        let chunk = chunks[Int(items[Int(index)].chunk)]
        let slot = chunk.members.firstIndex(of: index)!
        let order = Int(chunk.order)
        return Position(order: order, slot: slot)
    }

    func item(at position: Position) -> Int32 {
        chunks[Int(chunkOrder[position.order])].members[position.slot]
    }

    /// The position after `position`, or `nil` at the end.
    func position(after position: Position) -> Position? {
        if position.slot + 1 < chunks[Int(chunkOrder[position.order])].members.count {
            return Position(order: position.order, slot: position.slot + 1)
        }
        var order = position.order + 1
        while order < chunkOrder.count {
            if !chunks[Int(chunkOrder[order])].members.isEmpty { return Position(order: order, slot: 0) }
            order += 1
        }
        return nil
    }

    /// The first position, or `nil` when empty.
    var firstPosition: Position? {
        for order in chunkOrder.indices where !chunks[Int(chunkOrder[order])].members.isEmpty {
            return Position(order: order, slot: 0)
        }
        return nil
    }

    /// Finds the visible element at `position` (which must be `< count`): its chunk
    /// order, slot and offset inside the item. Walks chunk totals from the cursor.
    mutating func locate(visible position: Int) -> (Position, offset: Int) {
        var order = cursorOrder
        var start = cursorStart
        if order >= chunkOrder.count {
            order = 0
            start = 0
        }
        if position < start {
            while position < start {
                order -= 1
                start -= chunks[Int(chunkOrder[order])].visible
            }
        } else {
            while position >= start + chunks[Int(chunkOrder[order])].visible {
                start += chunks[Int(chunkOrder[order])].visible
                order += 1
            }
        }
        cursorOrder = order
        cursorStart = start
        var remaining = position - start
        let members = chunks[Int(chunkOrder[order])].members
        for slot in members.indices {
            let visible = items[Int(members[slot])].visibleLength
            if remaining < visible { return (Position(order: order, slot: slot), remaining) }
            remaining -= visible
        }
        preconditionFailure("chunk visible total out of step with its items")
    }

    /// Records a change of `delta` visible elements in the chunk at `order`.
    mutating func adjustVisible(order: Int, by delta: Int) {
        chunks[Int(chunkOrder[order])].visible += delta
        count += delta
        if order < cursorOrder { cursorStart += delta }
    }
}

// MARK: - Structural edits

extension RunSequence {
    /// Splits the item at `position` so that its first `offset` elements stay and the
    /// rest become a new item right after it. Returns the new item's pool index.
    @discardableResult
    mutating func split(at position: Position, offset: Int) -> Int32 {
        let index = item(at: position)
        var right = items[Int(index)]
        let cut = UInt64(offset)
        right.originLeft = ElementID(replica: right.replica, counter: right.counter + cut - 1)
        right.counter += cut
        right.contentStart += Int32(offset)
        right.length -= Int32(offset)
        items[Int(index)].length = Int32(offset)
        let chunkID = chunkOrder[position.order]
        let newIndex = Int32(items.count)
        items.append(right)  // a copy of its left part, so in the same chunk
        chunks[Int(chunkID)].members.insert(newIndex, at: position.slot + 1)
        indexByReplica(newIndex)
        rebalance(order: position.order)
        return newIndex
    }

    /// Inserts a new item right after `position` (or at the very start when `nil`).
    mutating func insert(_ item: Item, after position: Position?) {
        let newIndex = Int32(items.count)
        if chunkOrder.isEmpty {
            chunks.append(Chunk(members: [], visible: 0, order: 0))
            chunkOrder.append(0)
        }
        let target = position.map { Position(order: $0.order, slot: $0.slot + 1) } ?? Position(order: 0, slot: 0)
        let chunkID = chunkOrder[target.order]
        var item = item
        item.chunk = chunkID
        items.append(item)
        chunks[Int(chunkID)].members.insert(newIndex, at: target.slot)
        indexByReplica(newIndex)
        adjustVisible(order: target.order, by: item.visibleLength)
        rebalance(order: target.order)
    }

    /// Splits an over-full chunk in two.
    mutating func rebalance(order: Int) {
        let chunkID = chunkOrder[order]
        let members = chunks[Int(chunkID)].members
        guard members.count > Self.maxChunkSize else { return }
        let half = members.count / 2
        let moved = Array(members[half...])
        let newChunkID = Int32(chunks.count)
        var movedVisible = 0
        for index in moved {
            items[Int(index)].chunk = newChunkID
            movedVisible += items[Int(index)].visibleLength
        }
        chunks[Int(chunkID)].members.removeSubrange(half...)
        chunks[Int(chunkID)].visible -= movedVisible
        chunks.append(Chunk(members: moved, visible: movedVisible, order: Int32(order + 1)))
        chunkOrder.insert(newChunkID, at: order + 1)
        for shifted in (order + 2)..<chunkOrder.count { chunks[Int(chunkOrder[shifted])].order = Int32(shifted) }
        // A chunk after the split moved one place on; the split chunk's own start is unchanged.
        if order < cursorOrder { cursorOrder += 1 }
    }

    /// Marks `length` elements starting `offset` into the item at `position` as deleted,
    /// splitting the item where the range starts or ends inside it. Returns the
    /// position of the (last) item touched.
    mutating func markDeleted(at position: Position, offset: Int, length: Int) -> Position {
        var position = position
        if offset > 0 {
            let rest = split(at: position, offset: offset)
            position = self.position(of: rest)
        }
        var index = item(at: position)
        if length < Int(items[Int(index)].length) {
            split(at: position, offset: length)
            position = self.position(of: index)
            index = item(at: position)
        }
        if !items[Int(index)].deleted {
            items[Int(index)].deleted = true
            adjustVisible(order: position.order, by: -Int(items[Int(index)].length))
        }
        return position
    }
}
