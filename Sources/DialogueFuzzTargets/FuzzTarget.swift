import Foundation

/// One fuzz target: what `scripts/fuzz TARGET` runs and what the replay tests feed the
/// committed corpus and crashers to. Each target turns arbitrary bytes into one input for
/// a part of Dialogue that reads data from outside, and checks an oracle beyond "no crash".
public enum FuzzTarget: String, CaseIterable, Sendable {
    /// JSON changes and sync request/response bodies (`Change+JSON`, `SyncProtocol`).
    case json
    /// The binary change codec and binary version vectors.
    case binary
    /// A bundle file read and merged into a replica (`BundleReader`, `Replica.importBundle`).
    case bundle
    /// Changes decoded structurally from the bytes, applied to a document built from a corpus.
    case apply
    /// `POST /v1/sync` through the server's router in-process, over a SQLite store.
    case syncRoute = "sync-route"

    /// Runs one input. Throws a ``FuzzFinding`` when an oracle fails; a crash is a crash.
    public func run(_ bytes: [UInt8]) async throws(FuzzFinding) {
        switch self {
        case .json: try JSONFuzz.run(bytes)
        case .binary: try BinaryFuzz.run(bytes)
        case .bundle: try await BundleFuzz.shared.run(bytes)
        case .apply: try ApplyFuzz.run(bytes)
        case .syncRoute: try await SyncRouteFuzz.shared.run(bytes)
        }
    }

    /// Inputs made by the project's own encoders: the seed corpus of `Tests/FuzzCorpus/<target>/`.
    public func seeds() async throws -> [(name: String, bytes: [UInt8])] {
        switch self {
        case .json: JSONFuzz.seeds()
        case .binary: BinaryFuzz.seeds()
        case .bundle: try BundleFuzz.seeds()
        case .apply: ApplyFuzz.seeds()
        case .syncRoute: try SyncRouteFuzz.seeds()
        }
    }
}

/// An oracle the input broke (not a crash: those stop the process).
public struct FuzzFinding: Error, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}

extension FuzzTarget {
    /// Runs one input from a thread that is not part of Swift's cooperative pool (libFuzzer's).
    public func runBlocking(_ bytes: [UInt8]) -> FuzzFinding? {
        let box = FindingBox()
        let done = DispatchSemaphore(value: 0)
        Task.detached {
            do throws(FuzzFinding) { try await self.run(bytes) } catch { box.finding = error }
            done.signal()
        }
        done.wait()
        return box.finding
    }
}

/// Hands the finding from the task to the waiting thread (the semaphore orders the accesses).
private final class FindingBox: @unchecked Sendable {
    var finding: FuzzFinding?
}

extension FuzzTarget {
    /// Writes ``seeds()`` into `directory` (created if needed), one file each.
    public func writeSeeds(to directory: URL) async throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        for seed in try await seeds() {
            try Data(seed.bytes).write(to: directory.appendingPathComponent("seed-\(seed.name)"))
        }
    }
}
