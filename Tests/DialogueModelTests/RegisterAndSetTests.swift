import DialogueTestSupport
import Testing

@testable import DialogueModel

private let alice = ReplicaID(rawValue: 0xA1)!
private let bob = ReplicaID(rawValue: 0xB0)!
private let carol = ReplicaID(rawValue: 0xC0)!
private let dave = ReplicaID(rawValue: 0xD0)!

/// A register write as it travels: the write and what it overwrote.
private struct RegisterOp: Sendable, CustomStringConvertible {
    var write: LWWRegister<String>.Write
    var predecessors: [Dot]

    init(_ value: String, _ wallTime: UInt64, _ dot: Dot, overwrites predecessors: [Dot] = []) {
        write = .init(value: value, timestamp: HLCTimestamp(wallTime: wallTime), dot: dot)
        self.predecessors = predecessors
    }

    var description: String { "\(write.value)@\(write.dot)" }
}

/// Every ordering of `items` (fine for a handful).
private func permutations<T>(_ items: [T]) -> [[T]] {
    guard items.count > 1 else { return [items] }
    var result: [[T]] = []
    for index in items.indices {
        var rest = items
        let head = rest.remove(at: index)
        for tail in permutations(rest) { result.append([head] + tail) }
    }
    return result
}

/// A random order of `count` operations in which each comes after those it depends on.
private func randomCausalOrder(count: Int, dependencies: (Int) -> [Int], using random: inout SplitMix64) -> [Int] {
    var done = Set<Int>()
    var order: [Int] = []
    while order.count < count {
        let ready = (0..<count).filter { !done.contains($0) && dependencies($0).allSatisfy(done.contains) }
        let next = ready.randomElement(using: &random)!
        done.insert(next)
        order.append(next)
    }
    return order
}

private func apply(_ ops: [RegisterOp]) -> LWWRegister<String> {
    var register = LWWRegister<String>()
    for op in ops { register.apply(op.write, predecessors: op.predecessors) }
    return register
}

private func isSortedWinnerFirst(_ writes: [LWWRegister<String>.Write]) -> Bool {
    zip(writes, writes.dropFirst()).allSatisfy { first, second in
        (first.timestamp, first.dot.replica, first.dot.counter) > (second.timestamp, second.dot.replica, second.dot.counter)
    }
}

@Suite("LWWRegister")
struct LWWRegisterTests {
    @Test func emptyRegisterHasNoValue() {
        let register = LWWRegister<String>()
        #expect(register.value == nil)
        #expect(register.winner == nil)
        #expect(register.losers.isEmpty)
        #expect(register.standingDots.isEmpty)
    }

    @Test func sequentialWritesOverwrite() {
        let first = RegisterOp("draft", 100, Dot(alice, 1))
        let second = RegisterOp("final", 90, Dot(alice, 2), overwrites: [Dot(alice, 1)])
        let register = apply([first, second])
        #expect(register.value == "final", "an overwrite wins even with an older timestamp: it saw the first")
        #expect(register.writes.count == 1)
        #expect(register.losers.isEmpty)
    }

    @Test func concurrentWritesKeepTheLosers() {
        let register = apply([
            RegisterOp("alice", 100, Dot(alice, 1)),
            RegisterOp("bob", 200, Dot(bob, 1)),
            RegisterOp("carol", 150, Dot(carol, 1)),
        ])
        #expect(register.value == "bob", "the latest timestamp wins")
        #expect(register.losers.map(\.value) == ["carol", "alice"], "losers are kept, best first")
        #expect(Set(register.standingDots) == [Dot(alice, 1), Dot(bob, 1), Dot(carol, 1)])
    }

    @Test func equalTimestampsAreBrokenByReplica() {
        let low = RegisterOp("low", 100, Dot(alice, 9))
        let high = RegisterOp("high", 100, Dot(bob, 1))
        #expect(apply([low, high]).value == "high")
        #expect(apply([high, low]).value == "high")
        #expect(apply([high, low]).losers.map(\.value) == ["low"])
    }

    @Test func timestampBeatsReplica() {
        let later = RegisterOp("later", 101, Dot(alice, 1))
        let higherReplica = RegisterOp("higher replica", 100, Dot(dave, 1))
        #expect(apply([later, higherReplica]).value == "later")
        #expect(apply([higherReplica, later]).value == "later")
    }

    @Test func logicalPartOfTheTimestampCounts() {
        var register = LWWRegister<String>()
        register.apply(.init(value: "x", timestamp: HLCTimestamp(wallTime: 5, logical: 2), dot: Dot(alice, 1)), predecessors: [])
        register.apply(.init(value: "y", timestamp: HLCTimestamp(wallTime: 5, logical: 1), dot: Dot(bob, 1)), predecessors: [])
        #expect(register.value == "x")
    }

    @Test("the winner is the maximum by (timestamp, replica)", arguments: 0..<100)
    func winnerIsTheMaximum(seed: UInt64) {
        var random = SplitMix64(seed: seed)
        let replicas = [alice, bob, carol, dave]
        var ops: [RegisterOp] = []
        for (index, replica) in replicas.enumerated() where index == 0 || Bool.random(using: &random) {
            ops.append(RegisterOp("v\(index)", UInt64.random(in: 1...3, using: &random), Dot(replica, 1)))
        }
        ops.shuffle(using: &random)
        let register = apply(ops)
        let best = ops.map(\.write).max { ($0.timestamp, $0.dot.replica) < ($1.timestamp, $1.dot.replica) }!
        #expect(register.winner == best, "seed \(seed)")
        #expect(register.writes.count == ops.count, "seed \(seed): concurrent writes all stand")
        #expect(isSortedWinnerFirst(register.writes), "seed \(seed)")
    }

    @Test func aWriteThatSawBothResolvesTheConflict() {
        var register = apply([RegisterOp("alice", 100, Dot(alice, 1)), RegisterOp("bob", 200, Dot(bob, 1))])
        #expect(register.writes.count == 2)
        // Carol merged both, saw the conflict, and wrote a resolution (even with an older clock).
        register.apply(
            .init(value: "resolved", timestamp: HLCTimestamp(wallTime: 50), dot: Dot(carol, 1)), predecessors: register.standingDots)
        #expect(register.value == "resolved")
        #expect(register.losers.isEmpty)
    }

    @Test func aWriteThatSawOnlyOneLeavesTheOtherStanding() {
        var register = apply([RegisterOp("alice", 100, Dot(alice, 1)), RegisterOp("bob", 200, Dot(bob, 1))])
        register.apply(
            .init(value: "alice again", timestamp: HLCTimestamp(wallTime: 300), dot: Dot(alice, 2)), predecessors: [Dot(alice, 1)])
        #expect(register.value == "alice again")
        #expect(register.losers.map(\.value) == ["bob"])
    }

    @Test func reapplyingAWriteIsIdempotent() {
        let op = RegisterOp("once", 100, Dot(alice, 1))
        let other = RegisterOp("other", 90, Dot(bob, 1))
        #expect(apply([op, other, op, other, op]) == apply([op, other]))
        #expect(apply([op, op]).writes.count == 1)
    }

    /// A small history with concurrency and conflict resolution.
    /// - a1 (Alice), b1 (Bob), d1 (Dave): concurrent first writes.
    /// - c1 (Carol) overwrote a1 only.
    /// - a2 (Alice) saw b1 and c1 and overwrote both.
    /// - b2 (Bob) overwrote b1 only, concurrently with a2.
    private static let history: [RegisterOp] = [
        RegisterOp("a1", 100, Dot(alice, 1)),
        RegisterOp("b1", 105, Dot(bob, 1)),
        RegisterOp("d1", 90, Dot(dave, 1)),
        RegisterOp("c1", 103, Dot(carol, 1), overwrites: [Dot(alice, 1)]),
        RegisterOp("a2", 110, Dot(alice, 2), overwrites: [Dot(bob, 1), Dot(carol, 1)]),
        RegisterOp("b2", 120, Dot(bob, 2), overwrites: [Dot(bob, 1)]),
    ]

    /// Causal delivery: a write arrives after the writes it overwrote and after its author's previous write.
    private static func respectsCausality(_ order: [RegisterOp]) -> Bool {
        var seen = Set<Dot>()
        for op in order {
            let own = op.write.dot.counter > 1 ? [Dot(op.write.dot.replica, op.write.dot.counter - 1)] : []
            guard (op.predecessors + own).allSatisfy(seen.contains) else { return false }
            // a2 saw c1, and c1 saw a1: the transitive past must have arrived too.
            if op.write.dot == Dot(alice, 2), !seen.contains(Dot(alice, 1)) { return false }
            seen.insert(op.write.dot)
        }
        return true
    }

    @Test func everyCausalOrderGivesTheSameWrites() {
        let orders = permutations(Self.history).filter(Self.respectsCausality)
        #expect(orders.count > 20)
        let expected = apply(Self.history)
        #expect(expected.writes.map(\.value) == ["b2", "a2", "d1"])
        for order in orders {
            #expect(apply(order).writes == expected.writes, "order \(order)")
        }
    }

    @Test("random causal histories converge in any causal order", arguments: 0..<60)
    func randomHistoriesConverge(seed: UInt64) {
        var random = SplitMix64(seed: seed)
        let replicas = [alice, bob, carol]
        // Each replica's local view; writes overwrite what the author sees, then spread at random.
        var views = replicas.map { _ in LWWRegister<String>() }
        var seen = replicas.map { _ in Set<Int>() }
        var ops: [RegisterOp] = []
        var past: [Set<Int>] = []  // the ops each op causally follows
        var counters = replicas.map { _ in UInt64(0) }
        for step in 0..<12 {
            let author = Int.random(in: 0..<replicas.count, using: &random)
            if Bool.random(using: &random), !ops.isEmpty {
                // Deliver some op (and its causal past) to the author.
                let index = Int.random(in: 0..<ops.count, using: &random)
                for delivered in (past[index].union([index])).sorted() where !seen[author].contains(delivered) {
                    views[author].apply(ops[delivered].write, predecessors: ops[delivered].predecessors)
                    seen[author].insert(delivered)
                }
            }
            counters[author] += 1
            let op = RegisterOp(
                "s\(step)", UInt64.random(in: 1...5, using: &random), Dot(replicas[author], counters[author]),
                overwrites: views[author].standingDots)
            past.append(seen[author])
            ops.append(op)
            views[author].apply(op.write, predecessors: op.predecessors)
            seen[author].insert(ops.count - 1)
        }
        let reference = apply(ops)
        #expect(isSortedWinnerFirst(reference.writes), "seed \(seed)")
        for _ in 0..<10 {
            let order = randomCausalOrder(count: ops.count, dependencies: { Array(past[$0]) }, using: &random)
            #expect(apply(order.map { ops[$0] }).writes == reference.writes, "seed \(seed) order \(order)")
        }
    }
}

@Suite("ORSet")
struct ORSetTests {
    @Test func addThenContains() {
        var set = ORSet<String>()
        #expect(!set.contains("x"))
        set.add("x", dot: Dot(alice, 1))
        #expect(set.contains("x"))
        #expect(set.count == 1)
        #expect(set.observedTags(of: "x") == [Dot(alice, 1)])
        #expect(Set(set.elements) == ["x"])
    }

    @Test func removeOfObservedTagsRemoves() {
        var set = ORSet<String>()
        set.add("x", dot: Dot(alice, 1))
        set.add("x", dot: Dot(bob, 1))
        set.add("y", dot: Dot(alice, 2))
        set.remove("x", observed: set.observedTags(of: "x"))
        #expect(!set.contains("x"))
        #expect(set.tags["x"] == nil, "an element without tags is not stored")
        #expect(set.count == 1)
        #expect(set.contains("y"))
    }

    @Test func removeOfSomeTagsKeepsTheOthers() {
        var set = ORSet<String>()
        set.add("x", dot: Dot(alice, 1))
        set.add("x", dot: Dot(bob, 1))
        set.remove("x", observed: [Dot(alice, 1)])
        #expect(set.contains("x"))
        #expect(set.observedTags(of: "x") == [Dot(bob, 1)])
    }

    @Test func removeOfAnAbsentElementDoesNothing() {
        var set = ORSet<String>()
        set.add("y", dot: Dot(alice, 1))
        let before = set
        set.remove("x", observed: [Dot(alice, 1)])
        set.remove("y", observed: [Dot(bob, 7)])
        #expect(set == before)
    }

    @Test func addWinsOverAConcurrentRemove() {
        // Alice adds x; Bob sees it and removes it; concurrently Carol adds x again.
        let add = (element: "x", dot: Dot(alice, 1))
        let concurrentAdd = (element: "x", dot: Dot(carol, 1))
        let removeObserved = [Dot(alice, 1)]
        var bobFirst = ORSet<String>()
        bobFirst.add(add.element, dot: add.dot)
        bobFirst.remove("x", observed: removeObserved)
        bobFirst.add(concurrentAdd.element, dot: concurrentAdd.dot)
        var carolFirst = ORSet<String>()
        carolFirst.add(add.element, dot: add.dot)
        carolFirst.add(concurrentAdd.element, dot: concurrentAdd.dot)
        carolFirst.remove("x", observed: removeObserved)
        #expect(bobFirst.contains("x"))
        #expect(bobFirst == carolFirst)
        #expect(bobFirst.observedTags(of: "x") == [Dot(carol, 1)])
    }

    @Test func reAddAfterRemove() {
        var set = ORSet<String>()
        set.add("x", dot: Dot(alice, 1))
        set.remove("x", observed: set.observedTags(of: "x"))
        #expect(!set.contains("x"))
        set.add("x", dot: Dot(alice, 3))
        #expect(set.contains("x"))
        #expect(set.observedTags(of: "x") == [Dot(alice, 3)])
    }

    @Test func addingTheSameTagTwiceIsIdempotent() {
        var set = ORSet<String>()
        set.add("x", dot: Dot(alice, 1))
        let once = set
        set.add("x", dot: Dot(alice, 1))
        #expect(set == once)
        set.remove("x", observed: [Dot(alice, 1)])
        set.remove("x", observed: [Dot(alice, 1)])
        #expect(set.count == 0)
    }

    private enum SetOp: CustomStringConvertible {
        case add(String, Dot)
        case remove(String, observed: [Dot])

        var description: String {
            switch self {
            case .add(let element, let dot): "+\(element)\(dot)"
            case .remove(let element, let observed): "-\(element)\(observed)"
            }
        }
    }

    @Test("operations commute under causal delivery", arguments: 0..<100)
    func operationsCommute(seed: UInt64) {
        var random = SplitMix64(seed: seed)
        let replicas = [alice, bob, carol]
        let elements = ["a", "b", "🍎"]
        var views = replicas.map { _ in ORSet<String>() }
        var seen = replicas.map { _ in Set<Int>() }
        var counters = replicas.map { _ in UInt64(0) }
        var ops: [SetOp] = []
        var past: [Set<Int>] = []
        func perform(_ op: SetOp, on set: inout ORSet<String>) {
            switch op {
            case .add(let element, let dot): set.add(element, dot: dot)
            case .remove(let element, let observed): set.remove(element, observed: observed)
            }
        }
        for _ in 0..<16 {
            let author = Int.random(in: 0..<replicas.count, using: &random)
            if Bool.random(using: &random), !ops.isEmpty {
                let index = Int.random(in: 0..<ops.count, using: &random)
                for delivered in past[index].union([index]).sorted() where !seen[author].contains(delivered) {
                    perform(ops[delivered], on: &views[author])
                    seen[author].insert(delivered)
                }
            }
            let element = elements.randomElement(using: &random)!
            let op: SetOp
            if views[author].contains(element), Bool.random(using: &random) {
                op = .remove(element, observed: views[author].observedTags(of: element))
            } else {
                counters[author] += 1
                op = .add(element, Dot(replicas[author], counters[author]))
            }
            past.append(seen[author])
            ops.append(op)
            perform(op, on: &views[author])
            seen[author].insert(ops.count - 1)
        }
        var reference = ORSet<String>()
        for op in ops { perform(op, on: &reference) }
        for _ in 0..<10 {
            let order = randomCausalOrder(count: ops.count, dependencies: { Array(past[$0]) }, using: &random)
            var set = ORSet<String>()
            for index in order { perform(ops[index], on: &set) }
            #expect(set == reference, "seed \(seed): order \(order.map { ops[$0] })")
        }
        // Add wins: an element is present exactly when some add of it was not observed by any remove.
        for element in elements {
            let added: [Dot] = ops.compactMap { if case .add(element, let dot) = $0 { dot } else { nil } }
            let removed: [Dot] = ops.flatMap { op -> [Dot] in if case .remove(element, let observed) = op { observed } else { [] } }
            #expect(reference.contains(element) == !Set(added).subtracting(removed).isEmpty, "seed \(seed) element \(element)")
        }
    }
}
