import DialogueModel
import DialogueTestSupport
import Foundation
import GRDB
import Testing

@testable import DialogueSync

/// Convergence of on-disk replicas: 3–4 SQLite replicas of one space make random typed
/// edits (with deliberate concurrent edits of the same field, text and set), exchange
/// bundle files cut against real, empty or stale vectors, imported in random order,
/// some twice, some much later and some by a replica they were not cut for, and are
/// reopened mid-run. After a full exchange every replica's canonical export is the same,
/// equals a fresh pure document that applied the whole log, survives reopening, and the
/// materialised tables agree with the pure state. Odd seeds integrate merged text on a
/// second thread, as large merges do. Every failure names its seed; rerun
/// one with `ReplicaSimulation(seed:directory:).run()`.
@Suite("Replica convergence")
struct ReplicaConvergenceTests {
    @Test("random typed edits and random bundle exchanges converge on disk", arguments: 0..<40)
    func randomEditsAndBundlesConverge(seed: UInt64) async throws {
        let directory = TemporaryDirectory()
        let simulation: ReplicaSimulation
        do {
            simulation = try ReplicaSimulation(seed: seed, directory: directory)
        } catch {
            Issue.record("seed \(seed): cannot create the replicas: \(error)")
            return
        }
        do {
            try await simulation.run()
        } catch {
            Issue.record("seed \(seed): the run failed: \(error)\n\(simulation.traceTail())")
            return
        }
        do {
            try await simulation.checkConverged()
        } catch {
            Issue.record("seed \(seed): checking convergence failed: \(error)\n\(simulation.traceTail())")
        }
    }

    @Test("an edit the deleter had not seen keeps the entity live in the materialised tables too")
    func unseenEditOverrulesDeletionInTables() async throws {
        let directory = TemporaryDirectory()
        let clock = ManualWallClock(1_780_000_000_000)
        let space = SpaceID(UUID(uuidString: "5ace0000-0000-4000-8000-0000000de1e7")!)
        try createReplicaFile(at: directory.path("alice.sqlite"), id: ReplicaID(rawValue: 1)!)
        try createReplicaFile(at: directory.path("bob.sqlite"), id: ReplicaID(rawValue: 2)!)
        let alice = try Replica(path: directory.path("alice.sqlite"), wallClock: clock)
        let bob = try Replica(path: directory.path("bob.sqlite"), wallClock: clock)
        try await alice.addSpace(space)
        try await bob.addSpace(space)
        let (session, insight) = try await alice.edit(in: space) { editor in
            let session = try editor.createSession(title: "Classroom visit")
            return (session, try editor.captureInsight(in: session, text: "Pupils explain their thinking"))
        }
        try await bob.merge(alice.changes(in: space, missingFrom: VersionVector()).changes)
        // Bob edits both while Alice, who has not seen his edits, deletes both.
        try await bob.edit(in: space) { editor in
            try editor.set(DialogueSession.Field.title, of: session, to: .string("Classroom visit, moved to Friday"))
            try editor.tag(insight, with: .synergy)
        }
        try await alice.edit(in: space) { editor in
            try editor.delete(session)
            try editor.delete(insight)
        }
        let aliceHolds = try #require(try alice.heldVectors()[space])
        try await alice.merge(bob.changes(in: space, missingFrom: aliceHolds).changes)
        let document = try #require(await alice.document(space))
        #expect(document.sessions.map(\.id) == [session], "the unseen edit keeps the session")
        #expect(document.insights.map(\.id) == [insight], "the unseen edit keeps the insight")
        let (sessionDeleted, insightDeleted) = try await alice.database.read { db in
            (
                try Bool.fetchOne(db, sql: "SELECT deleted FROM sessions WHERE session_id = ?", arguments: [session.blob]),
                try Bool.fetchOne(db, sql: "SELECT deleted FROM insights WHERE insight_id = ?", arguments: [insight.blob])
            )
        }
        #expect(sessionDeleted == false, "the sessions row still says deleted")
        #expect(insightDeleted == false, "the insights row still says deleted")
    }

    @Test(
        "frames large enough for the text thread merge, reopen and restore to the pure state, also past the thread cap",
        arguments: [1, 6])
    func largeFramesMergeAndReopen(spaceCount: Int) async throws {
        let directory = TemporaryDirectory()
        let spaces = (0..<spaceCount).map { SpaceID(UUID(uuidString: String(format: "5ace0000-0000-4000-8000-00000000b1%02x", $0))!) }
        var logs: [[Change]] = []
        var sessions: [[EntityID]] = []
        for (index, space) in spaces.enumerated() {
            let (log, made) = try Self.typingLog(in: space, seed: 99 + UInt64(index), steps: spaceCount == 1 ? 3_000 : 1_100)
            logs.append(log)
            sessions.append(made)
        }
        var pure: [SpaceDocument] = []
        for (space, log) in zip(spaces, logs) {
            var document = SpaceDocument(space: space)
            try document.apply(log)
            pure.append(document)
        }
        try createReplicaFile(at: directory.path("large.sqlite"), id: ReplicaID(rawValue: 0x99)!)
        let replica = try Replica(path: directory.path("large.sqlite"), wallClock: ManualWallClock(1_780_000_100_000))
        for space in spaces { try await replica.addSpace(space) }
        #expect(logs.allSatisfy { $0.count >= 1_024 }, "each space's frame large enough for the second thread")
        // One merge of every space: more spaces than threads at once (TextThreads.maximum).
        let report = try await replica.merge(logs.flatMap { $0 })
        #expect(report.applied == logs.map(\.count).reduce(0, +))
        for (index, space) in spaces.enumerated() {
            #expect(await replica.document(space)?.canonicalExport() == pure[index].canonicalExport(), "space \(index)")
        }
        let rows = try await replica.database.read { db in try String.fetchAll(db, sql: "SELECT summary FROM sessions") }
        let texts = zip(pure, sessions).flatMap { document, made in made.map { document.text(DialogueSession.Field.summary, of: $0) } }
        #expect(rows.sorted() == texts.sorted())
        // Reopening replays the stored frames with the same threads, as does restoring a space.
        let reopened = try Replica(path: directory.path("large.sqlite"))
        for (index, space) in spaces.enumerated() {
            #expect(await reopened.document(space)?.canonicalExport() == pure[index].canonicalExport(), "space \(index) reopened")
            let restored = try await reopened.database.read { db in try Replica.loadDocument(space, db) }
            #expect(restored.canonicalExport() == pure[index].canonicalExport(), "space \(index) restored")
        }
    }

    @Test("text threads: a large frame starts one, at most four at once, the oldest ending first")
    func textThreadsStayWithinTheCap() throws {
        var threads = TextThreads(threshold: 1_024)
        let spaces = (0..<6).map { _ in SpaceID(UUID()) }
        var documents = spaces.map { SpaceDocument(space: $0) }
        #expect(threads.start(spaces[0], &documents[0], frameSize: 1_023) == nil)
        #expect(!threads.runs(spaces[0]) && !documents[0].lendsTexts, "a small frame starts no thread")
        var ended: [SpaceID] = []
        for index in spaces.indices {
            if let oldest = threads.start(spaces[index], &documents[index], frameSize: 4_096) {
                ended.append(oldest)
                try threads.end(oldest, &documents[spaces.firstIndex(of: oldest)!])
            }
            #expect(threads.start(spaces[index], &documents[index], frameSize: 4_096) == nil, "one thread per space")
        }
        #expect(ended == Array(spaces.prefix(2)))
        #expect(spaces.map(threads.runs) == [false, false, true, true, true, true])
        #expect(documents.map(\.lendsTexts) == [false, false, true, true, true, true])
        for index in documents.indices { try threads.end(spaces[index], &documents[index]) }
        #expect(documents.allSatisfy { !$0.lendsTexts })
    }

    /// Two authors typing into three summaries of a space and retitling them, in turns of
    /// 500 edits (each catching up first): `steps` edits, most of them text, in causal order.
    static func typingLog(in space: SpaceID, seed: UInt64, steps: Int) throws -> (log: [Change], sessions: [EntityID]) {
        var random = SplitMix64(seed: seed)
        var authors = [SpaceDocument(space: space), SpaceDocument(space: space)]
        let contexts = [ReplicaID(rawValue: 0x51)!, ReplicaID(rawValue: 0x52)!].map { replica in
            { (wall: UInt64) in EditContext(replica: replica, timestamp: HLCTimestamp(wallTime: 1_780_000_000_000 + wall)) }
        }
        var log: [Change] = []
        let sessions = (0..<3).map { _ in EntityID.random(using: &random) }
        for session in sessions { log.append(authors[0].create(session, kind: EntityKind.session.rawValue, by: contexts[0](0))) }
        try authors[1].apply(log)
        for step in 0..<steps {
            let who = step / 500 % 2
            if step % 500 == 0 { try authors[who].apply(log) }
            let session = sessions[Int.random(in: 0..<3, using: &random)]
            if step % 10 == 0 {
                log.append(
                    authors[who].set(DialogueSession.Field.title, of: session, to: .string("t\(step)"), by: contexts[who](UInt64(step))))
                continue
            }
            let length = authors[who].textSequence(DialogueSession.Field.summary, of: session)?.count ?? 0
            let offset = Int.random(in: 0...length, using: &random)
            let delete = offset < length && step % 7 == 0 ? 1 : 0
            log += try authors[who].editText(
                DialogueSession.Field.summary, of: session, at: offset, delete: delete, insert: step % 3 == 0 ? "é " : "ab",
                by: contexts[who](UInt64(step)))
        }
        return (log, sessions)
    }

    @Test("a seed replays the same run: same replicas, same changes, same state")
    func seedsReplay() async throws {
        var exports: [[UInt8]] = []
        for _ in 0..<2 {
            let directory = TemporaryDirectory()
            let simulation = try ReplicaSimulation(seed: 7, directory: directory)
            try await simulation.run()
            exports.append(try #require(await simulation.replicas[0].document(simulation.space)).canonicalExport())
        }
        #expect(exports[0] == exports[1], "seed 7: two runs of the same seed differ")
    }
}

/// A seeded simulation of on-disk replicas editing one space and exchanging bundle files.
final class ReplicaSimulation {
    let seed: UInt64
    var random: SplitMix64
    let directory: TemporaryDirectory
    let space: SpaceID
    var replicas: [Replica] = []
    var paths: [String] = []
    var clocks: [ManualWallClock] = []
    var entityIDs: [SeededEntityIDs] = []
    /// Every vector each replica has held when something was cut for it (for stale cuts).
    var vectorHistory: [[VersionVector]] = []
    /// Bundles written but not imported yet: (file, writer).
    var delayed: [(url: URL, from: Int)] = []
    var bundleCount = 0
    var trace: [String] = []
    /// The server every replica logged in to (its directory lists the space).
    let trust = BundleTrust()

    init(seed: UInt64, directory: TemporaryDirectory) throws {
        self.seed = seed
        self.directory = directory
        random = SplitMix64(seed: seed)
        space = SpaceID.random(using: &random)
        let count = Int.random(in: 3...4, using: &random)
        let start: UInt64 = 1_780_000_000_000
        for index in 0..<count {
            // Small identifiers in random order, so tie-breaks go both ways across seeds.
            let id = ReplicaID(rawValue: UInt64.random(in: 1...1000, using: &random) * 8 + UInt64(index))!
            let path = directory.path("replica-\(index).sqlite")
            try createReplicaFile(at: path, id: id)
            paths.append(path)
            // Skewed clocks (a few seconds apart, inside the five-minute drift bound).
            clocks.append(ManualWallClock(start + UInt64.random(in: 0...3_000, using: &random)))
            entityIDs.append(SeededEntityIDs(seed: random.next()))
            vectorHistory.append([VersionVector()])
        }
        for index in 0..<count { replicas.append(try open(index)) }
    }

    func open(_ index: Int) throws -> Replica {
        let ids = entityIDs[index]
        return try Replica(path: paths[index], wallClock: clocks[index], entityIDs: { ids.next() })
    }

    func note(_ line: String) { trace.append(line) }

    func traceTail(_ count: Int = 40) -> String {
        "last steps:\n" + trace.suffix(count).joined(separator: "\n")
    }

    /// Odd seeds integrate every merge's text on a second thread, as large merges do.
    var textOnSecondThread: Bool { seed % 2 == 1 }

    func configure(_ replica: Replica) async {
        if textOnSecondThread { await replica.integrateTextConcurrently(fromFrameSize: 1) }
    }

    func run() async throws {
        for replica in replicas {
            try await trust.login(replica, shared: [space])
            try await replica.addSpace(space)
            await configure(replica)
        }
        let steps = Int.random(in: 90...140, using: &random)
        for step in 0..<steps {
            let elapsed = UInt64.random(in: 0...40, using: &random)
            for clock in clocks { clock.advance(by: elapsed) }
            let roll = Int.random(in: 0..<100, using: &random)
            switch roll {
            case 0..<50:
                let index = Int.random(in: 0..<replicas.count, using: &random)
                let opSeed = random.next()
                let count = Int.random(in: 1...3, using: &random)
                let done = try await replicas[index].edit(in: space) { editor in
                    try RandomEdits.perform(&editor, seed: opSeed, count: count)
                }
                note("\(step): replica \(index) edits: \(done.joined(separator: "; "))")
            case 50..<62:
                try await contend()
            case 62..<88:
                let from = Int.random(in: 0..<replicas.count, using: &random)
                let to = (from + Int.random(in: 1..<replicas.count, using: &random)) % replicas.count
                try await exchange(from: from, to: to, step: step)
            case 88..<97:
                guard !delayed.isEmpty else { continue }
                let bundle = delayed.remove(at: Int.random(in: 0..<delayed.count, using: &random))
                // Usually to someone else than its writer; not necessarily the replica it was cut for.
                let to = Int.random(in: 0..<replicas.count, using: &random)
                let report = try await importUnlessGap(bundle.url, into: to)
                note("\(step): late bundle \(bundle.url.lastPathComponent) from \(bundle.from) imported by \(to): \(Self.describe(report))")
            default:
                let index = Int.random(in: 0..<replicas.count, using: &random)
                let before = await replicas[index].document(space)
                replicas[index] = try open(index)
                await configure(replicas[index])
                let after = await replicas[index].document(space)
                if before?.canonicalExport() != after?.canonicalExport() || before?.pendingCount != after?.pendingCount {
                    Issue.record("seed \(seed): step \(step): reopening replica \(index) mid-run changed its state\n\(traceTail())")
                }
                note("\(step): replica \(index) reopened (\(after?.pendingCount ?? 0) changes waiting)")
            }
        }
        // Whatever is still in flight arrives late, in random order.
        for bundle in delayed.shuffled(using: &random) {
            let to = Int.random(in: 0..<replicas.count, using: &random)
            let report = try await importUnlessGap(bundle.url, into: to)
            note("final: late bundle \(bundle.url.lastPathComponent) from \(bundle.from) imported by \(to): \(Self.describe(report))")
        }
        delayed = []
        // Full exchange: every replica hears from every other, twice, against its real vectors.
        for round in 0..<2 {
            for to in replicas.indices.shuffled(using: &random) {
                for from in replicas.indices.shuffled(using: &random) where from != to {
                    let url = nextBundleURL()
                    try replicas[from].exportBundle(to: url, recipientHolds: try replicas[to].heldVectors())
                    let report = try await replicas[to].importBundle(from: url)
                    note("full exchange \(round): \(from) -> \(to): \(report)")
                }
            }
        }
    }

    /// Imports a bundle; `nil` when it is refused as `counter_gap`: a bundle cut against a
    /// vector the recipient does not hold (a third replica's, or late) may start an author's
    /// run past what the recipient holds, and signed chains are verified without gaps. Such
    /// a refusal must change nothing.
    func importUnlessGap(_ url: URL, into index: Int) async throws -> MergeReport? {
        let replica = replicas[index]
        let before: [UInt8]? = await replica.document(space)?.canonicalExport()
        do {
            return try await replica.importBundle(from: url)
        } catch {
            guard error.trustCode == "counter_gap" else { throw error }
            let after: [UInt8]? = await replica.document(space)?.canonicalExport()
            if after != before { Issue.record("seed \(seed): a refused bundle changed replica \(index)") }
            return nil
        }
    }

    static func describe(_ report: MergeReport?) -> String {
        guard let report else { return "refused: counter_gap" }
        return String(describing: report)
    }

    func nextBundleURL() -> URL {
        bundleCount += 1
        return directory.url.appendingPathComponent("bundle-\(bundleCount).dlgb")
    }

    /// Cuts a bundle from `from` for `to` against a real, empty or stale vector, then
    /// imports it now (sometimes twice) or keeps it for later.
    func exchange(from: Int, to: Int, step: Int) async throws {
        let real = try replicas[to].heldVectors()
        let vectors: [SpaceID: VersionVector]
        let how: String
        switch Int.random(in: 0..<10, using: &random) {
        case 0..<4:
            vectors = real
            how = "real vector"
        case 4:
            // Cut for a third replica: the recipient may lack the causal past of some changes.
            let other = (to + 1 + Int.random(in: 0..<(replicas.count - 1), using: &random)) % replicas.count
            vectors = try replicas[other].heldVectors()
            how = "vector of replica \(other)"
        case 5..<7:
            vectors = Bool.random(using: &random) ? [:] : [space: VersionVector()]
            how = "whole space"
        default:
            vectors = [space: vectorHistory[to].randomElement(using: &random)!]
            how = "stale vector"
        }
        vectorHistory[to].append(real[space] ?? VersionVector())
        let url = nextBundleURL()
        let summary = try replicas[from].exportBundle(to: url, recipientHolds: vectors)
        if Int.random(in: 0..<4, using: &random) == 0 {
            delayed.append((url, from))
            note("\(step): bundle \(url.lastPathComponent) \(from) -> \(to) (\(how), \(summary.changes) changes) kept for later")
            return
        }
        guard let report = try await importUnlessGap(url, into: to) else {
            note("\(step): bundle \(url.lastPathComponent) \(from) -> \(to) (\(how)) refused: counter_gap")
            return
        }
        note("\(step): bundle \(url.lastPathComponent) \(from) -> \(to) (\(how), \(summary.changes) changes): \(report)")
        if Int.random(in: 0..<5, using: &random) == 0 {
            let before = await replicas[to].document(space)?.canonicalExport()
            let again = try await replicas[to].importBundle(from: url)
            let after = await replicas[to].document(space)?.canonicalExport()
            note("\(step): same bundle imported again: \(again)")
            if again.applied != 0 || before != after {
                Issue.record("seed \(seed): step \(step): importing a bundle twice applied something the second time: \(again)")
            }
        }
    }

    /// Several replicas edit the same field, text or set of a session they all hold,
    /// before any of them hears of the others' edits.
    func contend() async throws {
        var common: Set<EntityID>?
        for replica in replicas {
            let ids = Set(await replica.document(space)?.sessions.map(\.id) ?? [])
            common = common.map { $0.intersection(ids) } ?? ids
        }
        guard let target = common?.sorted().randomElement(using: &random) else { return }
        let kind = Int.random(in: 0..<RandomEdits.contentionKinds, using: &random)
        let member = EntityID.random(using: &random)
        let editors = replicas.indices.shuffled(using: &random).prefix(Int.random(in: 2...replicas.count, using: &random))
        for index in editors {
            let opSeed = random.next()
            let done = try await replicas[index].edit(in: space) { editor in
                try RandomEdits.contend(&editor, on: target, kind: kind, member: member, seed: opSeed)
            }
            note("contention on \(target): replica \(index): \(done)")
        }
    }

    // MARK: Checks

    func checkConverged() async throws {
        let context = "seed \(seed)"
        var exports: [[UInt8]] = []
        var documents: [SpaceDocument] = []
        for (index, replica) in replicas.enumerated() {
            let document = try #require(await replica.document(space), "\(context): replica \(index) lost the space")
            documents.append(document)
            exports.append(document.canonicalExport())
            #expect(document.pendingCount == 0, "\(context): replica \(index) still has \(document.pendingCount) changes waiting")
            #expect(document.quarantined.isEmpty, "\(context): replica \(index) quarantined \(document.quarantined.map(\.error))")
            let held = try replica.heldVectors()[space]
            #expect(
                held == document.vector, "\(context): replica \(index) stored vector \(String(describing: held)) ≠ \(document.vector)")
        }
        for index in exports.indices.dropFirst() where exports[index] != exports[0] {
            Issue.record(
                "\(context): replica \(index) differs from replica 0: \(firstDifference(documents[0], documents[index]))\n\(traceTail())")
        }

        // The log, read in pages, holds every counter exactly once and rebuilds the state.
        var log: [Change] = []
        var cursor: ChangeCursor? = .start
        let pageSize = Int.random(in: 5...300, using: &random)
        while let current = cursor {
            let page = try replicas[0].changes(in: space, missingFrom: VersionVector(), after: current, limit: pageSize)
            log += page.changes
            cursor = page.next
        }
        let counters = log.reduce(UInt64(0)) { $0 + $1.counterSpan }
        #expect(
            counters == documents[0].vector.operationCount,
            "\(context): the log holds \(counters) counters, the vector \(documents[0].vector.operationCount)")
        var fresh = SpaceDocument(space: space)
        try fresh.apply(log)
        #expect(
            fresh.canonicalExport() == exports[0],
            "\(context): a fresh document applying the log differs: \(firstDifference(documents[0], fresh))")
        var shuffled = SpaceDocument(space: space)
        try shuffled.apply(log.shuffled(using: &random))
        #expect(shuffled.canonicalExport() == exports[0], "\(context): a fresh document applying the log shuffled differs")
        #expect(shuffled.pendingCount == 0 && shuffled.quarantined.isEmpty, "\(context): the shuffled log left changes waiting or refused")

        for (index, replica) in replicas.enumerated() {
            // Reopening rebuilds the same state from the file.
            let reopened = try Replica(path: paths[index])
            #expect(reopened.id == replica.id, "\(context): replica \(index) changed identity on reopening")
            let export = await reopened.document(space)?.canonicalExport()
            #expect(export == exports[index], "\(context): replica \(index) reopened differs")
            // The materialised tables agree with the pure state.
            for problem in try await materialisedMismatches(replica, documents[index]) {
                Issue.record("\(context): replica \(index): \(problem)")
            }
        }
    }

    func firstDifference(_ a: SpaceDocument, _ b: SpaceDocument) -> String {
        let left = a.canonicalExportText().split(separator: "\n", omittingEmptySubsequences: false)
        let right = b.canonicalExportText().split(separator: "\n", omittingEmptySubsequences: false)
        for index in 0..<max(left.count, right.count) {
            let l = index < left.count ? String(left[index]) : "<end>"
            let r = index < right.count ? String(right[index]) : "<end>"
            if l != r { return "line \(index + 1):\n  \(l)\n  \(r)" }
        }
        return "exports differ in bytes only"
    }

    func materialisedMismatches(_ replica: Replica, _ document: SpaceDocument) async throws -> [String] {
        let spaceBlob = space.blob
        var problems: [String] = []
        let liveSessions = try await replica.database.read { db in
            try Int.fetchOne(db, sql: "SELECT count(*) FROM sessions WHERE space_id = ? AND deleted = 0", arguments: [spaceBlob]) ?? -1
        }
        if liveSessions != document.sessions.count {
            problems.append("sessions table has \(liveSessions) live rows, the document \(document.sessions.count) sessions")
        }
        for session in document.sessions {
            let row = try await replica.database.read { db in
                try Row.fetchOne(
                    db, sql: "SELECT title, status, summary, deleted FROM sessions WHERE session_id = ?", arguments: [session.id.blob])
            }
            guard let row else {
                problems.append("session \(session.id) has no row")
                continue
            }
            let title: String? = row["title"]
            let status: String? = row["status"]
            let summary: String = row["summary"]
            if title != session.title || status != session.status?.rawValue || summary != session.summary {
                problems.append(
                    "session \(session.id) row (\(title ?? "nil"), \(status ?? "nil"), \(summary.debugDescription)) ≠ \(session)")
            }
            let participants = try await replica.database.read { db in
                try Data.fetchAll(db, sql: "SELECT member_id FROM session_participants WHERE session_id = ?", arguments: [session.id.blob])
            }
            if Set(participants.compactMap(EntityID.init(blob:))) != Set(session.participants) {
                problems.append("session \(session.id) participant rows ≠ \(session.participants)")
            }
            let agenda = try await replica.database.read { db in
                try Data.fetchAll(
                    db, sql: "SELECT prompt_id FROM agenda_items WHERE session_id = ? ORDER BY position", arguments: [session.id.blob])
            }
            if agenda.compactMap(EntityID.init(blob:)) != session.agenda {
                problems.append("session \(session.id) agenda rows ≠ \(session.agenda)")
            }
        }
        for insight in document.insights {
            let text = try await replica.database.read { db in
                try String.fetchOne(db, sql: "SELECT text FROM insights WHERE insight_id = ? AND deleted = 0", arguments: [insight.id.blob])
            }
            if text != insight.text {
                problems.append("insight \(insight.id) row text \(String(describing: text)) ≠ \(insight.text.debugDescription)")
            }
            let hallmarks = try await replica.database.read { db in
                try String.fetchAll(db, sql: "SELECT hallmark FROM insight_hallmarks WHERE insight_id = ?", arguments: [insight.id.blob])
            }
            if Set(hallmarks) != Set(insight.hallmarks.map(\.rawValue)) {
                problems.append("insight \(insight.id) hallmark rows \(hallmarks) ≠ \(insight.hallmarks)")
            }
        }
        let liveInsights = try await replica.database.read { db in
            try Int.fetchOne(db, sql: "SELECT count(*) FROM insights WHERE space_id = ? AND deleted = 0", arguments: [spaceBlob]) ?? -1
        }
        if liveInsights != document.insights.count {
            problems.append("insights table has \(liveInsights) live rows, the document \(document.insights.count) insights")
        }
        for action in document.actions {
            let row = try await replica.database.read { db in
                try Row.fetchOne(
                    db, sql: "SELECT owner, status FROM actions WHERE action_id = ? AND deleted = 0", arguments: [action.id.blob])
            }
            let owner = (row?["owner"] as Data?).flatMap(EntityID.init(blob:))
            let status: String? = row?["status"]
            if row == nil || owner != action.owner || status != action.status?.rawValue {
                problems.append("action \(action.id) row \(String(describing: row)) ≠ \(action)")
            }
        }
        let liveActions = try await replica.database.read { db in
            try Int.fetchOne(db, sql: "SELECT count(*) FROM actions WHERE space_id = ? AND deleted = 0", arguments: [spaceBlob]) ?? -1
        }
        if liveActions != document.actions.count {
            problems.append("actions table has \(liveActions) live rows, the document \(document.actions.count) actions")
        }
        return problems
    }
}

/// Random typed edits through a ``SpaceEditor``, each valid for the editor's current state.
enum RandomEdits {
    static let titles = ["Feedback that moves learning on", "Reading for pleasure", "Classroom visits ✍️", "Marking", "Questioning"]
    static let snippets = ["a", "bc", "dé", "🙂", "word ", "\n", "pupils ", "e\u{301}"]
    static let names = ["Ada", "Bea", "Cai", "Dev", "Eli"]
    static let dates = ["2026-01-31", "2026-02-28", "2028-02-29", "2026-12-01"]
    static let contentionKinds = 7

    /// Makes `count` random operations; returns what each did.
    static func perform(_ editor: inout SpaceEditor, seed: UInt64, count: Int) throws -> [String] {
        var random = SplitMix64(seed: seed)
        var done: [String] = []
        for _ in 0..<count { done.append(try performOne(&editor, &random)) }
        return done
    }

    static func pick<T>(_ values: [T], _ random: inout SplitMix64) -> T? { values.randomElement(using: &random) }

    static func textEdit(
        _ editor: inout SpaceEditor, _ field: String, of entity: EntityID, _ random: inout SplitMix64
    ) throws -> String {
        let length = editor.document.text(field, of: entity).unicodeScalars.count
        let offset = Int.random(in: 0...length, using: &random)
        let deleteCount = offset < length && Bool.random(using: &random) ? Int.random(in: 1...min(4, length - offset), using: &random) : 0
        let text = deleteCount > 0 && Bool.random(using: &random) ? "" : snippets.randomElement(using: &random)!
        try editor.editText(field, of: entity, at: offset, delete: deleteCount, insert: text)
        return "edit \(field) of \(entity) at \(offset) -\(deleteCount) +\(text.debugDescription)"
    }

    static func createSession(_ editor: inout SpaceEditor, _ random: inout SplitMix64) throws -> String {
        let id = try editor.createSession(
            title: titles.randomElement(using: &random)!,
            strategy: Bool.random(using: &random) ? LeadershipStrategy.allCases.randomElement(using: &random) : nil,
            focus: Bool.random(using: &random) ? "assessment" : nil,
            status: SessionStatus.allCases.randomElement(using: &random)!)
        return "create session \(id)"
    }

    static func member(_ editor: inout SpaceEditor, _ random: inout SplitMix64) throws -> EntityID {
        if let existing = pick(editor.document.people.map(\.id), &random), Int.random(in: 0..<4, using: &random) != 0 {
            return existing
        }
        return try editor.createMember(names.randomElement(using: &random)!, role: MemberRole.allCases.randomElement(using: &random))
    }

    static func prompt(_ editor: inout SpaceEditor, _ random: inout SplitMix64) throws -> EntityID {
        if let existing = pick(editor.document.prompts.map(\.id), &random), Int.random(in: 0..<3, using: &random) != 0 {
            return existing
        }
        return try editor.createPrompt("What did pupils say? \(Int.random(in: 1...9, using: &random))", theme: "feedback")
    }

    static func performOne(_ editor: inout SpaceEditor, _ random: inout SplitMix64) throws -> String {
        let document = editor.document
        let sessions = document.sessions
        guard let session = pick(sessions, &random), sessions.count >= 2 || Int.random(in: 0..<3, using: &random) != 0,
            Int.random(in: 0..<30, using: &random) != 0
        else {
            return try createSession(&editor, &random)
        }
        let insight = pick(document.insights, &random)
        let action = pick(document.actions, &random)
        switch Int.random(in: 0..<20, using: &random) {
        case 0:
            let title = titles.randomElement(using: &random)! + " \(Int.random(in: 1...99, using: &random))"
            try editor.set(DialogueSession.Field.title, of: session.id, to: .string(title))
            return "title of \(session.id) = \(title)"
        case 1:
            let status = SessionStatus.allCases.randomElement(using: &random)!
            try editor.set(DialogueSession.Field.status, of: session.id, to: .string(status.rawValue))
            return "status of \(session.id) = \(status)"
        case 2:
            let member = try member(&editor, &random)
            try editor.addParticipant(member, to: session.id)
            return "add participant \(member) to \(session.id)"
        case 3:
            guard let member = pick(session.participants, &random) else {
                return try textEdit(&editor, DialogueSession.Field.summary, of: session.id, &random)
            }
            try editor.removeParticipant(member, from: session.id)
            return "remove participant \(member) from \(session.id)"
        case 4, 5:
            let prompt = try prompt(&editor, &random)
            let count = editor.document.items(DialogueSession.Field.agenda, of: session.id).count
            let index = Bool.random(using: &random) ? nil : Int.random(in: 0...count, using: &random)
            try editor.addToAgenda(prompt, of: session.id, at: index)
            return "agenda of \(session.id): add \(prompt) at \(index.map(String.init) ?? "end")"
        case 6:
            let count = session.agenda.count
            guard count > 0 else { return try textEdit(&editor, DialogueSession.Field.summary, of: session.id, &random) }
            let from = Int.random(in: 0..<count, using: &random)
            let to = Int.random(in: 0..<count, using: &random)
            try editor.moveOnAgenda(from: from, to: to, of: session.id)
            return "agenda of \(session.id): move \(from) -> \(to)"
        case 7:
            let count = session.agenda.count
            guard count > 0 else { return try textEdit(&editor, DialogueSession.Field.summary, of: session.id, &random) }
            let index = Int.random(in: 0..<count, using: &random)
            try editor.removeFromAgenda(at: index, of: session.id)
            return "agenda of \(session.id): remove \(index)"
        case 8, 19:
            let hallmarks = Hallmark.allCases.filter { _ in Int.random(in: 0..<4, using: &random) == 0 }
            let id = try editor.captureInsight(
                in: session.id, text: snippets.randomElement(using: &random)!, kind: InsightKind.allCases.randomElement(using: &random),
                hallmarks: hallmarks)
            return "capture insight \(id) in \(session.id)"
        case 9, 10:
            guard let insight else { return try textEdit(&editor, DialogueSession.Field.summary, of: session.id, &random) }
            return try textEdit(&editor, Insight.Field.text, of: insight.id, &random)
        case 11, 12:
            return try textEdit(&editor, DialogueSession.Field.summary, of: session.id, &random)
        case 13:
            guard let insight else { return try textEdit(&editor, DialogueSession.Field.summary, of: session.id, &random) }
            let hallmark = Hallmark.allCases.randomElement(using: &random)!
            if insight.hallmarks.contains(hallmark), Bool.random(using: &random) {
                try editor.untag(insight.id, hallmark: hallmark)
                return "untag \(insight.id) \(hallmark)"
            }
            try editor.tag(insight.id, with: hallmark)
            return "tag \(insight.id) \(hallmark)"
        case 14:
            let owner = Bool.random(using: &random) ? try member(&editor, &random) : nil
            let id = try editor.addAction(
                "Follow up \(Int.random(in: 1...9, using: &random))", owner: owner,
                dueDate: Bool.random(using: &random) ? dates.randomElement(using: &random) : nil, session: session.id,
                insight: insight?.id)
            return "add action \(id)"
        case 15:
            guard let action else { return try textEdit(&editor, DialogueSession.Field.summary, of: session.id, &random) }
            let owner = try member(&editor, &random)
            try editor.reassign(action.id, to: owner)
            return "reassign \(action.id) to \(owner)"
        case 16:
            guard let action else { return try textEdit(&editor, DialogueSession.Field.summary, of: session.id, &random) }
            try editor.complete(action.id)
            return "complete \(action.id)"
        case 17:
            guard Bool.random(using: &random) else { return try textEdit(&editor, DialogueSession.Field.summary, of: session.id, &random) }
            let candidates = [session.id] + [insight?.id, action?.id, pick(document.people.map(\.id), &random)].compactMap { $0 }
            let victim = candidates.randomElement(using: &random)!
            try editor.delete(victim)
            return "delete \(victim)"
        case 18:
            let text = ["Shared summary of the visit", "Marking and feedback", "Pupil voice 🙂"].randomElement(using: &random)!
            try editor.replaceText(DialogueSession.Field.summary, of: session.id, with: text)
            return "replace summary of \(session.id) with \(text.debugDescription)"
        default:
            preconditionFailure("unreachable")
        }
    }

    /// One replica's side of a deliberate conflict on `target` (a session every replica holds).
    /// Does nothing when the session is no longer live here.
    static func contend(_ editor: inout SpaceEditor, on target: EntityID, kind: Int, member: EntityID, seed: UInt64) throws -> String {
        var random = SplitMix64(seed: seed)
        guard let session = editor.document.sessions.first(where: { $0.id == target }) else { return "(session gone)" }
        switch kind {
        case 0:
            let title = "Title \(Int.random(in: 1...999, using: &random))"
            try editor.set(DialogueSession.Field.title, of: target, to: .string(title))
            return "title = \(title)"
        case 1:
            let status = SessionStatus.allCases.randomElement(using: &random)!
            try editor.set(DialogueSession.Field.status, of: target, to: .string(status.rawValue))
            return "status = \(status)"
        case 2, 3:
            return try textEdit(&editor, DialogueSession.Field.summary, of: target, &random)
        case 4:
            if session.participants.contains(member), Bool.random(using: &random) {
                try editor.removeParticipant(member, from: target)
                return "remove participant \(member)"
            }
            try editor.addParticipant(member, to: target)
            if Bool.random(using: &random) {
                try editor.removeParticipant(member, from: target)
                return "add then remove participant \(member)"
            }
            return "add participant \(member)"
        case 5:
            let count = session.agenda.count
            if count >= 2, Bool.random(using: &random) {
                let from = Int.random(in: 0..<count, using: &random)
                let to = Int.random(in: 0..<count, using: &random)
                try editor.moveOnAgenda(from: from, to: to, of: target)
                return "agenda move \(from) -> \(to)"
            }
            if count >= 1, Bool.random(using: &random) {
                let index = Int.random(in: 0..<count, using: &random)
                try editor.removeFromAgenda(at: index, of: target)
                return "agenda remove \(index)"
            }
            let prompt = PromptLibrary.starter.randomElement(using: &random)!.id
            let index = Int.random(in: 0...count, using: &random)
            try editor.addToAgenda(prompt, of: target, at: index)
            return "agenda add at \(index)"
        default:
            // Delete against concurrent edits: the edit the deleter had not seen keeps the session.
            if Int.random(in: 0..<3, using: &random) == 0 {
                try editor.delete(target)
                return "delete"
            }
            return try textEdit(&editor, DialogueSession.Field.summary, of: target, &random)
        }
    }
}
