import DialogueGzip
import DialogueModel
import DialogueTestSupport
import Foundation

#if os(Linux)
    /// glibc's `malloc_trim`, which the Glibc module does not export.
    @_silgen_name("malloc_trim") func mallocTrim(_ pad: Int) -> Int32
#endif

/// Replays a trace locally, encodes every change, and merges them into an empty replica.
enum TraceBenchmark {
    struct Report {
        var name: String
        var patches: Int
        var changes: Int
        var localSeconds: Double
        var mergeSeconds: Double
        var peakMemoryBytes: Int
        var encodedBytes: Int
        var encodedGzipBytes: Int
        var jsonBytes: Int
        var jsonGzipBytes: Int
        var runs: Int
        var verified: Bool
        /// Linking every change into its author's hash chain (content hash, digest, chain
        /// hash: three SHA-256 per change), the fast path a verifier takes over a run.
        var chainHashingSeconds: Double

        var localPatchesPerSecond: Double { Double(patches) / localSeconds }
        var mergePatchesPerSecond: Double { Double(patches) / mergeSeconds }
        var chainHashingChangesPerSecond: Double { Double(changes) / chainHashingSeconds }

        var json: String {
            let object: [String: Any] = [
                "trace": name, "patches": patches, "changes": changes,
                "localPatchesPerSecond": Int(localPatchesPerSecond), "mergePatchesPerSecond": Int(mergePatchesPerSecond),
                "mergeMilliseconds": mergeSeconds * 1000,
                "peakMemoryBytes": peakMemoryBytes, "encodedBytes": encodedBytes, "encodedGzipBytes": encodedGzipBytes,
                "jsonBytes": jsonBytes, "jsonGzipBytes": jsonGzipBytes,
                "verified": verified, "runs": runs, "chainHashingChangesPerSecond": Int(chainHashingChangesPerSecond),
            ]
            let data = try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
            return String(decoding: data, as: UTF8.self)
        }

        var table: String {
            func row(_ label: String, _ value: String) -> String {
                label.padding(toLength: 34, withPad: " ", startingAt: 0) + value
            }
            return [
                row("trace", name),
                row("patches", "\(patches)"),
                row("changes (after run-joining)", "\(changes)"),
                row("local edits (patches/s)", String(format: "%.0f", localPatchesPerSecond)),
                row("merge into empty (patches/s)", String(format: "%.0f", mergePatchesPerSecond)),
                row("merge into empty (ms)", String(format: "%.1f", mergeSeconds * 1000)),
                row("chain hashing (changes/s)", String(format: "%.0f", chainHashingChangesPerSecond)),
                row("peak memory (bytes)", "\(peakMemoryBytes)"),
                row("encoded (bytes)", "\(encodedBytes)"),
                row("encoded + gzip (bytes)", "\(encodedGzipBytes)"),
                row("gzip bytes per patch", String(format: "%.3f", Double(encodedGzipBytes) / Double(patches))),
                row("same changes as JSON (bytes)", "\(jsonBytes)"),
                row("same changes as JSON + gzip", "\(jsonGzipBytes)"),
                row("best of runs", "\(runs)"),
                row("verified against endContent", verified ? "yes" : "NO"),
            ].joined(separator: "\n")
        }
    }

    /// A merge alone (``mergeOnly(path:changesPath:runs:)``): its time and the peak memory
    /// of a process that did nothing else.
    struct MergeReport {
        var name: String
        var patches: Int
        var changes: Int
        var mergeSeconds: Double
        /// CPU time of the same best run: on a loaded machine, closer to the work done.
        var mergeCPUSeconds: Double
        var peakMemoryBytes: Int
        var runs: Int
        var verified: Bool

        var json: String {
            let object: [String: Any] = [
                "trace": name, "patches": patches, "changes": changes, "mergeOnly": true,
                "mergePatchesPerSecond": Int(Double(patches) / mergeSeconds), "mergeMilliseconds": mergeSeconds * 1000,
                "mergeCPUMilliseconds": mergeCPUSeconds * 1000,
                "peakMemoryBytes": peakMemoryBytes, "verified": verified, "runs": runs,
            ]
            let data = try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
            return String(decoding: data, as: UTF8.self)
        }

        var table: String {
            [
                "trace                             \(name)",
                "patches                           \(patches)",
                "changes                           \(changes)",
                "merge into empty (ms)             " + String(format: "%.1f", mergeSeconds * 1000),
                "merge into empty (patches/s)      " + String(format: "%.0f", Double(patches) / mergeSeconds),
                "merge CPU time (ms)               " + String(format: "%.1f", mergeCPUSeconds * 1000),
                "peak memory, merge only (bytes)   \(peakMemoryBytes)",
                "best of runs                      \(runs)",
                "verified against endContent       " + (verified ? "yes" : "NO"),
            ].joined(separator: "\n")
        }
    }

    /// Merges the changes that `run(path:runs:saveChangesTo:)` saved for the trace at `path`
    /// into an empty document, `runs` times, and nothing else: no replay (a concurrent
    /// trace's replay keeps one replica per agent), so the peak is the merge's own plus
    /// the process baseline and the encoded changes. The trace is read only for its end
    /// text and patch count, and freed before the peak is reset.
    static func mergeOnly(path: String, changesPath: String, runs: Int) throws -> MergeReport {
        let (expected, patches): (String, Int) = try {
            let trace = try EditingTrace.load(path: path)
            return (trace.endContent, trace.patchCount)
        }()
        let encoded = [UInt8](try Data(contentsOf: URL(fileURLWithPath: changesPath)))
        Memory.resetPeak()
        var verified = true
        var changeCount = 0
        var best = (wall: Double.infinity, cpu: Double.infinity)
        for _ in 0..<runs {
            let (start, cpuStart) = (Date(), processCPUSeconds())
            let (document, count) = try merge(encoded)
            let wall = Date().timeIntervalSince(start)
            if wall < best.wall { best = (wall, processCPUSeconds() - cpuStart) }
            changeCount = count
            do { try TraceReplay.verify([document], expected: expected) } catch {
                FileHandle.standardError.write(Data("merge: \(error)\n".utf8))
                verified = false
            }
        }
        return MergeReport(
            name: URL(fileURLWithPath: path).lastPathComponent, patches: patches, changes: changeCount,
            mergeSeconds: best.wall, mergeCPUSeconds: best.cpu, peakMemoryBytes: Memory.peakResidentBytes(), runs: runs,
            verified: verified)
    }

    /// Decodes `encoded` and applies it to an empty document: the merge measured (a
    /// function of its own so that a profiler can count it alone, e.g. valgrind
    /// `--toggle-collect='*TraceBenchmark*merge*'`).
    @inline(never)
    static func merge(_ encoded: [UInt8]) throws -> (SpaceDocument, changes: Int) {
        var document = SpaceDocument(space: TraceReplay.space)
        let changes = try ChangeCodec.decode(encoded)
        try document.apply(changes)
        return (document, changes.count)
    }

    /// CPU time used by the process so far.
    static func processCPUSeconds() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
    }

    /// Replays the trace at `path` and merges its changes (best of `runs`); with
    /// `saveChangesTo`, also writes the encoded changes there for ``mergeOnly(path:changesPath:runs:)``.
    static func run(path: String, runs: Int, saveChangesTo changesPath: String? = nil) throws -> Report {
        let trace = try EditingTrace.load(path: path)
        let expected = trace.endContent
        Memory.resetPeak()
        var verified = true

        var localBest = Double.infinity
        var changes: [Change] = []
        for _ in 0..<runs {
            // Free the previous run's changes first, so runs do not stack up in the peak (the
            // heap reuses the memory; handing it back to the system would add page faults).
            changes = []
            let start = Date()
            let result = try TraceReplay.replay(trace)
            localBest = min(localBest, Date().timeIntervalSince(start))
            do { try TraceReplay.verify(result.documents, expected: expected) } catch {
                FileHandle.standardError.write(Data("local replay: \(error)\n".utf8))
                verified = false
            }
            changes = result.changes
        }

        let encoded = ChangeCodec.encode(changes)
        let gzipped = Gzip.compress(encoded)
        if let changesPath { try Data(encoded).write(to: URL(fileURLWithPath: changesPath)) }
        changes = []

        var mergeBest = Double.infinity
        for _ in 0..<runs {
            let start = Date()
            var document = SpaceDocument(space: TraceReplay.space)
            try document.apply(try ChangeCodec.decode(encoded))
            mergeBest = min(mergeBest, Date().timeIntervalSince(start))
            do { try TraceReplay.verify([document], expected: expected) } catch {
                FileHandle.standardError.write(Data("merge: \(error)\n".utf8))
                verified = false
            }
        }

        // Peak memory of the CRDT work, read before the JSON comparison allocates its own.
        let peak = Memory.peakResidentBytes()
        let chainHashing = try chainHashingSeconds(try ChangeCodec.decode(encoded), runs: runs)
        let json = [UInt8](try JSONEncoder().encode(try ChangeCodec.decode(encoded)))
        return Report(
            name: URL(fileURLWithPath: path).lastPathComponent, patches: trace.patchCount,
            changes: try ChangeCodec.decode(encoded).count, localSeconds: localBest, mergeSeconds: mergeBest,
            peakMemoryBytes: peak, encodedBytes: encoded.count, encodedGzipBytes: gzipped.count,
            jsonBytes: json.count, jsonGzipBytes: Gzip.compress(json).count, runs: runs, verified: verified,
            chainHashingSeconds: chainHashing)
    }

    /// Best time to link every change into its author's chain (per space and replica, in
    /// counter order, as a verifier does over a run).
    static func chainHashingSeconds(_ changes: [Change], runs: Int) throws -> Double {
        var logs: [DeviceChainKey: [Change]] = [:]
        for change in changes { logs[DeviceChainKey(space: change.space, replica: change.replica), default: []].append(change) }
        for key in logs.keys { logs[key]!.sort { $0.id.counter < $1.id.counter } }
        var best = Double.infinity
        for _ in 0..<runs {
            let start = Date()
            for (key, log) in logs {
                var chain = DeviceChain(space: key.space, replica: key.replica)
                try chain.advance(over: log)
            }
            best = min(best, Date().timeIntervalSince(start))
        }
        return best
    }

    struct DeviceChainKey: Hashable {
        var space: SpaceID
        var replica: ReplicaID
    }
}

/// Peak resident memory, from Linux's /proc (VmHWM), resettable so that loading the
/// trace's JSON does not count against the CRDT.
enum Memory {
    /// Hands freed heap back to the system (glibc keeps it otherwise).
    static func releaseFreed() {
        #if os(Linux)
            _ = mallocTrim(0)
        #endif
    }

    static func resetPeak() {
        releaseFreed()  // hand the trace parser's freed heap back first
        try? "5".write(toFile: "/proc/self/clear_refs", atomically: false, encoding: .utf8)
    }

    static func peakResidentBytes() -> Int {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return -1 }
        for line in status.split(separator: "\n") where line.hasPrefix("VmHWM:") {
            let kilobytes = line.split(separator: " ").compactMap { Int($0) }.first ?? -1
            return kilobytes * 1024
        }
        return -1
    }
}
