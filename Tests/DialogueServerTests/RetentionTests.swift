import DialogueModel
import DialogueSync
import DialogueTestSupport
import Foundation
import Testing

@testable import DialogueServer

/// Retention (issue 13 item 2): per-space policies, a dry run that lists what would go and
/// changes nothing, and an application that erases it through erasure changes the server's
/// own device signs, which replicas receive, verify and apply like any erasure.
struct RetentionTests {
    /// 7 December 2026, the day the policies are applied as of.
    static let asOf: Int64 = 1_796_601_600_000
    static func day(_ text: String) -> Int64 { RetentionScenario.milliseconds(text) }

    @Test(
        "a dry run lists the records due and changes nothing; apply erases them through signed erasures a replica verifies",
        arguments: StoreKind.allCases)
    func dryRunThenApply(kind: StoreKind) async throws {
        try await withFreshStore(kind) { fresh in
            let accounts = try await AccountFixture.make(fresh.store)
            let space = accounts.hill.privateSpace
            try await withLiveServer(store: fresh.store) { url in
                let scenario = try await RetentionScenario.make(
                    space: space, url: url, token: accounts.tokens["hill-member"]!, directory: fresh.directory)
                let runner = RetentionRunner(service: SyncService(store: fresh.store, logger: quietLogger("dialogue.test.retention")))

                // No policy: nothing to do.
                #expect(try await runner.run(asOf: Self.asOf, dryRun: true).spaces.isEmpty)

                try await fresh.store.setRetentionPolicy(
                    RetentionPolicyRecord(
                        space: space, policy: RetentionPolicy(closedSessionsYears: 6, insightsAndActionsYears: 6), setAt: 1))
                let before = try await fresh.store.vector(of: space)
                let dry = try await runner.run(asOf: Self.asOf, dryRun: true)
                let due = try #require(dry.spaces.first).due
                #expect(
                    Set(due.map(\.entity))
                        == [scenario.oldClosedSession, scenario.oldInsight, scenario.oldAction, scenario.openSessionInsight])
                #expect(!due.contains { $0.entity == scenario.openOldSession }, "a session not closed stays, whatever its age")
                #expect(!due.contains { $0.entity == scenario.recentInsight })
                #expect(dry.spaces.first?.erased == 0)
                #expect(try await fresh.store.vector(of: space) == before, "a dry run stores nothing")

                let applied = try await runner.run(asOf: Self.asOf, dryRun: false)
                #expect(applied.spaces.first?.erased == 4)
                #expect(try await runner.run(asOf: Self.asOf, dryRun: false).spaces.first?.erased == 0, "nothing is due twice")

                // The replica pulls the erasures, verifies the server device's chain, and drops the records.
                try await scenario.client.sync(scenario.replica, spaces: [space])
                #expect(try scenario.replica.session(scenario.oldClosedSession) == nil)
                let kept = try #require(try scenario.replica.session(scenario.recentSession))
                #expect(kept.insights.map(\.text) == ["Recent insight text stays"])
                #expect(try scenario.replica.session(scenario.openOldSession)?.insights.isEmpty == true)
                #expect(try scenario.replica.openActions(in: space).map(\.description) == ["Recent action stays"])
                let erasures = try #require(await scenario.replica.document(space)).erasures
                #expect(erasures.count == 4)
                #expect(erasures.allSatisfy { $0.erasure.approval != nil })
                // The server device is named from its certificate, like anyone.
                #expect(try scenario.replica.certificates().contains { $0.memberName == ServerDevice.memberName })
                let replicaFiles = [scenario.replica.path, scenario.replica.path + "-wal", scenario.replica.path + "-shm"]
                #expect(try RetentionScenario.files(replicaFiles, containing: "Old insight text goes").isEmpty)
                if kind == .sqlite {
                    let storeFiles = ["server.sqlite", "server.sqlite-wal", "server.sqlite-shm"].map { fresh.directory.path($0) }
                    #expect(try RetentionScenario.files(storeFiles, containing: "Old insight text goes").isEmpty)
                    #expect(
                        try !RetentionScenario.files(storeFiles, containing: "Recent insight text stays").isEmpty,
                        "the search can find text")
                }
            }
        }
    }

    /// `dialogue-server admin retention …` with the store arguments.
    static func admin(_ arguments: [String], _ store: [String]) async throws -> ProcessResult {
        try await runProcess(try serverBinary(), ["admin", "retention"] + arguments + store, environment: childEnvironment())
    }

    @Test(
        "dialogue-server admin retention: set (refusing bad input), show, a dry run, apply; the replica receives it",
        arguments: StoreKind.allCases)
    func throughTheBinary(_ kind: StoreKind) async throws {
        let directory = ServerTestDirectory()
        let database = kind == .postgres ? try await PostgresTestDatabase.create() : nil
        defer { if let database { Task { await database.drop() } } }
        let storeArguments = database.map { ["--database", $0.url] } ?? ["--data-dir", directory.path("data")]
        func open() async throws -> any SyncStore {
            if let database {
                return try await PostgresSyncStore.connect(
                    url: database.url, logger: quietLogger("dialogue.test.postgres"), timeout: postgresTestTimeout)
            }
            try PrivateFiles.createDirectory(directory.path("data"))
            return try SQLiteSyncStore(path: directory.path("data") + "/dialogue-server.sqlite")
        }
        var store = try await open()
        let accounts = try await AccountFixture.make(store)
        let space = accounts.hill.privateSpace
        let token = accounts.tokens["hill-member"]!
        let scenario = try await withLiveServer(store: store) { url in
            try await RetentionScenario.make(space: space, url: url, token: token, directory: directory)
        }
        try await store.close()

        let nothing = try await Self.admin(["apply", "--dry-run"], storeArguments)
        #expect(nothing.status == 0, "\(nothing.stderr)")
        #expect(nothing.stdout.contains("no retention policy is set"))
        for bad in [
            ["set", "--space", UUID().uuidString, "--closed-sessions-years", "6"],
            ["set", "--space", space.uuid.uuidString, "--closed-sessions-years", "0"],
            ["set", "--space", space.uuid.uuidString],
            ["apply", "--as-of", "14/03/2026"],
        ] {
            let refused = try await Self.admin(bad, storeArguments)
            #expect(refused.status != 0, "\(bad) was accepted")
            #expect(!refused.stderr.isEmpty)
        }
        let set = try await Self.admin(
            ["set", "--space", space.uuid.uuidString, "--closed-sessions-years", "6", "--insights-actions-years", "6"], storeArguments)
        #expect(set.status == 0, "\(set.stderr)")
        let shown = try await Self.admin(["show", "--json"], storeArguments)
        let policies = try JSONDecoder().decode([RetentionPolicyRecord].self, from: Data(shown.stdout.utf8))
        #expect(policies.map(\.policy) == [RetentionPolicy(closedSessionsYears: 6, insightsAndActionsYears: 6)])

        let dry = try await Self.admin(["apply", "--dry-run", "--as-of", "2026-12-07", "--json"], storeArguments)
        #expect(dry.status == 0, "\(dry.stderr)")
        let listed = try JSONDecoder().decode(RetentionRunner.Report.self, from: Data(dry.stdout.utf8))
        #expect(listed.dryRun && listed.spaces.first?.due.count == 4 && listed.spaces.first?.erased == 0)
        let readable = try await Self.admin(["apply", "--dry-run", "--as-of", "2026-12-07"], storeArguments)
        #expect(readable.stdout.contains("would erase 4 records"))
        #expect(readable.stdout.contains("session “Old closed session” of 2018-03-14, due 2024-03-14"))

        let applied = try await Self.admin(["apply", "--as-of", "2026-12-07"], storeArguments)
        #expect(applied.status == 0, "\(applied.stderr)")
        #expect(applied.stdout.contains("erased 4 records"))

        store = try await open()
        try await withLiveServer(store: store) { url in
            let client = SyncClient(configuration: SyncClient.Configuration(server: url, token: token))
            try await client.sync(scenario.replica, spaces: [space])
        }
        try await store.close()
        #expect(try scenario.replica.session(scenario.oldClosedSession) == nil)
        #expect(try scenario.replica.session(scenario.recentSession) != nil)
    }

    @Test("calendar years in UTC: due on the anniversary, not a day before")
    func calendarYears() {
        let date = Self.day("2019-03-14")
        #expect(RetentionSchedule.adding(years: 6, to: date) == Self.day("2025-03-14"))
        #expect(RetentionSchedule.adding(years: 1, to: Self.day("2024-02-29")) == Self.day("2025-02-28"))
    }

    @Test("a policy's periods must be whole years from 1 to 100")
    func policyBounds() {
        #expect(RetentionPolicy(closedSessionsYears: 0).problem != nil)
        #expect(RetentionPolicy(insightsAndActionsYears: 101).problem != nil)
        #expect(RetentionPolicy(closedSessionsYears: 6, insightsAndActionsYears: 6).problem == nil)
        #expect(RetentionPolicy().isEmpty)
    }
}

/// A school's private space with dated records, written by one signed replica and synced.
struct RetentionScenario {
    let replica: Replica
    let client: SyncClient
    let oldClosedSession: EntityID
    let oldInsight: EntityID
    let oldAction: EntityID
    let openOldSession: EntityID
    let openSessionInsight: EntityID
    let recentSession: EntityID
    let recentInsight: EntityID

    static func milliseconds(_ day: String) -> Int64 {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd"
        return Int64(formatter.date(from: day)!.timeIntervalSince1970 * 1000)
    }

    static func make(space: SpaceID, url: URL, token: String, directory: ServerTestDirectory) async throws -> RetentionScenario {
        let replica = try Replica(path: directory.path("retention-replica.sqlite"))
        try await replica.addSpace(space)
        let client = SyncClient(configuration: SyncClient.Configuration(server: url, token: token))
        _ = try await client.registerDevice(replica)
        let ids = try await replica.edit(in: space) { editor in
            let old = try editor.createSession(title: "Old closed session", scheduledAt: milliseconds("2018-03-14"), status: .closed)
            let oldInsight = try editor.captureInsight(in: old, text: "Old insight text goes")
            let oldAction = try editor.addAction("Old action goes", session: old, insight: oldInsight)
            let open = try editor.createSession(title: "Old session never closed", scheduledAt: milliseconds("2017-01-10"), status: .held)
            let openInsight = try editor.captureInsight(in: open, text: "Insight of an old session goes")
            let recent = try editor.createSession(title: "Recent session", scheduledAt: milliseconds("2025-01-10"), status: .closed)
            let recentInsight = try editor.captureInsight(in: recent, text: "Recent insight text stays")
            try editor.addAction("Recent action stays", session: recent)
            return [old, oldInsight, oldAction, open, openInsight, recent, recentInsight]
        }
        try await client.sync(replica, spaces: [space])
        return RetentionScenario(
            replica: replica, client: client, oldClosedSession: ids[0], oldInsight: ids[1], oldAction: ids[2], openOldSession: ids[3],
            openSessionInsight: ids[4], recentSession: ids[5], recentInsight: ids[6])
    }

    /// Those of `paths` whose bytes contain `text` (UTF-8).
    static func files(_ paths: [String], containing text: String) throws -> [String] {
        try paths.filter { path in
            guard FileManager.default.fileExists(atPath: path) else { return false }
            return try Data(contentsOf: URL(fileURLWithPath: path)).range(of: Data(text.utf8)) != nil
        }
    }
}
