import DialogueModel
import DialogueServer
import DialogueSync
import DialogueTestSupport
import Foundation
import Logging
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The two store implementations; suites that must hold for both take this as an argument.
enum StoreKind: String, Sendable, CaseIterable, CustomTestStringConvertible {
    case sqlite
    case postgres

    var testDescription: String { rawValue }
}

/// Why a test cannot set up (e.g. no PostgreSQL). Thrown, so the test FAILS (never skips), with a message
/// saying what to do.
struct TestSetupFailure: Error, CustomStringConvertible {
    var description: String
}

/// A throwaway PostgreSQL database of its own for one test, created on the server named by
/// `DIALOGUE_TEST_POSTGRES_URL` (which `scripts/test` starts) and dropped afterwards.
struct PostgresTestDatabase: Sendable {
    /// postgres://…/t_<random>
    let url: String
    let name: String
    let adminURL: String

    static let psql = "/usr/bin/psql"

    /// The URL of the test server, or a failure telling how to start one.
    static func serverURL() throws -> String {
        guard let url = ProcessInfo.processInfo.environment["DIALOGUE_TEST_POSTGRES_URL"], !url.isEmpty else {
            throw TestSetupFailure(
                description:
                    "DIALOGUE_TEST_POSTGRES_URL is not set, so the PostgreSQL case cannot run: run scripts/test, which starts PostgreSQL (or export DIALOGUE_TEST_POSTGRES_URL=$(scripts/postgres start))"
            )
        }
        return url
    }

    /// Creates `t_<random>` and returns its URL.
    static func create() async throws -> PostgresTestDatabase {
        let adminURL = try serverURL()
        guard var components = URLComponents(string: adminURL) else {
            throw TestSetupFailure(description: "DIALOGUE_TEST_POSTGRES_URL is not a URL: \(adminURL)")
        }
        let name = "t_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(20)
        let result = try await runProcess(Self.psql, [adminURL, "-v", "ON_ERROR_STOP=1", "-qAt", "-c", "CREATE DATABASE \(name)"])
        guard result.status == 0 else {
            throw TestSetupFailure(
                description:
                    "cannot create a test database on \(PostgresSyncStore.redacted(adminURL)) (is PostgreSQL running? run scripts/test, which starts it): \(result.stderr)"
            )
        }
        components.path = "/\(name)"
        return PostgresTestDatabase(url: components.string!, name: String(name), adminURL: adminURL)
    }

    /// Drops the database, disconnecting whoever is still connected.
    func drop() async {
        _ = try? await runProcess(Self.psql, [adminURL, "-qAt", "-c", "DROP DATABASE IF EXISTS \(name) WITH (FORCE)"])
    }
}

/// A fresh, empty store of one kind, and where it lives.
final class FreshStore: Sendable {
    let kind: StoreKind
    let store: any SyncStore
    /// Scratch space for the test (and the SQLite file).
    let directory: ServerTestDirectory
    let database: PostgresTestDatabase?

    private init(kind: StoreKind, store: any SyncStore, directory: ServerTestDirectory, database: PostgresTestDatabase?) {
        self.kind = kind
        self.store = store
        self.directory = directory
        self.database = database
    }

    static func make(_ kind: StoreKind) async throws -> FreshStore {
        let directory = ServerTestDirectory()
        switch kind {
        case .sqlite:
            return FreshStore(
                kind: kind, store: try SQLiteSyncStore(path: directory.path("server.sqlite")), directory: directory, database: nil)
        case .postgres:
            let database = try await PostgresTestDatabase.create()
            do {
                let store = try await PostgresSyncStore.connect(
                    url: database.url, logger: quietLogger("dialogue.test.postgres"), timeout: postgresTestTimeout)
                return FreshStore(kind: kind, store: store, directory: directory, database: database)
            } catch {
                await database.drop()
                throw error
            }
        }
    }

    func dispose() async {
        try? await store.close()
        await database?.drop()
    }
}

/// Runs `body` with a fresh store of `kind`, then closes it (and drops its database).
func withFreshStore<T>(_ kind: StoreKind, _ body: (FreshStore) async throws -> T) async throws -> T {
    let fresh = try await FreshStore.make(kind)
    do {
        let result = try await body(fresh)
        await fresh.dispose()
        return result
    } catch {
        await fresh.dispose()
        throw error
    }
}

/// How long a test waits for its PostgreSQL store to answer when connecting: far above the
/// server's 5 s, since a full test run on a small, busy machine starves the connection of
/// CPU for seconds (tests never assert on time).
let postgresTestTimeout: Duration = .seconds(60)

func quietLogger(_ label: String) -> Logger {
    var logger = Logger(label: label)
    logger.logLevel = .warning
    return logger
}

/// Milliseconds since the Unix epoch, now.
func nowMilliseconds() -> UInt64 { UInt64(Date().timeIntervalSince1970 * 1000) }

/// Makes changes as one author would (counters 1, 2, 3… in one space), through
/// `SpaceDocument`'s local edits, so they are valid unless a test spoils them.
struct ChangeAuthor {
    let replica: ReplicaID
    var document: SpaceDocument
    private var tick: UInt16 = 0

    init(space: SpaceID, replica: ReplicaID = .random()) {
        self.replica = replica
        document = SpaceDocument(space: space)
    }

    var space: SpaceID { document.space }

    mutating func context() -> EditContext {
        tick &+= 1
        return EditContext(replica: replica, timestamp: HLCTimestamp(wallTime: nowMilliseconds(), logical: tick))
    }

    /// `count` session creations, one counter each.
    mutating func creates(_ count: Int) -> [Change] {
        (0..<count).map { _ in
            let ctx = context()
            return document.create(EntityID(UUID()), kind: EntityKind.session.rawValue, by: ctx)
        }
    }

    /// A session creation then one text insertion occupying `text.unicodeScalars.count` counters.
    mutating func textRun(_ text: String) throws -> [Change] {
        let entity = EntityID(UUID())
        let ctx = context()
        var changes = [document.create(entity, kind: EntityKind.session.rawValue, by: ctx)]
        changes += try document.editText(DialogueSession.Field.summary, of: entity, at: 0, insert: text, by: context())
        return changes
    }

    /// Applies changes made by other authors (so this author's next changes depend on them).
    mutating func receive(_ changes: [Change]) throws {
        try document.apply(changes)
    }
}

// MARK: Processes

struct ProcessResult: Sendable {
    var status: Int32
    var stdout: String
    var stderr: String
}

/// Runs a program to completion (output captured in files, so it cannot block on a full pipe).
func runProcess(_ executable: String, _ arguments: [String], environment: [String: String]? = nil) async throws -> ProcessResult {
    let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("dialogue-proc-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: scratch) }
    let outPath = scratch.appendingPathComponent("out").path
    let errPath = scratch.appendingPathComponent("err").path
    let status = try await ChildProcesses.run(
        executable, arguments, environment: environment ?? ProcessInfo.processInfo.environment, stdin: "/dev/null", stdout: outPath,
        stderr: errPath)
    return ProcessResult(
        status: status, stdout: (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? "",
        stderr: (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? "")
}

extension SyncStore {
    /// Every stored change of a space, in storage order.
    func everything(in space: SpaceID) async throws -> [Change] {
        try await changes(in: space, missingFrom: VersionVector(), after: 0, limit: 1_000_000).changes
    }
}
