import DialogueModel
import DialogueServer
import DialogueSync
import DialogueTestSupport
import Foundation
import Logging

/// `dialogue-server-bench erasure`: what issue 13's erasure costs at the server on a store of
/// N changes (the subject-access store: eight devices of four members): an admin's approved
/// erasure of one insight, then of every contribution of one member (a quarter of the
/// space), each pushed through `SyncService` as a device pushes it (verified, stored, the
/// covered changes rewritten stripped, the space's view rebuilt); then a byte search of the
/// store's files for a sentence of each (SQLite only).
enum ErasureBenchmark {
    static let usage = """
        usage: dialogue-server-bench erasure [--changes N] [--database postgres://…]
          Seeds a store (SQLite in a temporary folder, or PostgreSQL) with N changes (default 100000),
          then times an admin's erasure of one insight and of one member's contributions, and byte-
          searches the SQLite store's files (db, -wal, -shm) for their words.

        """

    static func main(_ arguments: [String]) async {
        var arguments = arguments
        var changes = 100_000
        var database: String?
        while !arguments.isEmpty {
            let argument = arguments.removeFirst()
            switch argument {
            case "--changes":
                guard let value = arguments.first.flatMap(Int.init), value > 0 else {
                    SubjectAccessBenchmark.fail("--changes needs a positive number")
                }
                arguments.removeFirst()
                changes = value
            case "--database":
                guard let value = arguments.first else { SubjectAccessBenchmark.fail("--database needs a value") }
                arguments.removeFirst()
                database = value
            case "--help", "-h": SubjectAccessBenchmark.fail(usage, code: 0)
            default: SubjectAccessBenchmark.fail(usage)
            }
        }
        do {
            try await run(changes: changes, database: database)
        } catch {
            SubjectAccessBenchmark.fail("dialogue-server-bench erasure: \(error)", code: 1)
        }
    }

    static func run(changes count: Int, database: String?) async throws {
        var logger = Logger(label: "dialogue.bench")
        logger.logLevel = .error
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("dialogue-erasure-bench-\(UUID().uuidString)").path
        try PrivateFiles.createDirectory(directory)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/dialogue-server.sqlite"
        let store: any SyncStore =
            if let database { try await PostgresSyncStore.connect(url: database, logger: logger) } else {
                try SQLiteSyncStore(path: path, logger: logger)
            }
        let clock = ContinuousClock()
        let subject = try await SubjectAccessBenchmark.seed(store, changes: count)
        guard let partnership = try await store.partnerships().first, let hill = try await store.schools().first else {
            throw StoreError.notFound("the seeded accounts")
        }
        let space = partnership.sharedSpace
        let admin = try await store.createMember(name: "Erin Admin", school: hill.id, role: .admin)
        let (_, record) = Tokens.issue(for: admin.id, label: "admin laptop")
        try await store.storeToken(record)
        var signer = ChangeSigner()
        let replica = ReplicaID.random()
        guard let token = try await store.token(forTokenHash: record.hash) else { throw StoreError.notFound("the admin's token") }
        _ = try await ServerAuthority(store: store).register(
            DeviceRegistrationRequest(replica: replica, publicKey: signer.key.publicKey), token: token)
        let keys = try await ServerAuthority(store: store).keys()
        let service = SyncService(store: store, logger: logger)
        var document = try await store.document(of: space)
        let subjectDevices = try await store.devices().filter { $0.device.member == subject }.map(\.device.replica).sorted()
        // One insight of the subject's, and a sentence of theirs from another.
        let theirs = document.entities.keys.filter {
            document.kind(of: $0) == EntityKind.insight.rawValue
                && document.value(Insight.Field.author, of: $0) == .reference(EntityID(subject))
        }.sorted()
        guard theirs.count >= 2 else { throw StoreError.notFound("two insights of the subject") }
        let oneText = document.text(Insight.Field.text, of: theirs[0])
        let otherText = document.text(Insight.Field.text, of: theirs[1])

        func erase(_ target: Erasure.Target) async throws -> (Duration, Int) {
            let approval = ErasureApproval.issue(
                space: space, replica: replica, target: target, issuedAt: Int64(SystemWallClock().millisecondsSinceEpoch()),
                signedBy: keys.current)
            let context = EditContext(
                replica: replica, timestamp: HLCTimestamp(wallTime: UInt64(SystemWallClock().millisecondsSinceEpoch())))
            let change = document.erase(Erasure(target: target, approval: approval), by: context)
            let heads = try signer.sign([change])
            let request = SyncRequest(
                replica: replica, spaces: [.init(space: space, have: document.vector, changes: [change], heads: heads)], limit: 1)
            let start = clock.now
            _ = try await service.sync(request, access: SyncService.Access(member: admin, spaces: [space]))
            let took = clock.now - start
            var stripped = 0
            document = try await store.document(of: space)
            var cursor: Int64 = 0
            while true {
                let page = try await store.changes(in: space, missingFrom: VersionVector(), after: cursor, limit: 10_000)
                stripped += page.changes.filter(\.isContentErased).count
                guard page.more else { break }
                cursor = page.cursor
            }
            return (took, stripped)
        }
        // A first request that pushes nothing only scans the log for what the device lacks
        // (nothing); the first push builds the server's view of the space from the store (the
        // admin's device creates a session). Both come first, so the figures below are the
        // erasures' own cost.
        let pull = clock.now
        _ = try await service.sync(
            SyncRequest(replica: replica, spaces: [.init(space: space, have: document.vector)], limit: 1),
            access: SyncService.Access(member: admin, spaces: [space]))
        let pulled = clock.now - pull
        let session = document.create(
            EntityID(UUID()), kind: .session,
            by: EditContext(replica: replica, timestamp: HLCTimestamp(wallTime: UInt64(SystemWallClock().millisecondsSinceEpoch()))))
        let sessionHeads = try signer.sign([session])
        let push = clock.now
        _ = try await service.sync(
            SyncRequest(
                replica: replica, spaces: [.init(space: space, have: document.vector, changes: [session], heads: sessionHeads)], limit: 1),
            access: SyncService.Access(member: admin, spaces: [space]))
        let pushed = clock.now - push
        let (one, afterOne) = try await erase(.entity(theirs[0]))
        let (all, afterAll) = try await erase(.contributions(member: subject, replicas: subjectDevices))
        func row(_ label: String, _ value: String) -> String { label.padding(toLength: 52, withPad: " ", startingAt: 0) + value }
        var lines = [
            "erasure at the server, \(database == nil ? "SQLite" : "PostgreSQL"), \(count) changes in the space",
            row("first request, a pull (nothing missing)", SubjectAccessBenchmark.seconds(pulled)),
            row("first push (builds the space's view)", SubjectAccessBenchmark.seconds(pushed)),
            row(
                "erase one insight (push: verify, store, rewrite)",
                "\(SubjectAccessBenchmark.seconds(one)), \(afterOne) changes stripped in the store"),
            row(
                "erase a member's contributions (\(subjectDevices.count) devices)",
                "\(SubjectAccessBenchmark.seconds(all)), \(afterAll) changes stripped in all"),
        ]
        if database == nil {
            try await store.close()
            let start = clock.now
            var checked: [String] = []
            var bytes = 0
            var found: [String] = []
            for file in [path, path + "-wal", path + "-shm"] where FileManager.default.fileExists(atPath: file) {
                let data = try Data(contentsOf: URL(fileURLWithPath: file))
                checked.append((file as NSString).lastPathComponent)
                bytes += data.count
                for text in [oneText, otherText] where data.range(of: Data(text.utf8)) != nil { found.append("\(text) in \(file)") }
            }
            lines.append(
                row(
                    "byte search of \(checked.count) files (db, -wal, -shm)",
                    "\(SubjectAccessBenchmark.seconds(clock.now - start)), \(bytes / 1_048_576) MiB, \(found.isEmpty ? "no trace of either erased sentence" : "FOUND: \(found)")"
                ))
        } else {
            try await store.close()
        }
        print(lines.joined(separator: "\n"))
    }
}
