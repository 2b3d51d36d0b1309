import DialogueTestSupport
import Foundation
import Testing

@testable import DialogueModel

private let a = ReplicaID(rawValue: 0xA)!
private let b = ReplicaID(rawValue: 0xB)!
private let c = ReplicaID(rawValue: 0xC)!
private let replicaPool = (1...6).map { ReplicaID(rawValue: $0)! }

/// A random vector over a small pool of replicas, small counters so that entries collide.
private func randomVector(_ random: inout SplitMix64) -> VersionVector {
    var counters: [ReplicaID: UInt64] = [:]
    for replica in replicaPool where Bool.random(using: &random) {
        counters[replica] = UInt64.random(in: 0...6, using: &random)
    }
    return VersionVector(counters)
}

/// Every dot a vector holds (fine for small counters).
private func dots(of vector: VersionVector) -> Set<Dot> {
    Set(vector.counters.flatMap { replica, counter in (1...max(counter, 1)).map { Dot(replica, $0) } }.filter(vector.contains))
}

@Suite("VersionVector")
struct VersionVectorTests {
    // MARK: contains / record / zero entries

    @Test func emptyVectorHoldsNothing() {
        let vector = VersionVector()
        #expect(vector.counters.isEmpty)
        #expect(vector[a] == 0)
        #expect(!vector.contains(Dot(a, 1)))
        #expect(vector.operationCount == 0)
        #expect(vector.description == "{}")
    }

    @Test func recordRaisesAndNeverLowers() {
        var vector = VersionVector()
        vector.record(Dot(a, 3))
        #expect(vector[a] == 3)
        vector.record(Dot(a, 2))
        #expect(vector[a] == 3, "record never lowers an entry")
        vector.record(Dot(a, 7))
        #expect(vector[a] == 7)
        vector.record(Dot(b, 1))
        #expect(vector.counters == [a: 7, b: 1])
        #expect(vector.operationCount == 8)
    }

    @Test func containsIsAPrefixTest() {
        let vector = VersionVector([a: 4, b: 1])
        for counter: UInt64 in 1...4 { #expect(vector.contains(Dot(a, counter))) }
        #expect(!vector.contains(Dot(a, 5)))
        #expect(vector.contains(Dot(b, 1)))
        #expect(!vector.contains(Dot(b, 2)))
        #expect(!vector.contains(Dot(c, 1)))
    }

    @Test func initialiserDropsZeroEntries() {
        let vector = VersionVector([a: 0, b: 2, c: 0])
        #expect(vector.counters == [b: 2])
        #expect(vector == VersionVector([b: 2]))
    }

    @Test func subscriptSetToZeroRemovesTheEntry() {
        var vector = VersionVector([a: 3, b: 2])
        vector[a] = 0
        #expect(vector.counters == [b: 2])
        #expect(vector == VersionVector([b: 2]))
        vector[c] = 0
        #expect(vector.counters == [b: 2], "setting an absent entry to zero stores nothing")
    }

    /// Recording counter 0 must not store a zero entry (an earlier dictionary version did).
    @Test
    func recordingCounterZeroStoresNothing() {
        var vector = VersionVector()
        vector.record(Dot(a, 0))
        #expect(vector.counters.isEmpty, "record(counter 0) left \(vector.counters)")
        #expect(vector == VersionVector(), "a vector holding nothing equals the empty vector")
        var other = VersionVector([b: 1])
        other.record(Dot(c, 0))
        #expect(other.counters == [b: 1])
        #expect(other.hashValue == VersionVector([b: 1]).hashValue)
    }

    @Test func descriptionSortsByReplica() {
        let vector = VersionVector([c: 1, a: 5])
        #expect(vector.description == "{\(a):5, \(c):1}")
    }

    // MARK: merge

    @Test func mergeIsThePointwiseMaximum() {
        let left = VersionVector([a: 3, b: 1])
        let right = VersionVector([b: 4, c: 2])
        #expect(left.merged(right) == VersionVector([a: 3, b: 4, c: 2]))
        var inPlace = left
        inPlace.merge(right)
        #expect(inPlace == left.merged(right))
        #expect(left.merged(VersionVector()) == left)
    }

    @Test("merge is commutative, associative and idempotent", arguments: 0..<200)
    func mergeIsASemilattice(seed: UInt64) {
        var random = SplitMix64(seed: seed)
        let x = randomVector(&random)
        let y = randomVector(&random)
        let z = randomVector(&random)
        #expect(x.merged(y) == y.merged(x), "seed \(seed): commutative, \(x) \(y)")
        #expect(x.merged(y).merged(z) == x.merged(y.merged(z)), "seed \(seed): associative, \(x) \(y) \(z)")
        #expect(x.merged(x) == x, "seed \(seed): idempotent, \(x)")
        let joined = x.merged(y)
        #expect(joined.merged(y) == joined, "seed \(seed): absorbs")
        #expect(!joined.counters.values.contains(0), "seed \(seed): no zero entries")
        // The join is an upper bound of both, and holds exactly the union of their dots.
        #expect([.after, .equal].contains(joined.compare(x)), "seed \(seed)")
        #expect([.after, .equal].contains(joined.compare(y)), "seed \(seed)")
        #expect(dots(of: joined) == dots(of: x).union(dots(of: y)), "seed \(seed)")
    }

    // MARK: compare

    @Test(
        "compare",
        arguments: [
            ([:], [:], .equal),
            ([a: 1], [a: 1], .equal),
            ([a: 1, b: 0], [a: 1], .equal),
            ([:], [a: 1], .before),
            ([a: 1], [a: 2], .before),
            ([a: 1], [a: 1, b: 1], .before),
            ([a: 2, b: 1], [a: 1], .after),
            ([a: 1], [:], .after),
            ([a: 1], [b: 1], .concurrent),
            ([a: 2, b: 1], [a: 1, b: 2], .concurrent),
            ([a: 2], [a: 1, b: 1], .concurrent),
        ] as [([ReplicaID: UInt64], [ReplicaID: UInt64], VersionVector.Ordering)])
    func compare(left: [ReplicaID: UInt64], right: [ReplicaID: UInt64], expected: VersionVector.Ordering) {
        #expect(VersionVector(left).compare(VersionVector(right)) == expected)
    }

    @Test("compare agrees with the held sets of dots", arguments: 0..<200)
    func compareMatchesDotSets(seed: UInt64) {
        var random = SplitMix64(seed: seed)
        let x = randomVector(&random)
        let y = Bool.random(using: &random) ? x.merged(randomVector(&random)) : randomVector(&random)
        let mine = dots(of: x)
        let theirs = dots(of: y)
        let expected: VersionVector.Ordering =
            mine == theirs ? .equal : mine.isStrictSubset(of: theirs) ? .before : mine.isStrictSuperset(of: theirs) ? .after : .concurrent
        #expect(x.compare(y) == expected, "seed \(seed): \(x) vs \(y)")
        let mirrored: VersionVector.Ordering = [.equal: .equal, .before: .after, .after: .before, .concurrent: .concurrent][expected]!
        #expect(y.compare(x) == mirrored, "seed \(seed): antisymmetry")
    }

    // MARK: missing(from:)

    @Test func missingListsExactlyTheRangesTheOtherHolds() {
        let mine = VersionVector([a: 3, b: 5])
        let theirs = VersionVector([a: 7, b: 2, c: 4])
        let missing = mine.missing(from: theirs)
        #expect(missing.map(\.replica) == [a, c])
        #expect(missing.map(\.counters) == [4...7, 1...4])
        #expect(theirs.missing(from: mine).map(\.replica) == [b])
        #expect(theirs.missing(from: mine).map(\.counters) == [3...5])
        #expect(mine.missing(from: mine).isEmpty)
        #expect(mine.missing(from: VersionVector()).isEmpty)
        #expect(VersionVector().missing(from: mine).map(\.counters) == [1...3, 1...5])
    }

    @Test func missingIsSortedByReplica() {
        let replicas = [UInt64.max, 1, 0x8000_0000_0000_0000, 42].map { ReplicaID(rawValue: $0)! }
        let theirs = VersionVector(Dictionary(uniqueKeysWithValues: replicas.map { ($0, UInt64(2)) }))
        #expect(VersionVector().missing(from: theirs).map(\.replica) == replicas.sorted())
    }

    @Test("missing(from:) is exactly the set difference", arguments: 0..<200)
    func missingIsTheSetDifference(seed: UInt64) {
        var random = SplitMix64(seed: seed)
        let x = randomVector(&random)
        let y = randomVector(&random)
        let missing = x.missing(from: y)
        var listed: [Dot] = []
        for (replica, counters) in missing {
            #expect(!counters.isEmpty)
            listed += counters.map { Dot(replica, $0) }
        }
        #expect(listed.count == Set(listed).count, "seed \(seed): ranges overlap")
        #expect(Set(listed) == dots(of: y).subtracting(dots(of: x)), "seed \(seed): \(x) missing from \(y)")
        #expect(missing.map(\.replica) == missing.map(\.replica).sorted(), "seed \(seed)")
        // Taking the missing dots brings x up to the join.
        var caughtUp = x
        for dot in listed { caughtUp.record(dot) }
        #expect(caughtUp == x.merged(y), "seed \(seed)")
    }

    // MARK: Binary form

    @Test("binary form: round trip over random vectors, deterministic bytes, entries sorted")
    func binaryRoundTrip() throws {
        var random = SplitMix64(seed: 7)
        for _ in 0..<200 {
            var vector = randomVector(&random)
            if Bool.random(using: &random) { vector[ReplicaID(rawValue: .max)!] = .max }
            let bytes = vector.binary
            #expect(try VersionVector(binary: bytes) == vector)
            #expect(VersionVector(vector.counters).binary == bytes)
        }
        #expect(VersionVector().binary == [0])
        #expect(VersionVector([b: 1, a: 300]).binary == [2, 0xA, 0, 0, 0, 0, 0, 0, 0, 0xAC, 0x02, 0xB, 0, 0, 0, 0, 0, 0, 0, 1])
    }

    @Test("binary form: truncation, trailing bytes, zero replica or counter and repeats are errors")
    func binaryRefusals() {
        let good = VersionVector([a: 3, b: 1]).binary
        for length in 0..<good.count {
            #expect(throws: CodecError.self) { try VersionVector(binary: Array(good.prefix(length))) }
        }
        #expect(throws: CodecError.self) { try VersionVector(binary: good + [0]) }
        #expect(throws: CodecError.self) { try VersionVector(binary: [1, 0, 0, 0, 0, 0, 0, 0, 0, 1]) }  // replica 0
        #expect(throws: CodecError.self) { try VersionVector(binary: [1, 0xA, 0, 0, 0, 0, 0, 0, 0, 0]) }  // counter 0
        let twice: [UInt8] = [2, 0xA, 0, 0, 0, 0, 0, 0, 0, 1, 0xA, 0, 0, 0, 0, 0, 0, 0, 2]
        #expect(throws: CodecError.self) { try VersionVector(binary: twice) }
        #expect(throws: CodecError.self) { try VersionVector(binary: [0xFF, 0xFF, 0xFF, 0xFF, 0x0F]) }  // hostile count
    }

    @Test("records, subscript writes and merges agree with a dictionary of counters", arguments: 0..<100)
    func sortedStorageAgreesWithADictionary(seed: UInt64) throws {
        var random = SplitMix64(seed: seed)
        var vector = VersionVector()
        var model: [ReplicaID: UInt64] = [:]
        for _ in 0..<60 {
            let replica = ReplicaID(rawValue: UInt64.random(in: 1...40, using: &random))!
            let counter = UInt64.random(in: 0...9, using: &random)
            switch Int.random(in: 0..<3, using: &random) {
            case 0:
                vector.record(Dot(replica, counter))
                if counter > (model[replica] ?? 0) { model[replica] = counter }
            case 1:
                vector[replica] = counter
                model[replica] = counter > 0 ? counter : nil
            default:
                let other = randomVector(&random)
                vector.merge(other)
                model.merge(other.counters) { max($0, $1) }
            }
            #expect(vector.counters == model)
            #expect(vector == VersionVector(model), "equal whatever the order entries arrived in")
            #expect(vector.hashValue == VersionVector(model).hashValue)
            #expect(vector.lastDots == model.map { Dot($0.key, $0.value) }.sorted(), "ascending by replica")
            for replica in replicaPool { #expect(vector[replica] == model[replica] ?? 0) }
        }
        // Codable keeps the form a dictionary of counters had.
        struct Before: Codable { var counters: [ReplicaID: UInt64] }
        let encoded = try JSONEncoder().encode(vector)
        #expect(try JSONDecoder().decode(Before.self, from: encoded).counters == model)
        #expect(try JSONDecoder().decode(VersionVector.self, from: JSONEncoder().encode(Before(counters: model))) == vector)
    }
}
