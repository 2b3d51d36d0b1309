import DialogueModel
import DialogueServer
import DialogueSync
import DialogueTestSupport
import Foundation
import Synchronization
import Testing

/// Records the delays a client asked to sleep, instead of sleeping.
final class SleepRecorder: Sendable {
    let delays = Mutex<[Duration]>([])

    var sleep: @Sendable (Duration) async throws -> Void {
        { delay in self.delays.withLock { $0.append(delay) } }
    }
}

@Suite("SyncClient")
struct SyncClientTests {
    /// A replica holding `sessions` sessions (three changes each) in `space`.
    /// A replica holding `sessions` sessions (three changes each), made in one transaction,
    /// or in one transaction each when `eachSigned` (a page is cut only at a signed head).
    static func replica(
        _ directory: ServerTestDirectory, _ name: String, space: SpaceID, sessions: Int, eachSigned: Bool = false
    ) async throws -> Replica {
        let replica = try Replica(path: directory.path(name))
        try await replica.addSpace(space)
        if sessions > 0, eachSigned {
            for index in 0..<sessions {
                try await replica.edit(in: space) { editor in _ = try editor.createSession(title: "Session \(index)") }
            }
        } else if sessions > 0 {
            try await replica.edit(in: space) { editor in
                for index in 0..<sessions { try editor.createSession(title: "Session \(index)") }
            }
        }
        return replica
    }

    @Test("5xx answers are retried with growing, jittered delays; the sync completes and stores each change once")
    func retriesServerErrors() async throws {
        let directory = ServerTestDirectory()
        let store = FlakyStore(try SQLiteSyncStore(path: directory.path("server.sqlite")), failAppends: 2)
        let accounts = try await AccountFixture.make(store)
        let space = accounts.hill.privateSpace
        let replica = try await Self.replica(directory, "a.sqlite", space: space, sessions: 50)
        let sleeps = SleepRecorder()
        try await withLiveServer(store: store) { url in
            var configuration = SyncClient.Configuration(server: url, token: accounts.tokens["hill-member"]!)
            configuration.pushBatch = 40
            let events = Mutex<[SyncClient.Progress]>([])
            let client = SyncClient(configuration: configuration, sleep: sleeps.sleep)
            _ = try await client.registerDevice(replica)  // sync needs a login
            let summary = try await client.sync(replica) { event in events.withLock { $0.append(event) } }
            #expect(summary.pushed == 150)
            let retries = events.withLock { $0 }.filter { if case .retrying = $0 { true } else { false } }
            #expect(retries.count == 2)
            // The space finishes after the retries (the member's personal space syncs too, in id order).
            let all = events.withLock { $0 }
            let finished = try #require(all.firstIndex(of: .finished(space: space)))
            #expect(all.lastIndex { if case .retrying = $0 { true } else { false } }.map { $0 < finished } == true)
        }
        let delays = sleeps.delays.withLock { $0 }
        #expect(delays.count == 2)
        #expect(delays[0] >= .milliseconds(100) && delays[0] <= .milliseconds(200))
        #expect(delays[1] >= .milliseconds(200) && delays[1] <= .milliseconds(400))
        let held = try await store.vector(of: space)
        #expect(held == (try replica.heldVectors()[space]))
        let stored = try await store.changes(in: space, missingFrom: VersionVector(), limit: 10_000)
        #expect(stored.changes.count == Set(stored.changes.map(\.id)).count)
    }

    @Test("4xx answers are not retried")
    func doesNotRetryClientErrors() async throws {
        let directory = ServerTestDirectory()
        let store = try SQLiteSyncStore(path: directory.path("server.sqlite"))
        let accounts = try await AccountFixture.make(store)
        let space = accounts.hill.privateSpace
        let replica = try await Self.replica(directory, "a.sqlite", space: space, sessions: 1)
        let sleeps = SleepRecorder()
        try await withLiveServer(store: store) { url in
            // An observer pushing a session: 403 forbidden.
            let client = SyncClient(configuration: .init(server: url, token: accounts.tokens["hill-observer"]!), sleep: sleeps.sleep)
            _ = try await client.registerDevice(replica)
            await #expect {
                try await client.sync(replica)
            } throws: { error in
                guard let error = error as? SyncClientError else { return false }
                return error.code == .refused && error.status == 403 && error.serverCode == "forbidden"
            }
        }
        #expect(sleeps.delays.withLock { $0 }.isEmpty)
    }

    @Test("a space the token may not use is reported, not retried, and the other spaces still sync; a space written only here is kept")
    func notPermittedSpaceIsSkipped() async throws {
        let directory = ServerTestDirectory()
        let store = try SQLiteSyncStore(path: directory.path("server.sqlite"))
        let accounts = try await AccountFixture.make(store)
        let forbidden = accounts.vale.privateSpace  // not hill's
        let own = accounts.hill.privateSpace
        let replica = try await Self.replica(directory, "a.sqlite", space: forbidden, sessions: 1)
        try await replica.addSpace(own)
        try await replica.edit(in: own) { editor in _ = try editor.createSession(title: "Ours") }
        let sleeps = SleepRecorder()
        try await withLiveServer(store: store) { url in
            let client = SyncClient(configuration: .init(server: url, token: accounts.tokens["hill-member"]!), sleep: sleeps.sleep)
            _ = try await client.registerDevice(replica)
            let summary = try await client.sync(replica)
            #expect(summary.notPermitted == [forbidden])
            // Her own space synced, and her personal space (held since the registration).
            let personal = try #require(try replica.personalSpace()).space
            #expect(Set(summary.spaces) == [own, personal] && summary.pushed >= 1)
            #expect(summary.left.isEmpty, "only this device wrote in it and never synced it: kept")
            #expect(await replica.spaces.contains(forbidden))
        }
        #expect(sleeps.delays.withLock { $0 }.isEmpty)
        #expect(try await store.vector(of: own).counters.count == 1)
    }

    @Test("an unreachable server is retried up to the limit, then reported")
    func networkErrorsAreRetried() async throws {
        let directory = ServerTestDirectory()
        let space = SpaceID(UUID())
        let replica = try await Self.replica(directory, "a.sqlite", space: space, sessions: 1)
        try await logInToScriptedServer(replica)
        let sleeps = SleepRecorder()
        var configuration = SyncClient.Configuration(server: URL(string: "http://127.0.0.1:1")!, token: "dlg_nothing")
        configuration.retry.maxAttempts = 4
        let client = SyncClient(configuration: configuration, sleep: sleeps.sleep)
        await #expect {
            try await client.sync(replica)
        } throws: { error in
            // The last transport failure is kept for apps that want more than the message.
            guard let error = error as? SyncClientError, error.code == .unreachable else { return false }
            return error.underlying != nil
        }
        let delays = sleeps.delays.withLock { $0 }
        #expect(delays.count == 3)
        #expect(zip(delays, delays.dropFirst()).allSatisfy { $0.0 <= $0.1 * 2 })
    }

    @Test("sync needs a login: a replica with no pinned server key is refused notLoggedIn before any request is sent")
    func syncNeedsALogin() async throws {
        let directory = ServerTestDirectory()
        let replica = try await Self.replica(directory, "a.sqlite", space: SpaceID(UUID()), sessions: 1)
        let server = try ScriptedHTTPServer { _ in .init(status: 500) }
        let client = SyncClient(configuration: .init(server: URL(string: server.url)!, token: "dlg_scripted_token"), sleep: { _ in })
        await #expect(throws: SyncClientError.notLoggedIn(replica.id)) { try await client.sync(replica) }
        server.stop()
        #expect(server.requests.isEmpty, "a request was sent before the login check")
        #expect(SyncClientError.notLoggedIn(replica.id).description.contains("dialogue-client login"))
        // Once logged in, the same client syncs (here: reaches the server).
        try await logInToScriptedServer(replica)
        await #expect(throws: SyncClientError.self) { try await client.sync(replica) }
    }

    @Test("an interrupted sync resumes without re-sending what the server acknowledged")
    func resumesAfterInterruption() async throws {
        let directory = ServerTestDirectory()
        let store = FlakyStore(try SQLiteSyncStore(path: directory.path("server.sqlite")), failAppends: 0)
        let accounts = try await AccountFixture.make(store)
        let space = accounts.hill.privateSpace
        // One transaction per session: pushes are cut at signed heads, every 3 changes.
        let replica = try await Self.replica(directory, "a.sqlite", space: space, sessions: 100, eachSigned: true)
        try await withLiveServer(store: store) { url in
            var configuration = SyncClient.Configuration(server: url, token: accounts.tokens["hill-member"]!)
            configuration.pushBatch = 99
            configuration.retry.maxAttempts = 1
            // Interrupt after two pushes: cancel the sync from its own progress callback.
            let interrupted = SyncClient(configuration: configuration)
            _ = try await interrupted.registerDevice(replica)
            let task = Task {
                try await interrupted.sync(replica) { event in
                    if case .exchanged(_, let pushed, _) = event, pushed >= 198 { withUnsafeCurrentTask { $0?.cancel() } }
                }
            }
            let outcome = await task.result
            #expect(throws: SyncClientError.cancelled) { try outcome.get() }
            let acknowledged = try await store.vector(of: space)
            #expect(acknowledged.operationCount == 198)
            let appendsBefore = store.appendCalls.withLock { $0 }
            // Resume: the client learns what the server holds and sends only the rest.
            var resume = configuration
            resume.pushBatch = 200  // the rest in one push
            let summary = try await SyncClient(configuration: resume).sync(replica)
            #expect(summary.pushed == 102)
            #expect(try await store.vector(of: space) == (try replica.heldVectors()[space]))
            #expect(store.appendCalls.withLock { $0 } == appendsBefore + 1)
        }
    }
}
