import Foundation

/// One edit of an editing trace: at scalar offset `position`, delete, then insert.
public struct TracePatch: Sendable {
    public var position: Int
    public var deleteCount: Int
    public var insert: String
}

/// A transaction of a concurrent trace: made by `agent` on top of the versions `parents`.
public struct TraceTransaction: Sendable {
    public var parents: [Int]
    public var agent: Int
    public var patches: [TracePatch]
}

/// A trace in the `editing-traces` format (Joseph Gentle, CC BY 4.0), sequential or concurrent.
public struct EditingTrace: Sendable {
    public var startContent: String
    public var endContent: String
    public var agentCount: Int
    public var transactions: [TraceTransaction]
    public var isConcurrent: Bool

    /// All patches in transaction order.
    public var patchCount: Int { transactions.reduce(0) { $0 + $1.patches.count } }

    public struct LoadError: Error, CustomStringConvertible {
        public let description: String
    }

    /// Loads a `.json` or `.json.gz` trace.
    public static func load(path: String) throws -> EditingTrace {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw LoadError(description: "trace file not found or unreadable: \(path)")
        }
        var bytes = [UInt8](data)
        if bytes.starts(with: [0x1F, 0x8B]) { bytes = try Gzip.decompress(bytes) }
        return try parse(Data(bytes))
    }

    static func parse(_ data: Data) throws -> EditingTrace {
        guard let root = try JSONSerialization.jsonObject(with: data) as? [String: Any],
            let endContent = root["endContent"] as? String, let txns = root["txns"] as? [[String: Any]]
        else { throw LoadError(description: "not an editing trace: expected endContent and txns") }
        let concurrent = (root["kind"] as? String) == "concurrent"
        var transactions: [TraceTransaction] = []
        transactions.reserveCapacity(txns.count)
        for (index, txn) in txns.enumerated() {
            guard let rawPatches = txn["patches"] as? [[Any]] else {
                throw LoadError(description: "txn \(index) has no patches")
            }
            var patches: [TracePatch] = []
            for raw in rawPatches {
                guard raw.count == 3, let position = (raw[0] as? NSNumber)?.intValue, let deleteCount = (raw[1] as? NSNumber)?.intValue,
                    let insert = raw[2] as? String
                else { throw LoadError(description: "txn \(index) has a malformed patch") }
                patches.append(TracePatch(position: position, deleteCount: deleteCount, insert: insert))
            }
            let parents = (txn["parents"] as? [NSNumber])?.map(\.intValue) ?? (index > 0 ? [index - 1] : [])
            let agent = (txn["agent"] as? NSNumber)?.intValue ?? 0
            transactions.append(TraceTransaction(parents: parents, agent: agent, patches: patches))
        }
        return EditingTrace(
            startContent: root["startContent"] as? String ?? "", endContent: endContent,
            agentCount: (root["numAgents"] as? NSNumber)?.intValue ?? 1, transactions: transactions, isConcurrent: concurrent)
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
