import DialogueTestSupport
import Testing

@testable import DialogueModel

@Suite("RunSequence")
struct RunSequenceTests {
    let alice = ReplicaID(rawValue: 1)!
    let bob = ReplicaID(rawValue: 2)!

    @Test("local edits match a plain string model", arguments: 0..<200)
    func localEditsMatchModel(seed: UInt64) throws {
        var random = SplitMix64(seed: seed)
        var sequence = TextSequence()
        var model: [Unicode.Scalar] = []
        var counter: UInt64 = 1
        for step in 0..<300 {
            let position = Int.random(in: 0...model.count, using: &random)
            if !model.isEmpty, Bool.random(using: &random), position < model.count {
                let length = Int.random(in: 1...min(8, model.count - position), using: &random)
                let ranges = try sequence.delete(at: position, length: length)
                #expect(ranges.reduce(0) { $0 + $1.length } == UInt64(length), "seed \(seed) step \(step)")
                model.removeSubrange(position..<position + length)
            } else {
                let text = Array("abcdefghij".unicodeScalars.prefix(Int.random(in: 1...5, using: &random)))
                _ = try sequence.insert(text, at: position, replica: alice, firstCounter: counter)
                counter += UInt64(text.count)
                model.insert(contentsOf: text, at: position)
            }
            #expect(sequence.elements == model, "seed \(seed) step \(step)")
            #expect(sequence.count == model.count)
        }
    }

    @Test("text is the visible scalars as a string: ASCII, accents, combining marks, emoji, deletions")
    func textOfMixedScalars() throws {
        var sequence = TextSequence()
        #expect(sequence.text == "")
        let words = "Café na\u{0308}ive 👩🏽‍🏫 ok"
        _ = try sequence.insert(words.unicodeScalars, at: 0, replica: alice, firstCounter: 1)
        #expect(sequence.text.utf8.elementsEqual(words.utf8))
        _ = try sequence.delete(at: 0, length: 5)
        let rest = String(String.UnicodeScalarView(words.unicodeScalars.dropFirst(5)))
        #expect(sequence.text.utf8.elementsEqual(rest.utf8))
        _ = try sequence.delete(at: 0, length: sequence.count)
        #expect(sequence.text == "")
    }

    @Test("an author's index finds every run after splits in any order, across many blocks")
    func replicaIndexAcrossBlocks() {
        var random = SplitMix64(seed: 15)
        var index = TextSequence.ReplicaItems(replica: 1)
        var model: [(counter: UInt64, index: Int32)] = []
        // Runs appended in counter order, then split at random places in random order.
        for run in 0..<1_000 {
            index.add(counter: UInt64(run) * 1_000 + 1, index: Int32(model.count))
            model.append((UInt64(run) * 1_000 + 1, Int32(model.count)))
        }
        for _ in 0..<3_000 {
            let counter = UInt64.random(in: 1...1_000_000, using: &random)
            guard !model.contains(where: { $0.counter == counter }) else { continue }
            index.add(counter: counter, index: Int32(model.count))
            model.append((counter, Int32(model.count)))
        }
        model.sort { $0.counter < $1.counter }
        #expect(index.blocks.allSatisfy { !$0.isEmpty && $0.count <= TextSequence.ReplicaItems.blockSize })
        #expect(index.blocks.flatMap { $0.map(\.counter) } == model.map(\.counter))
        #expect(index.firstCounters == index.blocks.map { $0[0].counter })
        #expect(index.lastIndex(atMost: 0) == nil)
        for _ in 0..<5_000 {
            let counter = UInt64.random(in: 1...1_001_000, using: &random)
            let expected = model.last { $0.counter <= counter }?.index
            #expect(index.lastIndex(atMost: counter) == expected, "counter \(counter)")
        }
    }

    @Test("40 authors inserting at one place agree in any delivery order, runs whole, also when the scan clock wraps")
    func manyAuthorsAtOnePlace() throws {
        var base = TextSequence()
        _ = try base.insert("ab".unicodeScalars, at: 0, replica: ReplicaID(rawValue: 1_000)!, firstCounter: 1)
        // Each author types two scalars between a and b, then one between its own two.
        var byAuthor: [[SequenceInsertion<Unicode.Scalar>]] = []
        for author in 1...40 {
            var copy = base
            let replica = ReplicaID(rawValue: UInt64(author))!
            let scalars = (0..<3).map { Unicode.Scalar(0x100 + UInt32(author) * 3 + $0)! }
            let first = try copy.insert(scalars[0...1], at: 1, replica: replica, firstCounter: 1)
            let second = try copy.insert(scalars[2...2], at: 2, replica: replica, firstCounter: 3)
            byAuthor.append([first, second])
        }
        var outcomes: [[(first: Dot, length: Int, deleted: Bool)]] = []
        for seed in 0..<6 {
            var random = SplitMix64(seed: UInt64(seed))
            var sequence = base
            // On half the orders the clock is about to run out, so a scan winds it back.
            if seed % 2 == 1 { sequence.scanClock = UInt32.max - 5 }
            var next = Array(repeating: 0, count: byAuthor.count)
            while let author = next.indices.filter({ next[$0] < 2 }).randomElement(using: &random) {
                try sequence.integrate(byAuthor[author][next[author]])
                next[author] += 1
            }
            #expect(sequence.scanClock < UInt32.max - 5 || seed % 2 == 0)
            let scalars = sequence.elements
            #expect(scalars.count == 2 + 40 * 3)
            for author in 1...40 {
                // The author's own second insertion sits inside its run, which nobody split.
                let at = scalars.firstIndex(of: Unicode.Scalar(0x100 + UInt32(author) * 3)!)!
                #expect(scalars[at + 1].value == 0x100 + UInt32(author) * 3 + 2, "seed \(seed) author \(author)")
                #expect(scalars[at + 2].value == 0x100 + UInt32(author) * 3 + 1, "seed \(seed) author \(author)")
            }
            outcomes.append(sequence.canonicalRuns)
        }
        for outcome in outcomes.dropFirst() {
            #expect(outcome.map { "\($0.first)+\($0.length)" } == outcomes[0].map { "\($0.first)+\($0.length)" })
        }
    }
}
