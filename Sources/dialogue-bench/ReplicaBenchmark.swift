import DialogueModel
import DialogueSync
import DialogueTestSupport
import Foundation
import GRDB
import GRDBSQLite

/// The replica benchmarks: local edits and bundle merges against raw SQLite doing the
/// equivalent plain inserts (same batching, prepared statements, WAL, synchronous=NORMAL),
/// and a real editing trace typed into an insight.
enum ReplicaBenchmark {
    struct Report {
        /// Measurements per figure; each figure is their median.
        var runs = 1
        var localEdits = 0
        var localEditsPerSecond = 0.0
        var clusteredEditsPerSecond = 0.0
        var rawEditInsertsPerSecond = 0.0
        var rawScatteredUpdatesPerSecond = 0.0
        var mergedChanges = 0
        var mergeChangesPerSecond = 0.0
        var rawMergeInsertsPerSecond = 0.0
        var mergePeakMemoryBytes = 0
        var bundleBytes = 0
        var tracePatches = 0
        var tracePatchesPerSecond = 0.0
        var traceDatabaseBytes = 0
        var traceVerified = false

        var localRatio: Double { localEditsPerSecond / rawEditInsertsPerSecond }
        var clusteredRatio: Double { clusteredEditsPerSecond / rawEditInsertsPerSecond }
        var mergeRatio: Double { mergeChangesPerSecond / rawMergeInsertsPerSecond }

        var json: String {
            let object: [String: Any] = [
                "runs": runs, "localEdits": localEdits, "localEditsPerSecond": Int(localEditsPerSecond),
                "rawEditInsertsPerSecond": Int(rawEditInsertsPerSecond), "localRatio": (localRatio * 1000).rounded() / 1000,
                "clusteredEditsPerSecond": Int(clusteredEditsPerSecond), "rawScatteredUpdatesPerSecond": Int(rawScatteredUpdatesPerSecond),
                "clusteredRatio": (clusteredRatio * 1000).rounded() / 1000,
                "mergedChanges": mergedChanges, "mergeChangesPerSecond": Int(mergeChangesPerSecond),
                "rawMergeInsertsPerSecond": Int(rawMergeInsertsPerSecond), "mergeRatio": (mergeRatio * 1000).rounded() / 1000,
                "mergePeakMemoryBytes": mergePeakMemoryBytes, "bundleBytes": bundleBytes,
                "tracePatches": tracePatches, "tracePatchesPerSecond": Int(tracePatchesPerSecond),
                "traceDatabaseBytes": traceDatabaseBytes, "traceVerified": traceVerified,
            ]
            return String(decoding: try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self)
        }

        var table: String {
            func row(_ label: String, _ value: String) -> String { label.padding(toLength: 52, withPad: " ", startingAt: 0) + value }
            return [
                row("figures are medians of runs", "\(runs)"),
                row("local field edits (batches of 100)", "\(localEdits)"),
                row("  replica, each batch over 100 sessions (edits/s)", String(format: "%.0f", localEditsPerSecond)),
                row("  replica, each batch in one session (edits/s)", String(format: "%.0f", clusteredEditsPerSecond)),
                row("  raw SQLite inserts, same batching (rows/s)", String(format: "%.0f", rawEditInsertsPerSecond)),
                row("  raw SQLite row updates, 100 rows of 1000 (rows/s)", String(format: "%.0f", rawScatteredUpdatesPerSecond)),
                row("  ratio, scattered / clustered (target ≥ 0.67)", String(format: "%.2f / %.2f", localRatio, clusteredRatio)),
                row(
                    "    clustered, signed (TRUST.md: ≥ 0.6)",
                    String(format: "%.2f", clusteredRatio) + (clusteredRatio >= 0.6 ? " met" : " MISSED")),
                row("merge of remote changes from a bundle", "\(mergedChanges)"),
                row("  bundle size (bytes)", "\(bundleBytes)"),
                row("  replica (changes/s)", String(format: "%.0f", mergeChangesPerSecond)),
                row("  raw SQLite inserts, same batching (rows/s)", String(format: "%.0f", rawMergeInsertsPerSecond)),
                row(
                    "  ratio (target ≥ 0.5; signed, TRUST.md: ≥ 0.45)",
                    String(format: "%.2f", mergeRatio) + (mergeRatio >= 0.45 ? " met" : " MISSED")),
                row("  peak memory during import, highest run (≤ 200 MB)", "\(mergePeakMemoryBytes)"),
                row("trace typed into an insight, commit every 50", "\(tracePatches) patches"),
                row("  patches/s", String(format: "%.0f", tracePatchesPerSecond)),
                row("  database size after checkpoint (bytes)", "\(traceDatabaseBytes)"),
                row("  final text verified", tracePatches == 0 ? "not run" : traceVerified ? "yes" : "NO"),
            ].joined(separator: "\n")
        }
    }

    static let space = SpaceID(UUID(uuidString: "5ace0000-0000-4000-8000-0000000be7c4")!)

    static func run(edits: Int, merges: Int, tracePath: String?, runs: Int) async throws -> Report {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("dialogue-bench-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        var report = Report()
        report.runs = runs
        try await localEdits(count: edits, runs: runs, in: directory, into: &report)
        try await mergeBundle(count: merges, runs: runs, in: directory, into: &report)
        if let tracePath { try await typeTrace(path: tracePath, in: directory, into: &report) }
        return report
    }

    /// The middle value: runs alternate replica and raw measurements, so a noisy moment on
    /// a shared machine skews one sample, not the ratio.
    static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        return sorted.isEmpty ? 0 : sorted[sorted.count / 2]
    }

    // MARK: Local edits

    static func localEdits(count: Int, runs: Int, in directory: URL, into report: inout Report) async throws {
        let batches = count / 100
        var scattered: [Double] = []
        var clustered: [Double] = []
        var rawInserts: [Double] = []
        var rawUpdates: [Double] = []
        for run in 0..<runs {
            let replica = try Replica(path: directory.appendingPathComponent("edits-\(run).sqlite").path)
            try await replica.addSpace(space)
            let sessions = try await replica.edit(in: space) { editor in
                try (0..<1000).map { try editor.createSession(title: "Session \($0)") }
            }
            // Scattered: every batch of 100 edits touches 100 different sessions (the worst case).
            var start = Date()
            for batch in 0..<batches {
                try await replica.edit(in: space) { editor in
                    for index in 0..<100 {
                        let session = sessions[((batch * 100 + index) * 7919) % sessions.count]
                        try editor.set(DialogueSession.Field.focus, of: session, to: .string("edit \(batch)-\(index)"))
                    }
                }
            }
            scattered.append(Double(batches * 100) / Date().timeIntervalSince(start))
            // Clustered: each batch edits the fields of one session, as a leader filling in a form.
            start = Date()
            for batch in 0..<batches {
                let session = sessions[(batch * 7919) % sessions.count]
                try await replica.edit(in: space) { editor in
                    for index in 0..<100 {
                        let field = index % 2 == 0 ? DialogueSession.Field.focus : DialogueSession.Field.status
                        let value = index % 2 == 0 ? "again \(batch)-\(index)" : ["planned", "held", "closed"][index % 3]
                        try editor.set(field, of: session, to: .string(value))
                    }
                }
            }
            clustered.append(Double(batches * 100) / Date().timeIntervalSince(start))
            rawInserts.append(
                try RawSQLite.insertRate(
                    path: directory.appendingPathComponent("raw-edits-\(run).sqlite").path, rows: batches * 100, batch: 100,
                    payloadBytes: 24))
            rawUpdates.append(
                try RawSQLite.scatteredUpdateRate(
                    path: directory.appendingPathComponent("raw-updates-\(run).sqlite").path, updates: batches * 100, rows: 1000,
                    batch: 100))
        }
        report.localEdits = batches * 100
        report.localEditsPerSecond = median(scattered)
        report.clusteredEditsPerSecond = median(clustered)
        report.rawEditInsertsPerSecond = median(rawInserts)
        report.rawScatteredUpdatesPerSecond = median(rawUpdates)
    }

    // MARK: Merge

    static func mergeBundle(count: Int, runs: Int, in directory: URL, into report: inout Report) async throws {
        let bundle = directory.appendingPathComponent("remote.dlgb")
        report.bundleBytes = try makeBundle(changes: count, at: bundle)
        var merged: [Double] = []
        var raw: [Double] = []
        for run in 0..<runs {
            Memory.resetPeak()
            let replica = try Replica(path: directory.appendingPathComponent("merge-\(run).sqlite").path)
            try await BenchTrust.logIn(replica)
            let start = Date()
            let result = try await replica.importBundle(from: bundle)
            let seconds = Date().timeIntervalSince(start)
            report.mergePeakMemoryBytes = max(report.mergePeakMemoryBytes, Memory.peakResidentBytes())
            report.mergedChanges = result.applied
            merged.append(Double(result.applied) / seconds)
            raw.append(
                try RawSQLite.insertRate(
                    path: directory.appendingPathComponent("raw-merge-\(run).sqlite").path, rows: count, batch: 4096,
                    payloadBytes: max(8, report.bundleBytes / max(count, 1))))
        }
        report.mergeChangesPerSecond = median(merged)
        report.rawMergeInsertsPerSecond = median(raw)
    }

    /// Imports a bundle into `runs` fresh replicas, one after another, printing each rate and
    /// how long opening the result takes (the log replayed into the pure model).
    static func importOnly(_ bundle: URL, runs: Int) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("dialogue-bench-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        for run in 0..<runs {
            let replica = try Replica(path: directory.appendingPathComponent("import-\(run).sqlite").path)
            try await BenchTrust.logIn(replica)
            let start = Date()
            let result = try await replica.importBundle(from: bundle)
            let seconds = Date().timeIntervalSince(start)
            let reopening = Date()
            let reopened = try Replica(path: directory.appendingPathComponent("import-\(run).sqlite").path)
            let opened = Date().timeIntervalSince(reopening)
            print(
                String(
                    format: "%d changes in %.3f s: %.0f changes/s; reopening the replica: %.3f s", result.applied, seconds,
                    Double(result.applied) / seconds, opened))
            _ = reopened
        }
    }

    /// A signed bundle (format 2) of `changes` remote changes from four certified devices:
    /// sessions created, then register writes, set edits and summary typing in random
    /// sessions; each frame of 4,096 changes is one signed transaction per author, so an
    /// import measures the verified merge.
    static func makeBundle(changes total: Int, at url: URL) throws -> Int {
        var random = SplitMix64(seed: 42)
        var document = SpaceDocument(space: space)
        document.journal = []
        let authors = (1...4).map { ReplicaID(rawValue: 0xA000 + UInt64($0))! }
        var signers = (1...4).map { ChangeSigner(key: BenchTrust.key(UInt8($0))) }
        var writer = try BundleWriter(
            to: url,
            header: .init(
                createdBy: authors[0], createdAt: 0, spaces: [.init(space: space, name: "Benchmark", kind: .shared)],
                certificates: zip(authors, signers).map { BenchTrust.certificate($0, key: $1.key.publicKey) }))
        func emit(_ frame: [Change]) throws {
            var heads: [ChainHead] = []
            for (index, author) in authors.enumerated() {
                let own = frame.filter { $0.replica == author }
                if !own.isEmpty { heads += try signers[index].sign(own) }
            }
            try writer.write(frame, heads: heads)
        }
        var sessions: [EntityID] = []
        var emitted = 0
        var made: Int { emitted + (document.journal?.count ?? 0) }
        var wall: UInt64 = 1_700_000_000_000
        let members = (0..<50).map { _ in FieldValue.reference(EntityID.random(using: &random)) }
        while made < total {
            wall += 1
            let context = EditContext(replica: authors[made / 1000 % authors.count], timestamp: HLCTimestamp(wallTime: wall))
            if sessions.count < 2000 && (sessions.isEmpty || made % 50 == 0) {
                let id = EntityID.random(using: &random)
                _ = document.create(id, kind: EntityKind.session.rawValue, by: context)
                sessions.append(id)
            } else {
                let session = sessions[Int.random(in: 0..<sessions.count, using: &random)]
                switch Int.random(in: 0..<10, using: &random) {
                case 0..<4:
                    let field = [DialogueSession.Field.title, DialogueSession.Field.status, DialogueSession.Field.focus][made % 3]
                    // A status must be a known term (the merge refuses others as invalid_value).
                    let value = field == DialogueSession.Field.status ? ["planned", "held", "closed"][made / 3 % 3] : "v\(made)"
                    _ = document.set(field, of: session, to: .string(value), by: context)
                case 4, 5:
                    let member = members[Int.random(in: 0..<members.count, using: &random)]
                    if document.add(member, toSet: DialogueSession.Field.participants, of: session, by: context) == nil {
                        _ = document.remove(member, fromSet: DialogueSession.Field.participants, of: session, by: context)
                    }
                default:
                    let length = document.textSequence(DialogueSession.Field.summary, of: session)?.count ?? 0
                    let offset = Int.random(in: 0...length, using: &random)
                    _ = try document.editText(DialogueSession.Field.summary, of: session, at: offset, insert: "word ", by: context)
                }
            }
            if document.journal!.count >= 4096 {
                try emit(document.journal!)
                emitted += document.journal!.count
                document.journal = []
            }
        }
        try emit(Array(document.journal!.prefix(total - emitted)))
        try writer.finish()
        return writer.bytes
    }

    // MARK: Trace

    static func typeTrace(path: String, in directory: URL, into report: inout Report) async throws {
        let trace = try EditingTrace.load(path: path)
        let file = directory.appendingPathComponent("trace.sqlite").path
        let replica = try Replica(path: file)
        try await replica.addSpace(space)
        let insight = try await replica.edit(in: space) { editor in
            let session = try editor.createSession(title: "Writing up")
            return try editor.captureInsight(in: session, text: "")
        }
        let patches = trace.patches
        let start = Date()
        var index = 0
        while index < patches.count {
            let chunk = patches[index..<min(index + 50, patches.count)]
            try await replica.edit(in: space) { editor in
                for patch in chunk {
                    try editor.editText(
                        Insight.Field.text, of: insight, at: patch.position, delete: patch.deleteCount, insert: patch.insert)
                }
            }
            index += 50
        }
        report.tracePatches = patches.count
        report.tracePatchesPerSecond = Double(patches.count) / Date().timeIntervalSince(start)
        report.traceVerified = await replica.document(space)?.text(Insight.Field.text, of: insight) == trace.endContent
        try await replica.database.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA wal_checkpoint(TRUNCATE)") }
        let size = (try? FileManager.default.attributesOfItem(atPath: file)[.size] as? Int) ?? 0
        report.traceDatabaseBytes = size
    }
}

/// Plain inserts through SQLite's C API: the physical limit the replica is compared with.
enum RawSQLite {
    /// Updates of one text column in random rows of a `rows`-row table (WITHOUT ROWID, 16-byte
    /// keys, like the materialised tables), `batch` per transaction: the floor for
    /// materialising edits scattered over many entities.
    static func scatteredUpdateRate(path: String, updates: Int, rows: Int, batch: Int) throws -> Double {
        let db = try open(path)
        defer { sqlite3_close(db) }
        func exec(_ sql: String) throws { try RawSQLite.exec(db, sql) }
        try exec("CREATE TABLE items (id BLOB PRIMARY KEY, title TEXT, focus TEXT, status TEXT) WITHOUT ROWID")
        let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
        var keys: [[UInt8]] = []
        var insert: OpaquePointer?
        sqlite3_prepare_v2(db, "INSERT INTO items (id, title, focus, status) VALUES (?, 'Session', NULL, 'planned')", -1, &insert, nil)
        try exec("BEGIN")
        for index in 0..<rows {
            var key = [UInt8](repeating: 0, count: 16)
            for byte in 0..<8 { key[byte] = UInt8(truncatingIfNeeded: (index &* 2_654_435_761) >> (8 * byte)) }
            keys.append(key)
            sqlite3_bind_blob(insert, 1, key, 16, transient)
            sqlite3_step(insert)
            sqlite3_reset(insert)
        }
        try exec("COMMIT")
        sqlite3_finalize(insert)
        var update: OpaquePointer?
        guard sqlite3_prepare_v2(db, "UPDATE items SET title = ? WHERE id = ?", -1, &update, nil) == SQLITE_OK else {
            throw Failure(description: String(cString: sqlite3_errmsg(db)))
        }
        defer { sqlite3_finalize(update) }
        let start = Date()
        var done = 0
        while done < updates {
            try exec("BEGIN")
            for _ in 0..<min(batch, updates - done) {
                done += 1
                let title = "edit \(done)"
                sqlite3_bind_text(update, 1, title, -1, transient)
                sqlite3_bind_blob(update, 2, keys[(done &* 7919) % rows], 16, transient)
                guard sqlite3_step(update) == SQLITE_DONE else { throw Failure(description: String(cString: sqlite3_errmsg(db))) }
                sqlite3_reset(update)
            }
            try exec("COMMIT")
        }
        return Double(updates) / Date().timeIntervalSince(start)
    }

    struct Failure: Error, CustomStringConvertible { let description: String }

    /// Opens (creating) a database with the replica's settings: WAL, `synchronous=NORMAL`.
    static func open(_ path: String) throws -> OpaquePointer {
        var handle: OpaquePointer?
        guard sqlite3_open_v2(path, &handle, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nil) == SQLITE_OK, let db = handle else {
            throw Failure(description: "cannot open \(path)")
        }
        try exec(db, "PRAGMA journal_mode = WAL")
        try exec(db, "PRAGMA synchronous = NORMAL")
        return db
    }

    static func exec(_ db: OpaquePointer, _ sql: String) throws {
        guard sqlite3_exec(db, sql, nil, nil, nil) == SQLITE_OK else { throw Failure(description: String(cString: sqlite3_errmsg(db))) }
    }

    static func insertRate(path: String, rows: Int, batch: Int, payloadBytes: Int) throws -> Double {
        let db = try open(path)
        defer { sqlite3_close(db) }
        func exec(_ sql: String) throws { try RawSQLite.exec(db, sql) }
        try exec(
            "CREATE TABLE rows (id INTEGER PRIMARY KEY, space BLOB NOT NULL, replica INTEGER NOT NULL, counter INTEGER NOT NULL, body BLOB NOT NULL)"
        )
        var statement: OpaquePointer?
        guard
            sqlite3_prepare_v2(db, "INSERT INTO rows (space, replica, counter, body) VALUES (?, ?, ?, ?)", -1, &statement, nil) == SQLITE_OK
        else { throw Failure(description: String(cString: sqlite3_errmsg(db))) }
        defer { sqlite3_finalize(statement) }
        let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
        let space = [UInt8](repeating: 0x5A, count: 16)
        var payload = [UInt8](repeating: 0, count: payloadBytes)
        let start = Date()
        var written = 0
        while written < rows {
            try exec("BEGIN")
            for _ in 0..<min(batch, rows - written) {
                written += 1
                payload[0] = UInt8(truncatingIfNeeded: written)
                sqlite3_bind_blob(statement, 1, space, Int32(space.count), transient)
                sqlite3_bind_int64(statement, 2, 42)
                sqlite3_bind_int64(statement, 3, Int64(written))
                sqlite3_bind_blob(statement, 4, payload, Int32(payload.count), transient)
                guard sqlite3_step(statement) == SQLITE_DONE else { throw Failure(description: String(cString: sqlite3_errmsg(db))) }
                sqlite3_reset(statement)
            }
            try exec("COMMIT")
        }
        return Double(rows) / Date().timeIntervalSince(start)
    }
}

/// The benchmark's own server: fixed keys (so `bundle make` and `bundle import`, run apart,
/// agree), certifying the four authors of its bundle and each importing replica.
enum BenchTrust {
    static let server = key(0)

    /// A fixed key pair (not a secret: the benchmark's only).
    static func key(_ seed: UInt8) -> SigningKeyPair {
        try! SigningKeyPair(rawRepresentation: [UInt8](repeating: seed &+ 0x5A, count: 32))
    }

    static func certificate(_ replica: ReplicaID, key: PublicSigningKey) -> DeviceCertificate {
        DeviceCertificate.issue(
            replica: replica, publicKey: key, member: UUID(), memberName: "Bench \(replica)", school: UUID(), schoolName: "Bench School",
            issuedAt: 0, signedBy: server)
    }

    /// Logs `replica` in to the benchmark's server, offline: pinned key, certificate, and a
    /// directory listing the benchmark's space.
    static func logIn(_ replica: Replica) async throws {
        let certificate = certificate(replica.id, key: replica.devicePublicKey)
        let directory = SpaceDirectory.issue(
            member: certificate.member, issuedAt: 0,
            entries: [.init(space: ReplicaBenchmark.space, name: "Benchmark", kind: .shared, owner: UUID())], signedBy: server)
        try await replica.adoptOfflineLogin(ring: ServerKeyRing(pinned: server.publicKey), certificate: certificate, directory: directory)
    }
}
