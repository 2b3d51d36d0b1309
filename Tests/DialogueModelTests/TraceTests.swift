import DialogueModel
import DialogueTestSupport
import Foundation
import Testing

/// Real editing traces (josephg/editing-traces, CC BY 4.0) replayed through the text CRDT.
@Suite("Editing traces")
struct TraceTests {
    static func loadTrace(_ name: String) throws -> EditingTrace {
        let url = EditingTrace.sharedTracesDirectory().appendingPathComponent(name)
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw EditingTrace.LoadError(
                description: "trace \(name) is missing: expected it at \(url.path) (the shared/ folder must sit beside the clone)")
        }
        return try EditingTrace.load(path: url.path)
    }

    @Test("seph-blog1 typed by one author reads exactly endContent, locally and after a merge")
    func sequentialTrace() throws {
        let trace = try Self.loadTrace("seph-blog1.json.gz")
        #expect(trace.patchCount == 137_993)
        let result = try TraceReplay.replay(trace)
        try TraceReplay.verify(result.documents, expected: trace.endContent)

        var merged = SpaceDocument(space: TraceReplay.space)
        try merged.apply(try ChangeCodec.decode(ChangeCodec.encode(result.changes)))
        try TraceReplay.verify([merged], expected: trace.endContent)
        #expect(merged.canonicalExport() == result.documents[0].canonicalExport())
    }

    @Test("concurrent_clownschool: one replica per agent, every replica reads exactly endContent")
    func concurrentTrace() throws {
        let trace = try Self.loadTrace("concurrent_clownschool.json.gz")
        #expect(trace.agentCount == 3)
        let result = try TraceReplay.replay(trace)
        #expect(result.documents.count == 3)
        try TraceReplay.verify(result.documents, expected: trace.endContent)
        let exports = result.documents.map { $0.canonicalExport() }
        #expect(exports.allSatisfy { $0 == exports[0] })

        var merged = SpaceDocument(space: TraceReplay.space)
        var random = SplitMix64(seed: 7)
        try merged.apply(try ChangeCodec.decode(ChangeCodec.encode(result.changes)).shuffled(using: &random))
        try TraceReplay.verify([merged], expected: trace.endContent)
        #expect(merged.canonicalExport() == exports[0])
    }
}
