import DialogueModel
import DialogueTestSupport
import Foundation
import GRDB
import Testing

@testable import DialogueSync

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The spec's crash test: "a child process performing local edits and merges is killed
/// with SIGKILL at random moments, many times; afterwards the replica opens,
/// `PRAGMA integrity_check` is `ok`, every edit whose call returned is there, and no
/// change is duplicated."
///
/// The child is `dialogue-crash-worker` (built with the tests by `swift build --build-tests`).
/// It prints one `ack` line after each call has returned; everything acknowledged on a
/// replica file, in this round or an earlier one, must be in that file after each kill.
@Suite("Replica crash safety")
struct ReplicaCrashTests {
    let space = SpaceID(UUID(uuidString: "5ace0000-0000-4000-8000-00000000c4a5")!)
    /// Kills in all.
    let rounds = 40
    /// Kills per replica file (each file imports its own choice of bundles).
    let roundsPerReplica = 10

    @Test("SIGKILL at random moments loses no acknowledged edit or merge and duplicates nothing")
    func killedWorkerLosesNothingAcknowledged() async throws {
        let worker = try #require(
            Self.workerURL(),
            "dialogue-crash-worker is not built next to the tests; run `swift build --build-tests` (it builds executables too), then `swift test --skip-build`"
        )
        let seed = ProcessInfo.processInfo.environment["DIALOGUE_CRASH_SEED"].flatMap { UInt64($0) } ?? 0xC4A5_5EED
        var random = SplitMix64(seed: seed)
        let directory = TemporaryDirectory()
        let allBundles = directory.url.appendingPathComponent("bundles", isDirectory: true)
        try FileManager.default.createDirectory(at: allBundles, withIntermediateDirectories: true)
        let trust = BundleTrust()
        let bundles = try await prepareBundles(in: allBundles, scratch: directory, trust: trust)
        // Which bundles each replica file's worker imports: all of them; only the delta (so
        // its changes wait, as pending, through every kill); the delta and the early cut.
        var bundleSets: [URL] = [allBundles]
        for (name, members) in [("delta-only", ["c-delta.dlgb"]), ("delta-and-early", ["a-early.dlgb", "c-delta.dlgb"])] {
            let subset = directory.url.appendingPathComponent(name, isDirectory: true)
            try FileManager.default.createDirectory(at: subset, withIntermediateDirectories: true)
            for member in members {
                try FileManager.default.copyItem(at: allBundles.appendingPathComponent(member), to: subset.appendingPathComponent(member))
            }
            bundleSets.append(subset)
        }
        var bundleDirectory = allBundles
        var replicaPath = ""
        var ledger = Ledger()
        var stats = Stats()
        let started = ContinuousClock.now
        for round in 1...rounds {
            if (round - 1) % roundsPerReplica == 0 {
                // A new replica file, with a new record of what was acknowledged.
                let life = (round - 1) / roundsPerReplica
                replicaPath = directory.path("worker-\(life + 1).sqlite")
                // Logged in before the worker first opens it: bundles are verified with the pinned key.
                try await trust.login(try Replica(path: replicaPath), shared: [space])
                bundleDirectory = bundleSets[life % bundleSets.count]
                ledger = Ledger()
                stats.replicas += 1
            }
            let early = round % 5 == 0 || (round - 1) % roundsPerReplica == 0
            let delay = early ? Int.random(in: 0...20, using: &random) : Int.random(in: 50...400, using: &random)
            let workerSeed = random.next() % 1_000_000_000_000
            let context =
                "round \(round) on \(URL(fileURLWithPath: replicaPath).lastPathComponent) importing \(bundleDirectory.lastPathComponent), seed \(seed) (set DIALOGUE_CRASH_SEED to replay), kill after \(delay) ms"

            let lines = try await runAndKill(
                worker, arguments: [replicaPath, space.description, String(workerSeed), bundleDirectory.path], after: delay,
                context: context)
            stats.kills += 1
            if early { stats.earlyKills += 1 }
            for line in lines {
                let fields = line.split(separator: " ").map(String.init)
                switch (fields.first, fields.dropFirst().first) {
                case ("ack", "edit") where fields.count == 4:
                    let dot = try #require(Self.parseDot(fields[3]), "unreadable dot in '\(line)'; \(context)")
                    ledger.edits.append((label: fields[2], dot: dot))
                    if fields[2].hasPrefix("t-") { ledger.titles.insert(fields[2]) }
                case ("ack", "merge") where fields.count == 3:
                    ledger.merges.insert(fields[2])
                    stats.mergeAcks += 1
                default:
                    Issue.record("unexpected worker output '\(line)'; \(context)")
                }
            }
            stats.editAcks += lines.count(where: { $0.hasPrefix("ack edit ") })
            if lines.isEmpty { stats.roundsWithoutAcks += 1 }
            if FileManager.default.fileExists(atPath: replicaPath) {
                try await verify(replicaPath, ledger: ledger, bundles: bundles, stats: &stats, context: context)
            } else {
                #expect(lines.isEmpty, "acknowledgements but no replica file; \(context)")
            }
        }
        let elapsed = ContinuousClock.now - started
        print(
            "crash test: \(stats.kills) kills on \(stats.replicas) replica files (\(stats.earlyKills) within 20 ms, \(stats.roundsWithoutAcks) before any ack), "
                + "\(stats.editAcks) acknowledged edits and \(stats.mergeAcks) acknowledged merges, each verified after every later kill of its replica, "
                + "\(stats.changesChecked) stored changes checked (summed over rounds), pending changes seen in \(stats.roundsWithPending) rounds, \(elapsed)"
        )
        #expect(stats.editAcks > 0, "no edit was ever acknowledged: the test proved nothing")
        #expect(stats.mergeAcks > 0, "no merge was ever acknowledged: the test proved nothing")
    }

    // MARK: What the worker acknowledged

    struct Ledger {
        /// Every acknowledged edit: its label (a session title, `type` or `status`) and the last dot it wrote.
        var edits: [(label: String, dot: Dot)] = []
        /// Titles of acknowledged session creations.
        var titles: Set<String> = []
        /// Names of bundles whose import was acknowledged.
        var merges: Set<String> = []
    }

    struct Stats {
        var replicas = 0
        var kills = 0
        var earlyKills = 0
        var roundsWithoutAcks = 0
        var editAcks = 0
        var mergeAcks = 0
        var changesChecked = 0
        var roundsWithPending = 0
    }

    /// A bundle the worker imports, with the changes it carries.
    struct PreparedBundle {
        var changes: [Change]
        /// Whether its causal past is all inside it (so importing it alone applies everything).
        var selfContained: Bool
    }

    // MARK: Preparation

    /// A second replica (with a third one's changes merged in) exports: its state after a
    /// first phase, its full state, and its own changes without the third one's (which,
    /// imported alone, partly wait for their causal past: signed chains arrive whole, so the
    /// missing past is another device's).
    func prepareBundles(in bundleDirectory: URL, scratch: TemporaryDirectory, trust: BundleTrust) async throws -> [String: PreparedBundle] {
        let carol = try Replica(path: scratch.path("carol.sqlite"))
        try await trust.login(carol, shared: [space])
        try await carol.addSpace(space)
        try await carol.edit(in: space) { editor in
            let session = try editor.createSession(title: "carol-session")
            try editor.editText(DialogueSession.Field.summary, of: session, at: 0, insert: "Notes from Carol.")
        }
        let bob = try Replica(path: scratch.path("bob.sqlite"))
        try await trust.login(bob, shared: [space])
        try await bob.addSpace(space)
        for index in 1...3 {
            try await bob.edit(in: space) { editor in
                let session = try editor.createSession(title: "bob-session-\(index)", strategy: .dialogue)
                for (offset, character) in "Bob typed this.".enumerated() {
                    try editor.editText(DialogueSession.Field.summary, of: session, at: offset, insert: String(character))
                }
            }
        }
        var bundles: [String: PreparedBundle] = [:]
        try bob.exportBundle(to: bundleDirectory.appendingPathComponent("a-early.dlgb"))
        bundles["a-early.dlgb"] = PreparedBundle(changes: try allChanges(of: bob, missingFrom: VersionVector()), selfContained: true)

        let carolBundle = scratch.url.appendingPathComponent("carol.dlgb")
        try carol.exportBundle(to: carolBundle)
        try await bob.importBundle(from: carolBundle)
        try await bob.edit(in: space) { editor in
            for session in editor.document.sessions {
                try editor.editText(DialogueSession.Field.summary, of: session.id, at: 0, insert: "Bob again: ")
                try editor.set(DialogueSession.Field.status, of: session.id, to: .string(SessionStatus.held.rawValue))
            }
            try editor.createSession(title: "bob-session-4")
        }

        try bob.exportBundle(to: bundleDirectory.appendingPathComponent("b-full.dlgb"))
        bundles["b-full.dlgb"] = PreparedBundle(changes: try allChanges(of: bob, missingFrom: VersionVector()), selfContained: true)

        let carolOnly = try #require(try carol.heldVectors()[space])
        try bob.exportBundle(to: bundleDirectory.appendingPathComponent("c-delta.dlgb"), recipientHolds: [space: carolOnly])
        bundles["c-delta.dlgb"] = PreparedBundle(changes: try allChanges(of: bob, missingFrom: carolOnly), selfContained: false)

        #expect(bundles.values.allSatisfy { !$0.changes.isEmpty })
        #expect(bundles["c-delta.dlgb"]!.changes.count < bundles["b-full.dlgb"]!.changes.count)
        return bundles
    }

    func allChanges(of replica: Replica, missingFrom vector: VersionVector) throws -> [Change] {
        var result: [Change] = []
        var cursor: ChangeCursor? = .start
        while let current = cursor {
            let page = try replica.changes(in: space, missingFrom: vector, after: current)
            result += page.changes
            cursor = page.next
        }
        return result
    }

    // MARK: Running the worker

    /// Starts the worker, kills it with SIGKILL after `delay` ms, and returns the complete
    /// lines it printed.
    func runAndKill(_ worker: URL, arguments: [String], after delay: Int, context: String) async throws -> [String] {
        // Output goes to files (the worker writes each ack with one unbuffered write), read
        // after the kill; posix_spawn rather than Foundation's Process, which has crashed
        // here when many children started in parallel.
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("crash-worker-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let outPath = scratch.appendingPathComponent("out").path
        let errPath = scratch.appendingPathComponent("err").path
        let pid = try ChildProcesses.spawn(
            worker.path, arguments, environment: ProcessInfo.processInfo.environment, stdin: "/dev/null", stdout: outPath, stderr: errPath)
        try await Task.sleep(for: .milliseconds(delay))
        let early = ChildProcesses.exitIfEnded(pid)
        let stillRunning = early == nil
        if stillRunning { kill(pid, SIGKILL) }
        let exit: ChildProcesses.Exit
        if let early { exit = early } else { exit = await ChildProcesses.waitForExit(pid) }
        let diagnostics = (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? ""
        #expect(
            stillRunning && exit.signal == SIGKILL,
            "the worker ended on its own (\(exit)) before the kill: \(diagnostics.replacingOccurrences(of: "\n", with: " | ")); \(context)")
        let output = (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? ""
        // A line cut off by the kill is not an acknowledgement.
        var lines = output.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        lines.removeLast()
        return lines.filter { !$0.isEmpty }
    }

    // MARK: Checking the replica after a kill

    func verify(_ path: String, ledger: Ledger, bundles: [String: PreparedBundle], stats: inout Stats, context: String) async throws {
        let replica = try Replica(path: path)
        let integrity = try await replica.database.read { db in try String.fetchAll(db, sql: "PRAGMA integrity_check") }
        #expect(integrity == ["ok"], "\(context)")
        guard let document = await replica.document(space) else {
            // Killed before the worker's `addSpace` committed (it is not acknowledged).
            #expect(ledger.edits.isEmpty && ledger.merges.isEmpty, "the space is gone; \(context)")
            return
        }
        let vector = document.vector

        // Every acknowledged edit is held, by this replica, with its session titles.
        let lostEdits = ledger.edits.filter { !vector.contains($0.dot) }
        #expect(
            lostEdits.isEmpty,
            "\(lostEdits.count) acknowledged edits lost, e.g. \(lostEdits.prefix(5).map { "\($0.label) \($0.dot)" }); vector \(vector); \(context)"
        )
        let foreignEdits = ledger.edits.filter { $0.dot.replica != replica.id }
        #expect(
            foreignEdits.isEmpty,
            "edits acknowledged under another replica id than \(replica.id): \(foreignEdits.prefix(3).map(\.dot)); \(context)")
        // The device's own chain survives every kill: its changes in the log verify from
        // counter 1 against the heads stored with them (each edit signs in its own
        // transaction), and the stored position is where that chain ends.
        let log = try replica.changes(in: space, missingFrom: VersionVector(), limit: 1 << 30)
        let own = log.changes.filter { $0.replica == replica.id }
        if !own.isEmpty {
            let chain = try ChainVerifier(ring: ServerKeyRing(pinned: replica.devicePublicKey)).verify(
                own, extending: DeviceChain(space: space, replica: replica.id), heads: log.heads, signedBy: replica.devicePublicKey)
            let stored = try await replica.database.read { db in try ChainStore.position(of: replica.id, in: space, db) }
            #expect(stored == chain, "the stored chain position is not where the own chain ends; \(context)")
        }

        let titles = Set(document.sessions.compactMap(\.title))
        let lostTitles = ledger.titles.subtracting(titles)
        #expect(lostTitles.isEmpty, "\(lostTitles.count) acknowledged sessions missing, e.g. \(lostTitles.sorted().prefix(5)); \(context)")

        // Every acknowledged merge is held: applied, or (its past not yet imported) waiting.
        let pending = Set(document.pendingChanges.map(\.id))
        if !pending.isEmpty { stats.roundsWithPending += 1 }
        for name in ledger.merges.sorted() {
            let bundle = try #require(bundles[name], "the worker imported an unknown bundle \(name); \(context)")
            let applied = { (change: Change) in vector.contains(Dot(change.replica, change.lastCounter)) }
            let missing = bundle.changes.filter { !applied($0) && (bundle.selfContained || !pending.contains($0.id)) }
            #expect(
                missing.isEmpty,
                "\(missing.count) of \(bundle.changes.count) changes of acknowledged merge \(name) are not held, e.g. \(missing.prefix(3).map(\.id)); \(context)"
            )
        }
        // (The early cut and Bob's own changes without Carol's hold no Carol session: only the full bundle does.)
        if ledger.merges.contains("b-full.dlgb") {
            let expected = Set(bundles["b-full.dlgb"]!.changes.compactMap(\.title))
            #expect(expected.isSubset(of: titles), "titles of merged sessions missing: \(expected.subtracting(titles)); \(context)")
        }

        // The log: every change once, each author's counters gap-free from 1 to what the vector says.
        let blocks = try await replica.database.read { db in
            try Row.fetchAll(db, sql: "SELECT space_id, change_count, body FROM change_blocks ORDER BY block_id")
                .map { (space: $0["space_id"] as Data, count: $0["change_count"] as Int, body: $0["body"] as Data) }
        }
        var seen = Set<Dot>()
        var duplicates: [Dot] = []
        var ranges: [ReplicaID: [ClosedRange<UInt64>]] = [:]
        for block in blocks {
            #expect(block.space == space.blob, "a change block of another space; \(context)")
            let changes = try ChangeCodec.decode(block.body)
            #expect(
                changes.count == block.count, "a block's change_count (\(block.count)) differs from its body (\(changes.count)); \(context)"
            )
            for change in changes {
                #expect(change.space == space, "change \(change.id) of another space in the log; \(context)")
                if !seen.insert(change.id).inserted { duplicates.append(change.id) }
                ranges[change.replica, default: []].append(change.id.counter...change.lastCounter)
            }
        }
        #expect(duplicates.isEmpty, "\(duplicates.count) changes stored twice, e.g. \(duplicates.prefix(5)); \(context)")
        for (author, authorRanges) in ranges {
            var expectedNext: UInt64 = 1
            var problems: [String] = []
            for range in authorRanges.sorted(by: { $0.lowerBound < $1.lowerBound }) {
                if range.lowerBound != expectedNext { problems.append("\(range) where \(expectedNext) was next") }
                expectedNext = max(expectedNext, range.upperBound + 1)
            }
            stats.changesChecked += authorRanges.count
            #expect(problems.isEmpty, "author \(author): counters overlap or have gaps: \(problems.prefix(5)); \(context)")
            #expect(
                expectedNext - 1 == vector[author],
                "author \(author): the log reaches \(expectedNext - 1), the vector \(vector[author]); \(context)")
        }
        #expect(
            Set(ranges.keys) == Set(vector.counters.filter { $0.value > 0 }.keys), "the log's authors differ from the vector's; \(context)")
        let stored = try #require(try replica.heldVectors()[space], "no stored vector; \(context)")
        #expect(stored == vector, "the stored vector \(stored) differs from the log's \(vector); \(context)")

        // The materialised sessions agree with the document.
        let rows = try await replica.database.read { db in
            try Row.fetchAll(
                db, sql: "SELECT session_id, title, summary, status FROM sessions WHERE space_id = ? AND deleted = 0",
                arguments: [space.blob]
            ).map {
                (
                    id: $0["session_id"] as Data, title: $0["title"] as String?, summary: $0["summary"] as String,
                    status: $0["status"] as String?
                )
            }
        }
        let live = document.sessions
        #expect(rows.count == live.count, "\(rows.count) live session rows, \(live.count) live sessions in the document; \(context)")
        let byID = Dictionary(uniqueKeysWithValues: rows.map { ($0.id, $0) })
        let stale = live.filter { session in
            guard let row = byID[session.id.blob] else { return true }
            return row.title != session.title || row.summary != session.summary || row.status != session.status?.rawValue
        }
        #expect(stale.isEmpty, "\(stale.count) session rows missing or stale, e.g. \(stale.prefix(3).map(\.id)); \(context)")
    }

    // MARK: Helpers

    /// The worker in the products directory the tests were built into, else `.build/debug`.
    static func workerURL() -> URL? {
        var directories: [URL] = []
        if let executable = Bundle.main.executableURL { directories.append(executable.deletingLastPathComponent()) }
        directories.append(Bundle.main.bundleURL)
        directories.append(Bundle.main.bundleURL.deletingLastPathComponent())
        let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        directories.append(packageRoot.appendingPathComponent(".build/debug"))
        return directories.map { $0.appendingPathComponent("dialogue-crash-worker") }
            .first { FileManager.default.isExecutableFile(atPath: $0.path) }
    }

    /// Reads `replica@counter`.
    static func parseDot(_ text: String) -> Dot? {
        let parts = text.split(separator: "@")
        guard parts.count == 2, let replica = ReplicaID(String(parts[0])), let counter = UInt64(parts[1]) else { return nil }
        return Dot(replica, counter)
    }
}

extension Change {
    /// The title a change sets, if it sets a session title.
    fileprivate var title: String? {
        guard field == DialogueSession.Field.title, case .set(let value, _) = operation, case .string(let text) = value else { return nil }
        return text
    }
}
