import DialogueModel
import Foundation

/// Generates concurrent editing traces with many authors (issue 15, item 3): none of the
/// public traces has more than three, and none has concurrent inserts at one place.
///
/// Each transaction is written by one author on top of what that author has seen. Before
/// writing, an author catches up with everything written so far with probability
/// ``Parameters/syncProbability``, or with one other author's latest version with the same
/// probability again; otherwise it keeps editing its own branch, concurrently with
/// everyone else. A transaction types a run of short words (a few patches), sometimes
/// deletes, and with probability ``Parameters/hotSpotProbability`` starts at one of a few
/// shared places (the start, a quarter, the middle, the end): authors on concurrent
/// branches then insert at the same position. The end text is what Dialogue's own replicas
/// converge to; another implementation (scripts/bench-peers) is compared against it.
///
/// Seeded: the same parameters give the same trace, byte for byte.
public enum ManyAuthorsTrace {
    public struct Parameters: Sendable, Hashable {
        public var authors: Int
        public var patches: Int
        public var seed: UInt64
        /// The chance that an author catches up before a transaction (and, again, that it
        /// merges one other author's branch). Lower is more concurrent.
        public var syncProbability: Double
        /// The chance that a transaction starts at a shared place.
        public var hotSpotProbability: Double

        public init(authors: Int, patches: Int, seed: UInt64 = 1, syncProbability: Double = 0.05, hotSpotProbability: Double = 0.3) {
            self.authors = authors
            self.patches = patches
            self.seed = seed
            self.syncProbability = syncProbability
            self.hotSpotProbability = hotSpotProbability
        }

        /// "authors200-patches50000-seed1-sync0.05-hot0.3".
        public var name: String {
            "authors\(authors)-patches\(patches)-seed\(seed)-sync\(syncProbability)-hot\(hotSpotProbability)"
        }
    }

    public struct InvalidParameters: Error, CustomStringConvertible {
        public let description: String
    }

    /// A trace of `parameters.patches` patches (at least) by `parameters.authors` authors.
    public static func generate(_ parameters: Parameters) throws -> EditingTrace {
        guard (1...100_000).contains(parameters.authors), (1...50_000_000).contains(parameters.patches),
            (0...1).contains(parameters.syncProbability), (0...1).contains(parameters.hotSpotProbability)
        else {
            throw InvalidParameters(description: "authors 1–100000, patches 1–50000000, probabilities 0–1")
        }
        var random = SplitMix64(seed: parameters.seed)
        let field = TraceReplay.field
        let entity = TraceReplay.entity
        var documents: [Int: SpaceDocument] = [:]
        var produced: [[Change]] = []
        var transactions: [TraceTransaction] = []
        var patches: [TracePatch] = []
        // What each author has seen, as transaction heads, and which transactions it holds.
        var authorHeads = [[Int]](repeating: [], count: parameters.authors)
        var held = [Set<Int>](repeating: [], count: parameters.authors)
        var globalHeads: Set<Int> = []
        func chance(_ probability: Double) -> Bool { Double(random.next() >> 11) / Double(1 << 53) < probability }

        while patches.count < parameters.patches {
            let index = transactions.count
            let author = Int(random.next() % UInt64(parameters.authors))
            if chance(parameters.syncProbability) {
                authorHeads[author] = globalHeads.sorted()
            } else if chance(parameters.syncProbability) {
                let other = Int(random.next() % UInt64(parameters.authors))
                authorHeads[author] = Array(Set(authorHeads[author]).union(authorHeads[other])).sorted()
            }
            let parents = authorHeads[author]
            // Bring the author's document to its parents' version: their ancestors it lacks, in order.
            var missing: [Int] = []
            var stack = parents
            while let parent = stack.popLast() {
                guard held[author].insert(parent).inserted else { continue }
                missing.append(parent)
                stack.append(contentsOf: transactions[parent].parents)
            }
            var document = documents[author] ?? SpaceDocument(space: TraceReplay.space)
            for ancestor in missing.sorted() { try document.apply(produced[ancestor]) }

            let context = EditContext(
                replica: TraceReplay.replica(forAgent: author), timestamp: HLCTimestamp(wallTime: 1_700_000_000_000 + UInt64(index)))
            var length = document.textSequence(field, of: entity)?.count ?? 0
            var cursor: Int
            if length == 0 || chance(parameters.hotSpotProbability) {
                cursor = [0, length / 4, length / 2, length][Int(random.next() % 4)]
            } else {
                cursor = Int(random.next() % UInt64(length + 1))
            }
            var changes: [Change] = []
            let start = patches.count
            for _ in 0..<(1 + Int(random.next() % 6)) {
                var patch = TracePatch(position: cursor, deleteCount: 0, insert: "")
                if length > 0, chance(0.25) {
                    // Backspace a few characters before the cursor (or delete after it at the start).
                    let count = min(1 + Int(random.next() % 4), max(cursor, length - cursor))
                    patch.position = cursor >= count ? cursor - count : cursor
                    patch.deleteCount = count
                } else {
                    patch.insert = Self.word(&random)
                }
                try document.editText(
                    field, of: entity, at: patch.position, delete: patch.deleteCount, insert: patch.insert, by: context,
                    appendingTo: &changes)
                length += patch.insert.unicodeScalars.count - patch.deleteCount
                cursor = patch.position + patch.insert.unicodeScalars.count
                patches.append(patch)
            }
            documents[author] = document
            produced.append(changes)
            transactions.append(TraceTransaction(parents: parents, agent: author, patchRange: start..<patches.count))
            held[author].insert(index)
            globalHeads.subtract(parents)
            globalHeads.insert(index)
            authorHeads[author] = [index]
        }
        var merged = SpaceDocument(space: TraceReplay.space)
        try merged.apply(produced.flatMap { $0 })
        return EditingTrace(
            startContent: "", endContent: merged.text(field, of: entity), agentCount: parameters.authors, transactions: transactions,
            patches: patches, isConcurrent: true)
    }

    /// A short word and a space, now and then with a letter outside ASCII.
    static func word(_ random: inout SplitMix64) -> String {
        let letters = Array("etaoinshrdlucmfwypvbgkjqxzéø")
        var word = ""
        for _ in 0..<(1 + Int(random.next() % 5)) { word.append(letters[Int(random.next() % UInt64(letters.count))]) }
        return word + " "
    }
}

extension EditingTrace {
    /// The trace in the editing-traces JSON format (`kind` concurrent or sequential), which
    /// ``load(path:)`` reads back and other implementations replay.
    public func jsonData() throws -> Data {
        struct File: Encodable {
            var kind: String
            var startContent: String
            var endContent: String
            var numAgents: Int
            var txns: [Txn]
        }
        struct Txn: Encodable {
            var parents: [Int]
            var agent: Int
            var patches: [Patch]
        }
        struct Patch: Encodable {
            var patch: TracePatch
            func encode(to encoder: any Encoder) throws {
                var container = encoder.unkeyedContainer()
                try container.encode(patch.position)
                try container.encode(patch.deleteCount)
                try container.encode(patch.insert)
            }
        }
        let file = File(
            kind: isConcurrent ? "concurrent" : "sequential", startContent: startContent, endContent: endContent, numAgents: agentCount,
            txns: transactions.map { Txn(parents: $0.parents, agent: $0.agent, patches: patches[$0.patchRange].map { Patch(patch: $0) }) })
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(file)
    }
}
