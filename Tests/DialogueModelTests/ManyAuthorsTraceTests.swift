import DialogueModel
import DialogueTestSupport
import Foundation
import Testing

/// The many-authors trace generator (issue 15, item 3): seeded, valid, concurrent at one
/// place, and replayed one replica per author to the text it records.
struct ManyAuthorsTraceTests {
    static let small = ManyAuthorsTrace.Parameters(authors: 24, patches: 3_000, seed: 7, syncProbability: 0.05, hotSpotProbability: 0.4)

    @Test("the same parameters give the same trace byte for byte; another seed another trace")
    func seeded() throws {
        let first = try ManyAuthorsTrace.generate(Self.small).jsonData()
        #expect(try ManyAuthorsTrace.generate(Self.small).jsonData() == first)
        var other = Self.small
        other.seed = 8
        #expect(try ManyAuthorsTrace.generate(other).jsonData() != first)
    }

    @Test("replayed one replica per author (every patch valid where it was made), all converge to the recorded end text")
    func replaysToItsEndText() throws {
        let trace = try ManyAuthorsTrace.generate(Self.small)
        #expect(trace.patchCount >= 3_000 && trace.agentCount == 24 && trace.isConcurrent)
        #expect(Set(trace.transactions.map(\.agent)).count == 24)
        let result = try TraceReplay.replay(trace)
        try TraceReplay.verify(result.documents, expected: trace.endContent)
        // Merged into one empty document in another order (reversed transactions keep each
        // change's dependencies waiting until they arrive), the same text.
        var merged = SpaceDocument(space: TraceReplay.space)
        try merged.apply(result.changes.reversed())
        #expect(merged.text(TraceReplay.field, of: TraceReplay.entity) == trace.endContent)
        // The JSON form reads back as the same trace.
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("many-authors-\(UUID()).json")
        defer { try? FileManager.default.removeItem(at: file) }
        try trace.jsonData().write(to: file)
        let loaded = try EditingTrace.load(path: file.path)
        #expect(loaded.endContent == trace.endContent && loaded.patchCount == trace.patchCount && loaded.isConcurrent)
        #expect(loaded.transactions.map(\.parents) == trace.transactions.map(\.parents))
    }

    @Test("concurrent: inserts by different authors at the same place (the same left origin), many branches")
    func concurrentInsertsAtOnePlace() throws {
        let trace = try ManyAuthorsTrace.generate(Self.small)
        let changes = try TraceReplay.replay(trace).changes
        // Inserts by several replicas after the same character: siblings in the text's tree,
        // ordered by the CRDT's rule for concurrent inserts at one place.
        var authorsAfter: [Dot?: Set<ReplicaID>] = [:]
        for change in changes {
            if case .insertText(let originLeft, _, _) = change.operation { authorsAfter[originLeft, default: []].insert(change.replica) }
        }
        let contested = authorsAfter.values.filter { $0.count > 1 }.count
        #expect(contested >= 20, "\(contested) places where several authors inserted")
        // Many transactions are written on a version that is not the latest one.
        let stale = trace.transactions.indices.filter { index in index > 0 && trace.transactions[index].parents != [index - 1] }.count
        #expect(stale * 2 > trace.transactions.count, "\(stale) of \(trace.transactions.count) transactions")
    }

    @Test("parameters out of range are refused")
    func refused() {
        #expect(throws: ManyAuthorsTrace.InvalidParameters.self) {
            try ManyAuthorsTrace.generate(.init(authors: 0, patches: 10))
        }
        #expect(throws: ManyAuthorsTrace.InvalidParameters.self) {
            try ManyAuthorsTrace.generate(.init(authors: 2, patches: 10, syncProbability: 1.5))
        }
    }
}
