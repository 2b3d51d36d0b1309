import DialogueModel
import DialogueTestSupport
import Foundation
import Testing

/// Dialogue's text order is exactly FugueMax: random histories replayed through replicas'
/// documents (and the concurrent text path) give, at every replica and every step, the
/// text that ``FugueMaxReference`` gives.
@Suite("FugueMax")
struct FugueMaxTests {
    /// 10,000 histories in 20 batches (batches run in parallel).
    static let batches = 20
    static let historiesPerBatch = 500

    @Test("random histories of 2–8 replicas read as FugueMax", arguments: 0..<batches)
    func randomHistories(batch: Int) throws {
        for offset in 0..<Self.historiesPerBatch {
            let seed = UInt64(batch * Self.historiesPerBatch + offset)
            let history = FugueMaxHistory.random(seed: seed)
            guard try history.firstDivergence() != nil else { continue }
            let minimal = try history.shrunk()
            let divergence = try #require(try minimal.firstDivergence())
            let json = String(decoding: try JSONEncoder().encode(minimal), as: UTF8.self)
            Issue.record("seed \(seed) differs from FugueMax; minimal history \(json)\n\(divergence)")
            return
        }
    }

    /// How many of the same histories the old order (YATA, spaces created before
    /// FugueMax) reads differently: a measurement, run on request
    /// (`DIALOGUE_COUNT_YATA=1 swift test --filter FugueMaxTests/yataDivergences`). With
    /// `DIALOGUE_WRITE_FIXTURES=1` it also shrinks the first differing histories and writes
    /// the distinct minimal ones to `Fixtures/fuguemax/` (the regression tests replay them).
    @Test(
        "how many random histories YATA reads differently from FugueMax",
        .enabled(if: ProcessInfo.processInfo.environment["DIALOGUE_COUNT_YATA"] == "1"))
    func yataDivergences() throws {
        var differing: [UInt64] = []
        let total = Self.batches * Self.historiesPerBatch
        for seed in 0..<UInt64(total)
        where try FugueMaxHistory.random(seed: seed).firstDivergence(in: FugueMaxHistory.yataSpace) != nil {
            differing.append(seed)
        }
        print("YATA differs from FugueMax on \(differing.count) of \(total) histories; first seeds \(differing.prefix(20))")
        guard ProcessInfo.processInfo.environment["DIALOGUE_WRITE_FIXTURES"] == "1" else { return }
        var written: Set<String> = []
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        for seed in differing.prefix(60) {
            let minimal = try FugueMaxHistory.random(seed: seed).shrunk(in: FugueMaxHistory.yataSpace)
            // Replica ids and letters aside, one shape is kept once.
            let json = String(decoding: try encoder.encode(minimal), as: UTF8.self)
            guard written.insert(json).inserted else { continue }
            try Data(json.utf8).write(to: FugueMaxRegressionTests.directory.appendingPathComponent("yata-seed-\(seed).json"))
            print("seed \(seed): \(try #require(try minimal.firstDivergence(in: FugueMaxHistory.yataSpace)))")
        }
    }

    @Test("the reference inserts where it is asked to: local edits match a plain string")
    func referenceFollowsLocalEdits() {
        var random = SplitMix64(seed: 7)
        let replica = ReplicaID(rawValue: 5)!
        var reference = FugueMaxReference()
        var model: [Unicode.Scalar] = []
        for counter in UInt64(1)...400 {
            if !model.isEmpty, Int.random(in: 0..<3, using: &random) == 0 {
                let position = Int.random(in: 0..<model.count, using: &random)
                _ = reference.delete(at: position)
                model.remove(at: position)
            } else {
                let position = Int.random(in: 0...model.count, using: &random)
                let scalar = Unicode.Scalar(UInt8(97 + counter % 26))
                _ = reference.insert(scalar, at: position, id: Dot(replica, counter))
                model.insert(scalar, at: position)
            }
            #expect(reference.text == model)
        }
    }

    @Test("the reference orders the paper's Figure 7 as A X Y B C, whatever the ids of X and Y")
    func referenceFigureSeven() {
        // A, B, C typed concurrently at the start (ids ordered A < B < C); one replica that
        // holds A and C types X between them, one that holds A and B types Y between them.
        let (a, b, c) = (Dot(ReplicaID(rawValue: 1)!, 1), Dot(ReplicaID(rawValue: 2)!, 1), Dot(ReplicaID(rawValue: 3)!, 1))
        for (x, y) in [
            (Dot(ReplicaID(rawValue: 4)!, 2), Dot(ReplicaID(rawValue: 5)!, 2)),
            (Dot(ReplicaID(rawValue: 5)!, 2), Dot(ReplicaID(rawValue: 4)!, 2)),
        ] {
            var first = FugueMaxReference()
            var second = FugueMaxReference()
            var all = FugueMaxReference()
            var made: [FugueMaxReference.Insertion] = []
            for (id, value) in [(a, "A"), (b, "B"), (c, "C")] {
                var alone = FugueMaxReference()
                made.append(alone.insert(Unicode.Scalar(value)!, at: 0, id: id))
            }
            for insertion in [made[0], made[2]] { first.apply(insertion) }
            for insertion in [made[0], made[1]] { second.apply(insertion) }
            #expect(first.text == ["A", "C"] && second.text == ["A", "B"])
            let madeX = first.insert("X", at: 1, id: x)
            let madeY = second.insert("Y", at: 1, id: y)
            for insertion in made + [madeX, madeY] { all.apply(insertion) }
            #expect(String(String.UnicodeScalarView(all.text)) == "AXYBC", "x \(x), y \(y)")
        }
    }
}
