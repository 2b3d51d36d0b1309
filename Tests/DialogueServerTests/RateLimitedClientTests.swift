import DialogueModel
import DialogueServer
import DialogueSync
import DialogueTestSupport
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import Synchronization
import Testing

/// The sync client meets the server's rate limits (429 `rate_limited` with `Retry-After`):
/// it waits as asked when the wait is short, and stops with the refusal when it is not.
@Suite("SyncClient and 429")
struct RateLimitedClientTests {
    /// A real server whose sync path answers 429 the first `limitedAnswers` times, then
    /// redirects (307, same origin) to the real route.
    static func withLimitedServer(
        retryAfter: Int, limitedAnswers: Int, maxAttempts: Int,
        _ body: (_ summary: Result<SyncClient.Summary, SyncClientError>, _ sleeps: [Duration], _ requests: Int) throws -> Void
    ) async throws {
        let directory = ServerTestDirectory()
        let store = try SQLiteSyncStore(path: directory.path("server.sqlite"))
        let accounts = try await AccountFixture.make(store)
        let space = accounts.hill.privateSpace
        let replica = try Replica(path: directory.path("hill.sqlite"))
        try await replica.addSpace(space)
        try await replica.edit(in: space) { editor in _ = try editor.createSession(title: "Rate limited, then synced") }
        var logger = Logger(label: "dialogue.server.test")
        logger.logLevel = .warning
        let server = SyncServer(service: SyncService(store: store, logger: logger), metrics: nil, logger: logger)
        let router = server.router()
        let requests = Mutex(0)
        router.post("limited/v1/sync") { _, _ in
            let count = requests.withLock { count in
                count += 1
                return count
            }
            if count <= limitedAnswers {
                return Response(
                    status: .tooManyRequests, headers: [.retryAfter: "\(retryAfter)", .contentType: "application/json"],
                    body: .init(byteBuffer: .init(string: #"{"error":{"code":"rate_limited","message":"too many pushes"}}"#)))
            }
            return Response(status: .temporaryRedirect, headers: [.location: "/v1/sync"])
        }
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)), logger: logger)
        let (summary, sleeps) = try await app.test(.live) { client in
            var configuration = SyncClient.Configuration(
                server: URL(string: "http://127.0.0.1:\(client.port!)/limited")!, token: accounts.tokens["hill-member"]!)
            configuration.retry.maxAttempts = maxAttempts
            _ = try await loggedIn(replica, to: URL(string: "http://127.0.0.1:\(client.port!)")!, token: accounts.tokens["hill-member"]!)
            let sleeps = Mutex<[Duration]>([])
            let syncClient = SyncClient(configuration: configuration, sleep: { delay in sleeps.withLock { $0.append(delay) } })
            let summary: Result<SyncClient.Summary, SyncClientError>
            do throws(SyncClientError) { summary = .success(try await syncClient.sync(replica)) } catch { summary = .failure(error) }
            return (summary, sleeps.withLock { $0 })
        }
        try body(summary, sleeps, requests.withLock { $0 })
    }

    @Test("a short Retry-After is waited for, at least as long as asked, and the sync then completes")
    func shortWaitIsHonoured() async throws {
        try await Self.withLimitedServer(retryAfter: 3, limitedAnswers: 1, maxAttempts: 3) { summary, sleeps, requests in
            let pushed = try summary.get().pushed
            #expect(pushed == 3)
            #expect(sleeps.count == 1)
            #expect(sleeps.allSatisfy { $0 >= .seconds(3) })
            #expect(requests >= 2)  // the 429, then the sync's own round trips
        }
    }

    @Test("a Retry-After past the retry policy's longest wait stops the sync with the server's refusal, at once")
    func longWaitIsARefusal() async throws {
        try await Self.withLimitedServer(retryAfter: 3600, limitedAnswers: 10, maxAttempts: 6) { summary, sleeps, requests in
            guard case .failure(let error) = summary, error.code == .refused else {
                Issue.record("expected a refusal, got \(summary)")
                return
            }
            #expect(error.status == 429)
            #expect(error.serverCode == "rate_limited")
            #expect(sleeps.isEmpty)
            #expect(requests == 1)
        }
    }
}
