import DialogueModel
import DialogueServer
import DialogueSync
import DialogueTestSupport
import Foundation
import Logging

/// `dialogue-server-bench subject-access`: how long issue 13's subject access takes on a
/// store of N changes (default 100,000): a partnership space where eight devices of four
/// members wrote sessions, summaries, insights and actions, a quarter of it by the subject
/// (who is also named as participant, facilitator and action owner by the others).
enum SubjectAccessBenchmark {
    static let usage = """
        usage: dialogue-server-bench subject-access [--changes N] [--database postgres://…] [--keep DIR]
          Seeds a store (SQLite in a temporary folder, in DIR with --keep so that
          `dialogue-server admin subject-access --data-dir DIR` can be timed on it, or PostgreSQL)
          with N changes (default 100000), then gathers the subject access report of the member who
          wrote a quarter of them and renders it as JSON and Markdown, printing the times.

        """

    static func main(_ arguments: [String]) async {
        var arguments = arguments
        var changes = 100_000
        var database: String?
        var keep: String?
        while !arguments.isEmpty {
            let argument = arguments.removeFirst()
            switch argument {
            case "--changes":
                guard let value = arguments.first.flatMap(Int.init), value > 0 else { fail("--changes needs a positive number") }
                arguments.removeFirst()
                changes = value
            case "--database", "--keep":
                guard let value = arguments.first else { fail("\(argument) needs a value") }
                arguments.removeFirst()
                if argument == "--database" { database = value } else { keep = value }
            case "--help", "-h": fail(usage, code: 0)
            default: fail(usage)
            }
        }
        do {
            try await run(changes: changes, database: database, keep: keep)
        } catch {
            fail("dialogue-server-bench subject-access: \(error)", code: 1)
        }
    }

    static func run(changes count: Int, database: String?, keep: String?) async throws {
        var logger = Logger(label: "dialogue.bench")
        logger.logLevel = .error
        let directory = keep ?? FileManager.default.temporaryDirectory.appendingPathComponent("dialogue-sa-bench-\(UUID().uuidString)").path
        try PrivateFiles.createDirectory(directory)
        defer { if keep == nil { try? FileManager.default.removeItem(atPath: directory) } }
        let store: any SyncStore =
            if let database { try await PostgresSyncStore.connect(url: database, logger: logger) } else {
                try SQLiteSyncStore(path: directory + "/dialogue-server.sqlite", logger: logger)
            }
        let clock = ContinuousClock()
        let seedStart = clock.now
        let subject = try await seed(store, changes: count)
        let seeded = clock.now - seedStart

        let gatherStart = clock.now
        let report = try await SubjectAccess.gather(member: subject, store: store)
        let gathered = clock.now - gatherStart
        let jsonStart = clock.now
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let json = try encoder.encode(report)
        let encoded = clock.now - jsonStart
        let markdownStart = clock.now
        let markdown = report.markdown()
        let rendered = clock.now - markdownStart
        try await store.close()

        let held = report.spaces.reduce(0) { $0 + $1.changesHeld }
        let theirs = report.spaces.reduce(0) { $0 + $1.changesByMember }
        func row(_ label: String, _ value: String) -> String { label.padding(toLength: 44, withPad: " ", startingAt: 0) + value }
        print(
            [
                "subject access, \(database == nil ? "SQLite" : "PostgreSQL")",
                row("changes held", "\(held) (seeded in \(seconds(seeded)))"),
                row("changes by the subject", "\(theirs)"),
                row(
                    "entities they wrote / places they are named",
                    "\(report.spaces.reduce(0) { $0 + $1.wrote.count }) / \(report.spaces.reduce(0) { $0 + $1.named.count })"),
                row("gather (read every space, build, find)", seconds(gathered)),
                row("JSON", "\(seconds(encoded)), \(json.count / 1024) KiB"),
                row("Markdown", "\(seconds(rendered)), \(markdown.utf8.count / 1024) KiB"),
                row("member id", "\(subject)" + (keep.map { "  (store kept in \($0))" } ?? "")),
            ].joined(separator: "\n"))
    }

    static func seconds(_ duration: Duration) -> String {
        String(format: "%.2f s", Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18)
    }

    /// Accounts, devices and `count` changes; returns the subject's member id.
    static func seed(_ store: any SyncStore, changes count: Int) async throws -> UUID {
        let partnership = try await store.createPartnership(name: "North Partnership")
        let hill = try await store.createSchool(name: "Hill Primary")
        let vale = try await store.createSchool(name: "Vale Academy")
        try await store.addSchool(hill.id, toPartnership: partnership.id)
        try await store.addSchool(vale.id, toPartnership: partnership.id)
        var members: [MemberAccount] = []
        for (name, school) in [("Ada Lovelace", hill), ("Ben Okafor", vale), ("Cara Singh", hill), ("Dev Patel", vale)] {
            members.append(try await store.createMember(name: name, school: school.id, role: .member))
        }
        // Two devices per member: eight authors, the first two the subject's.
        var authors: [(replica: ReplicaID, member: UUID)] = []
        var signers: [ReplicaID: ChangeSigner] = [:]
        for member in members {
            for label in ["laptop", "tablet"] {
                let (_, record) = Tokens.issue(for: member.id, label: label)
                try await store.storeToken(record)
                let replica = ReplicaID.random()
                let signer = ChangeSigner()
                guard let access = try await store.token(forTokenHash: record.hash) else { continue }
                _ = try await ServerAuthority(store: store).register(
                    DeviceRegistrationRequest(replica: replica, publicKey: signer.key.publicKey), token: access)
                authors.append((replica, member.id))
                signers[replica] = signer
            }
        }
        let subject = EntityID(members[0].id)
        let space = partnership.sharedSpace
        var document = SpaceDocument(space: space)
        var random = SplitMix64(seed: 13)
        var batch: [Change] = []
        var sessions: [EntityID] = []
        var made = 0
        let wall = SystemWallClock().millisecondsSinceEpoch() - 10_000_000
        func append() async throws {
            var heads: [ChainHead] = []
            for author in authors {  // a head per 100 changes of an author, as replicas sign
                let run = batch.filter { $0.replica == author.replica }
                for start in stride(from: 0, to: run.count, by: 100) {
                    heads += try signers[author.replica]!.sign(Array(run[start..<min(start + 100, run.count)]))
                }
            }
            try await store.append(batch, heads: heads, to: space)
            batch = []
        }
        while made < count {
            let author = authors[(made / 1000) % authors.count]
            let context = EditContext(replica: author.replica, timestamp: HLCTimestamp(wallTime: wall + UInt64(made)))
            switch made % 50 {
            case 0 where sessions.count < 2000 || sessions.isEmpty:
                let before = batch.count
                let id = EntityID(UUID())
                sessions.append(id)
                batch.append(document.create(id, kind: .session, by: context))
                batch.append(document.set(DialogueSession.Field.title, of: id, to: .string("Session \(sessions.count)"), by: context))
                if sessions.count % 4 == 0,
                    let added = document.add(.reference(subject), toSet: DialogueSession.Field.participants, of: id, by: context)
                {
                    batch.append(added)
                }
                if sessions.count % 10 == 0 {
                    batch.append(document.set(DialogueSession.Field.facilitator, of: id, to: .reference(subject), by: context))
                }
                made += batch.count - before
            case 10, 30:
                let id = EntityID(UUID())
                batch.append(document.create(id, kind: .insight, by: context))
                batch.append(document.set(Insight.Field.author, of: id, to: .reference(EntityID(author.member)), by: context))
                batch.append(document.set(Insight.Field.session, of: id, to: .reference(sessions.last!), by: context))
                batch += try document.editText(Insight.Field.text, of: id, at: 0, insert: "An insight about reading, \(made)", by: context)
                made += 4
            case 20:
                let id = EntityID(UUID())
                batch.append(document.create(id, kind: .action, by: context))
                batch.append(document.set(Action.Field.description, of: id, to: .string("Follow up \(made)"), by: context))
                let owner = made % 100 == 20 ? subject : EntityID(author.member)
                batch.append(document.set(Action.Field.owner, of: id, to: .reference(owner), by: context))
                made += 3
            default:
                // Typing into a session's summary, a few characters at a time.
                let session = sessions[Int(random.next() % UInt64(sessions.count))]
                let length = document.textSequence(DialogueSession.Field.summary, of: session)?.count ?? 0
                batch += try document.editText(
                    DialogueSession.Field.summary, of: session, at: Int(random.next() % UInt64(length + 1)), insert: "note ",
                    by: context)
                made += 1
            }
            if batch.count >= 5000 { try await append() }
        }
        if !batch.isEmpty { try await append() }
        return members[0].id
    }

    static func fail(_ message: String, code: Int32 = 64) -> Never {
        FileHandle.standardError.write(Data((message + "\n").utf8))
        exit(code)
    }
}
