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
}
