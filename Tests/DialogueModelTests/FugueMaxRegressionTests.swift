import DialogueModel
import DialogueTestSupport
import Foundation
import Testing

/// The minimal histories on which YATA (Dialogue's order before FugueMax) and FugueMax
/// disagree, found by the property test (`FugueMaxTests`) and kept as fixtures
/// (`Fixtures/fuguemax/NAME.json`, a ``FugueMaxHistory`` as JSON). A FugueMax space must
/// read them as the reference does; a space created before FugueMax must keep reading
/// them the old way (its replicas' text does not change).
@Suite("FugueMax regressions")
struct FugueMaxRegressionTests {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures/fuguemax")

    /// The fixtures' names, sorted (each one a test case).
    static var names: [String] {
        let files = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return files.filter { $0.hasSuffix(".json") }.map { String($0.dropLast(5)) }.sorted()
    }

    static func history(_ name: String) throws -> FugueMaxHistory {
        try JSONDecoder().decode(FugueMaxHistory.self, from: Data(contentsOf: directory.appendingPathComponent("\(name).json")))
    }

    @Test("a FugueMax space reads the counterexample as the reference does", arguments: names)
    func fugueMaxSpace(name: String) throws {
        let divergence = try Self.history(name).firstDivergence(in: FugueMaxHistory.fugueMaxSpace)
        #expect(divergence == nil, "\(name): \(divergence.map(String.init(describing:)) ?? "")")
    }

    @Test("a space created before FugueMax keeps the YATA reading of the counterexample", arguments: names)
    func yataSpace(name: String) throws {
        #expect(try Self.history(name).firstDivergence(in: FugueMaxHistory.yataSpace) != nil, "\(name)")
    }

    @Test("a space's id fixes its text order: the FugueMax marker, or YATA for every other id")
    func textOrderFromSpaceID() {
        var random = SplitMix64(seed: 3)
        for _ in 0..<200 {
            let fugueMax = SpaceID.minted(textOrder: .fugueMax, using: &random)
            let yata = SpaceID.minted(textOrder: .yata, using: &random)
            #expect(InsertionOrder(textIn: fugueMax) == .fugueMax && SpaceDocument(space: fugueMax).textOrder == .fugueMax)
            #expect(InsertionOrder(textIn: yata) == .yata && SpaceDocument(space: yata).textOrder == .yata)
            #expect(InsertionOrder(textIn: SpaceID(UUID())) == .yata)  // every space made so far
            let bytes = fugueMax.uuid.uuid
            #expect(bytes.6 >> 4 == 8 && bytes.8 >> 6 == 0b10, "a UUIDv8 with the RFC 9562 variant")
        }
        #expect(FugueMaxHistory.fugueMaxSpace == SpaceID("5ace0000-0000-8f01-8000-00000000f0f0"))
        #expect(InsertionOrder(textIn: FugueMaxHistory.fugueMaxSpace) == .fugueMax)
        #expect(InsertionOrder(textIn: FugueMaxHistory.yataSpace) == .yata)
    }

    @Test("there are counterexamples to replay")
    func fixturesPresent() {
        #expect(!Self.names.isEmpty)
    }

    /// The execution of the paper's Figure 7: A, B, C typed concurrently at the start;
    /// X typed between A and C by a replica holding A and C, Y between A and B by one
    /// holding A and B. FugueMax reads A X Y B C, whichever of X and Y has the lower
    /// replica: Y stays next to B, the right origin it was typed against.
    @Test("the paper's Figure 7 reads A X Y B C in a FugueMax text", arguments: [(4, 5), (5, 4)])
    func figureSeven(x: UInt64, y: UInt64) throws {
        func replica(_ raw: UInt64) -> ReplicaID { ReplicaID(rawValue: raw)! }
        var a = TextSequence(order: .fugueMax)
        let insertA = try a.insert("A".unicodeScalars, at: 0, replica: replica(1), firstCounter: 1)
        var b = TextSequence(order: .fugueMax)
        let insertB = try b.insert("B".unicodeScalars, at: 0, replica: replica(2), firstCounter: 1)
        var c = TextSequence(order: .fugueMax)
        let insertC = try c.insert("C".unicodeScalars, at: 0, replica: replica(3), firstCounter: 1)
        var holdsAC = TextSequence(order: .fugueMax)
        for insertion in [insertA, insertC] { try holdsAC.integrate(insertion) }
        var holdsAB = TextSequence(order: .fugueMax)
        for insertion in [insertA, insertB] { try holdsAB.integrate(insertion) }
        #expect(holdsAC.text == "AC" && holdsAB.text == "AB")
        let insertX = try holdsAC.insert("X".unicodeScalars, at: 1, replica: replica(x), firstCounter: 1)
        let insertY = try holdsAB.insert("Y".unicodeScalars, at: 1, replica: replica(y), firstCounter: 1)
        for order in [[insertA, insertB, insertC, insertX, insertY], [insertA, insertC, insertX, insertB, insertY]] {
            var merged = TextSequence(order: .fugueMax)
            for insertion in order { try merged.integrate(insertion) }
            #expect(merged.text == "AXYBC", "x \(x), y \(y)")
        }
    }
}
