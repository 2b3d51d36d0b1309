import DialogueGzip
import Foundation

/// One edit of an editing trace: at scalar offset `position`, delete, then insert.
public struct TracePatch: Sendable {
    public var position: Int
    public var deleteCount: Int
    public var insert: String
}

/// A transaction: made by `agent` on top of the versions `parents` (concurrent traces
/// only), its patches a range of ``EditingTrace/patches``.
public struct TraceTransaction: Sendable {
    public var parents: [Int]
    public var agent: Int
    public var patchRange: Range<Int>
}

/// A trace in the `editing-traces` format (Joseph Gentle, CC BY 4.0), sequential or concurrent.
public struct EditingTrace: Sendable {
    public var startContent: String
    public var endContent: String
    public var agentCount: Int
    public var transactions: [TraceTransaction]
    /// Every patch, in transaction order (one flat array keeps a 138k-patch trace small).
    public var patches: [TracePatch]
    public var isConcurrent: Bool

    /// The number of patches.
    public var patchCount: Int { patches.count }

    public struct LoadError: Error, CustomStringConvertible {
        public let description: String

        public init(description: String) { self.description = description }
    }

    /// Loads a `.json` or `.json.gz` trace.
    public static func load(path: String) throws -> EditingTrace {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw LoadError(description: "trace file not found or unreadable: \(path)")
        }
        var bytes = [UInt8](data)
        if bytes.starts(with: [0x1F, 0x8B]) { bytes = try Gzip.decompress(bytes, limit: 1 << 30) }  // our own traces: a generous bound
        return try parse(Data(bytes))
    }

    static func parse(_ data: Data) throws -> EditingTrace {
        let file: TraceFile
        do { file = try JSONDecoder().decode(TraceFile.self, from: data) } catch {
            throw LoadError(description: "not an editing trace (expected endContent and txns): \(error)")
        }
        var transactions: [TraceTransaction] = []
        var patches: [TracePatch] = []
        transactions.reserveCapacity(file.txns.count)
        for txn in file.txns {
            let start = patches.count
            patches.append(contentsOf: txn.patches.lazy.map(\.patch))
            transactions.append(TraceTransaction(parents: txn.parents ?? [], agent: txn.agent ?? 0, patchRange: start..<patches.count))
        }
        return EditingTrace(
            startContent: file.startContent ?? "", endContent: file.endContent, agentCount: file.numAgents ?? 1,
            transactions: transactions, patches: patches, isConcurrent: file.kind == "concurrent")
    }

    /// The file's JSON shape.
    private struct TraceFile: Decodable {
        var kind: String?
        var startContent: String?
        var endContent: String
        var numAgents: Int?
        var txns: [Txn]

        struct Txn: Decodable {
            var parents: [Int]?
            var agent: Int?
            var patches: [Patch]
        }

        /// `[position, deleteCount, "inserted text"]`.
        struct Patch: Decodable {
            var patch: TracePatch

            init(from decoder: any Decoder) throws {
                var container = try decoder.unkeyedContainer()
                patch = TracePatch(
                    position: try container.decode(Int.self), deleteCount: try container.decode(Int.self),
                    insert: try container.decode(String.self))
                guard container.isAtEnd else {
                    throw DecodingError.dataCorruptedError(in: container, debugDescription: "a patch has exactly three elements")
                }
            }
        }
    }

    /// The shared traces folder beside the package (`../shared/traces`), found from a source file path.
    public static func sharedTracesDirectory(from filePath: String = #filePath) -> URL {
        var url = URL(fileURLWithPath: filePath)
        while url.path != "/" {
            url.deleteLastPathComponent()
            if FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path) {
                return url.deletingLastPathComponent().appendingPathComponent("shared/traces")
            }
        }
        return URL(fileURLWithPath: "../shared/traces")
    }
}
