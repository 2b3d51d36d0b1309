import Foundation
import Testing

@testable import DialogueModel

private let r1 = ReplicaID(rawValue: 0x0123_4567_89ab_cdef)!
private let r2 = ReplicaID(rawValue: 0xA1)!
private let entity = EntityID("5e5e5e5e-1111-4222-8333-444444444444")!
private let space = SpaceID("11111111-2222-4333-8444-555555555555")!

/// Every operation kind (and every value kind), with its canonical bytes and content hash
/// computed apart, in Python, from docs/TRUST.md and the encoding documented on
/// `Operation.canonicalBytes`: changing `ChangeCodec` (or this encoding) fails here.
private let operationVectors: [(String, DialogueModel.Operation, String, String)] = [
    (
        "create", .create(kind: "insight", predecessors: [Dot(r2, 3)]), "0007696e736967687401a10000000000000003",
        "b77afeab1813b69cf068ff2e1c7150e616c50b64c2c57c4342e9145dfca2ae0b"
    ),
    (
        "delete", .delete(observed: VersionVector([r2: 5, r1: 2])), "0102a10000000000000005efcdab896745230102",
        "3d584c7f02edff5354ec4573749f91ef532c6f15da452ea509e8a74b66b462a8"
    ),
    (
        "set", .set(.string("héllo"), predecessors: [Dot(r1, 1), Dot(r2, 2)]),
        "02030668c3a96c6c6f02efcdab896745230101a10000000000000002",
        "3e6d6668d0363410d8ea2cb72d053673d1845003958003e27e7837987bab482d"
    ),
    ("setNull", .set(.null, predecessors: []), "020000", "b9c78bc2d5a5392152c56a9e379f35a1aacf028bd71525e6ff3823131d16b54d"),
    ("add", .add(.int(-3)), "030205", "2011b5ecdf83114dda1e1611a30d69a60809236f6113e33eba5e4bdd8d08d6a1"),
    (
        "addTimestamp", .add(.timestamp(1_765_000_000_123)), "0304f6c995a3de66",
        "927cc9132274baf43b5cf34906ed0c37a0bb4cf3274aa41d2fc04f9541ea48e3"
    ),
    (
        "remove", .remove(.reference(entity), observed: [Dot(r2, 7)]),
        "04055e5e5e5e11114222833344444444444401a10000000000000007",
        "9118295f028744edc46e9b0251e051fc1d15020e9cfcd4e356061c78f4662252"
    ),
    (
        "insertText", .insertText(originLeft: Dot(r1, 10), originRight: nil, text: "añb😀"),
        "0501efcdab89674523010a000861c3b162f09f9880", "51b6bd7d06a69a98f782fc79ad9db27375418bd5b979c0146656f4fd9b51e528"
    ),
    (
        "deleteText", .deleteText([try! DotRange(replica: r2, firstCounter: 4, length: 3)]), "0601a1000000000000000403",
        "7931489f495f1d95dd01a863b907d97994e1de374de7be7769031d91a1a49aff"
    ),
    (
        "insertItem", .insertItem(originLeft: nil, originRight: Dot(r2, 1), value: .bool(true)),
        "070001a100000000000000010101", "e2806a36e7a2ede299f5247d60af0e8e51ee9063b9048b28e8e3f03717d6f129"
    ),
    (
        "moveItem", .moveItem(element: Dot(r2, 9), originLeft: Dot(r1, 1), originRight: nil, predecessors: [Dot(r1, 5)]),
        "08a1000000000000000901efcdab8967452301010001efcdab896745230105",
        "de6bd3fd9aa596ffc21c2d31c768da491d04dbea426e18370f361bec5806968b"
    ),
    (
        "removeItem", .removeItem(element: Dot(r1, 300)), "09efcdab8967452301ac02",
        "48e7cd849cb80345e45b18974dda079763bc1662055464ed99188341fca1a4c7"
    ),
]

/// The two changes of the frozen chain vector.
private let first = Change(
    id: Dot(r1, 1), timestamp: HLCTimestamp(wallTime: 1_765_000_000_000), space: space, entity: entity, field: "",
    operation: .create(kind: "insight", predecessors: [Dot(r2, 3)]))
private let second = Change(
    id: Dot(r1, 2), timestamp: HLCTimestamp(wallTime: 1_765_000_000_123, logical: 2), space: space, entity: entity,
    field: "body", dependencies: [Dot(r2, 4)], operation: .insertText(originLeft: nil, originRight: nil, text: "añb😀"))

@Suite("Trust: change digests and hash chains")
struct ChainHashingTests {
    @Test(arguments: operationVectors.map { $0.0 })
    func operationCanonicalBytesAreFrozen(name: String) {
        let (_, operation, bytes, contentHash) = operationVectors.first { $0.0 == name }!
        #expect(operation.canonicalBytes.hex == bytes)
        let change = Change(
            id: Dot(r1, 1), timestamp: .zero, space: space, entity: entity, field: "f", operation: operation)
        #expect(change.contentHash.hex == contentHash)
    }

    @Test func everyOperationKindHasAVector() {
        let kinds = Set(operationVectors.map { $0.1.canonicalBytes[0] })
        #expect(kinds == Set(0...9), "one vector per operation kind")
        let values = Set(
            operationVectors.compactMap { vector -> UInt8? in
                switch vector.1 {
                case .set(let value, _), .add(let value), .remove(let value, _), .insertItem(_, _, let value):
                    FieldValue.rankForTest(value)
                default: nil
                }
            })
        #expect(values == Set(0...5), "one vector per value kind")
    }

    @Test func changeDigestsAndChainHashesAreFrozen() throws {
        #expect(first.digest.hex == "a9f8e64ea5d7ef16f4b2ca319ff86c2716da650aedfc1d33fc81f8dc930a3e5a")
        #expect(second.digest.hex == "4c982b9c589951683e2936e966f214f3254dc4795002d1a3be78529e0616c970")
        var chain = DeviceChain(space: space, replica: r1)
        #expect(chain.hash == [UInt8](repeating: 0, count: 32))
        #expect(chain.counter == 0)
        try chain.advance(over: first)
        #expect(chain.counter == 1)
        #expect(chain.hash.hex == "ba57f6ae7f5d30248758beb1cda2df9ce0e185127e9a9d1552814fe2cdca8d74")
        try chain.advance(over: second)
        #expect(chain.counter == 5, "the position after a change is its last counter (4 scalars from 2)")
        #expect(chain.hash.hex == "e5f968c9cd942c01ede743f79ad2dc163c42426e9eda78c0c5604a7ab462a00c")

        var fast = DeviceChain(space: space, replica: r1)
        try fast.advance(over: [first, second])
        #expect(fast == chain, "the fast path and one change at a time agree")
        let resumed = DeviceChain(
            space: space, replica: r1, counter: 1, hash: Array(hex: "ba57f6ae7f5d30248758beb1cda2df9ce0e185127e9a9d1552814fe2cdca8d74"))
        var again = resumed
        try again.advance(over: [second])
        #expect(again == chain, "a chain resumes from a stored position")
    }

    /// The digest covers every metadata field and the content: changing any one changes it.
    @Test func theDigestCoversEveryField() {
        var variants: [Change] = []
        func variant(_ alter: (inout Change) -> Void) {
            var copy = second
            alter(&copy)
            variants.append(copy)
        }
        variant { $0.id = Dot(r2, 2) }
        variant { $0.id.counter = 3 }
        variant { $0.timestamp.wallTime += 1 }
        variant { $0.timestamp.logical += 1 }
        variant { $0.space = SpaceID("21111111-2222-4333-8444-555555555555")! }
        variant { $0.entity = EntityID("6e5e5e5e-1111-4222-8333-444444444444")! }
        variant { $0.field = "bodz" }
        variant { $0.dependencies = [Dot(r2, 5)] }
        variant { $0.dependencies = [] }
        variant { $0.operation = .insertText(originLeft: nil, originRight: nil, text: "añc😀") }
        variant { $0.operation = .insertText(originLeft: Dot(r2, 1), originRight: nil, text: "añb😀") }
        let digests = Set(variants.map(\.digest) + [second.digest])
        #expect(digests.count == variants.count + 1)
    }

    /// Content is hashed apart: two changes with equal content hashes and metadata have equal
    /// digests, whatever ChangeCodec does (the erasure of issue 13 keeps `contentHash` only).
    @Test func theDigestDependsOnTheContentOnlyThroughItsHash() throws {
        let decoded = try ChangeCodec.decode(ChangeCodec.encode([first, second]))
        #expect(decoded.map(\.digest) == [first.digest, second.digest])
        #expect(
            second.contentHash
                == Change(
                    id: Dot(r2, 9), timestamp: .zero, space: space, entity: entity, field: "x", operation: second.operation
                ).contentHash)
    }

    @Test func aChainRefusesChangesThatDoNotFollowOn() throws {
        var chain = DeviceChain(space: space, replica: r1)
        #expect(throws: TrustError.counterGap(r1, held: 0, first: 2)) { try chain.advance(over: second) }
        #expect(chain == DeviceChain(space: space, replica: r1), "left where it was")
        var foreign = first
        foreign.id = Dot(r2, 1)
        #expect(throws: TrustError.self) { try chain.advance(over: foreign) }
        var elsewhere = first
        elsewhere.space = SpaceID("21111111-2222-4333-8444-555555555555")!
        #expect(throws: TrustError.self) { try chain.advance(over: elsewhere) }
        var empty = first
        empty.operation = .insertText(originLeft: nil, originRight: nil, text: "")
        #expect(throws: TrustError.self) { try chain.advance(over: empty) }
        #expect(throws: TrustError.counterGap(r1, held: 1, first: 3)) {
            var gapped = second
            gapped.id.counter = 3
            try chain.advance(over: [first, gapped])
        }
        #expect(chain.counter == 0, "the fast path leaves the chain where it was on a throw")
    }

    @Test func aChainSignsItsHead() throws {
        var chain = DeviceChain(space: space, replica: r1)
        try chain.advance(over: [first, second])
        let head = chain.head(signedBy: TrustFixtures.deviceKey)
        #expect(head.counter == 5)
        #expect(head.hash == chain.hash)
        #expect(head.space == space && head.replica == r1)
        try head.verify(signedBy: TrustFixtures.deviceKey.publicKey)
    }
}

extension FieldValue {
    static func rankForTest(_ value: FieldValue) -> UInt8 { UInt8(value.rank) }
}
