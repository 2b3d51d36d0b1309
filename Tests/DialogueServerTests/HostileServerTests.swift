import DialogueGzip
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

/// The sync client against a server that is hostile or compromised (issue 11, "the client
/// trusts its server too much"): scripted servers on 127.0.0.1 record what arrives.
@Suite("SyncClient against a hostile server")
struct HostileServerTests {
    static let token = "dlg_hostile_test_token_never_elsewhere"

    static func replica(_ directory: ServerTestDirectory) async throws -> Replica {
        let replica = try Replica(path: directory.path("replica.sqlite"))
        let space = SpaceID(UUID())
        try await replica.addSpace(space)
        try await replica.edit(in: space) { editor in _ = try editor.createSession(title: "Notes about a colleague") }
        try await logInToScriptedServer(replica)
        return replica
    }

    static func client(_ server: String, maxResponseBytes: Int? = nil, timeout: TimeInterval? = nil) -> SyncClient {
        var configuration = SyncClient.Configuration(server: URL(string: server)!, token: token)
        configuration.retry.maxAttempts = 1
        if let maxResponseBytes { configuration.maxResponseBytes = maxResponseBytes }
        if let timeout { configuration.timeout = timeout }
        return SyncClient(configuration: configuration, sleep: { _ in })
    }

    /// How long a sync that must end is given: a few seconds alone, but the full suite on two
    /// busy cores has stretched a 2 s request deadline to 20 s. The old transport never ended.
    static let patience: Duration = .seconds(120)

    /// How `sync` ended, and after how long; nil if it had not ended within `limit` (it is
    /// then left alone: the URLSession transport's redirect body ignored cancellation, and
    /// its `cancel()` blocked the cancelling thread, so waiting or cancelling hung the suite
    /// rather than failing the test).
    static func outcome(
        within limit: Duration, _ sync: @escaping @Sendable () async throws -> SyncClient.Summary
    ) async -> (result: Result<SyncClient.Summary, any Error>, elapsed: Duration)? {
        let started = ContinuousClock.now
        let task = Task { try await sync() }
        /// Whichever of the sync and the deadline comes first resumes the wait.
        final class First: Sendable {
            let waiting = Mutex<CheckedContinuation<Result<SyncClient.Summary, any Error>?, Never>?>(nil)
            func resume(_ result: Result<SyncClient.Summary, any Error>?) { waiting.withLock { $0.take() }?.resume(returning: result) }
        }
        let first = First()
        let result = await withCheckedContinuation { continuation in
            first.waiting.withLock { $0 = continuation }
            Task { first.resume(await task.result) }
            Task {
                try? await Task.sleep(for: limit)
                first.resume(nil)
            }
        }
        return result.map { ($0, ContinuousClock.now - started) }
    }

    @Test(
        "a redirect whose body never ends is cut at the limit: the sync stops in bounded time and memory",
        arguments: [(307, nil), (301, 268_435_456)] as [(Int, Int?)])
    func endlessRedirectBodyIsCut(status: Int, declaredLength: Int?) async throws {
        let directory = ServerTestDirectory()
        let replica = try await Self.replica(directory)
        // 64 KiB pieces at line rate, chunked for ever or under a 256 MiB Content-Length.
        let endless = ScriptedHTTPServer.Stream(piece: [UInt8](repeating: 0x20, count: 64 << 10), declaredLength: declaredLength)
        let server = try ScriptedHTTPServer { _ in .init(status: status, headers: [("Location", "/v1/sync")], stream: endless) }
        defer { server.stop() }
        let client = Self.client(server.url, maxResponseBytes: 1 << 20)
        let outcome = try #require(
            await Self.outcome(within: Self.patience) { try await client.sync(replica) }, "sync still running after \(Self.patience)")
        #expect(throws: SyncClientError.responseTooLarge(limit: 64 << 10)) { try outcome.result.get() }
        #expect((1...5).contains(server.requests.count))
        print("endless \(status) body: sync refused it after \(outcome.elapsed), \(server.requests.count) requests")
    }

    @Test("a gzip bomb in a 307 (Content-Encoding: gzip) is refused at its headers, not inflated or followed")
    func gzipBombInRedirectIsRefused() async throws {
        let directory = ServerTestDirectory()
        let replica = try await Self.replica(directory)
        let bomb = Gzip.compress([UInt8](repeating: 0, count: 256 << 20))
        let server = try ScriptedHTTPServer { _ in
            .init(status: 307, headers: [("Location", "/v1/sync"), ("Content-Encoding", "gzip")], body: bomb)
        }
        defer { server.stop() }
        let client = Self.client(server.url, maxResponseBytes: 1 << 20)
        let outcome = try #require(
            await Self.outcome(within: Self.patience) { try await client.sync(replica) }, "sync still running after \(Self.patience)")
        #expect {
            try outcome.result.get()
        } throws: { error in
            guard let error = error as? SyncClientError, error.code == .protocolViolation else { return false }
            return error.message.contains("Content-Encoding 'gzip'")
        }
        #expect(server.requests.count == 1)
    }

    @Test("a body that drips a byte every 100 ms past the request's timeout ends in a timeout, not a sync that never ends")
    func drippingBodyTimesOut() async throws {
        let directory = ServerTestDirectory()
        let replica = try await Self.replica(directory)
        // 3,000 bytes at 10 a second: 300 s of a body that never stops moving.
        let drip = ScriptedHTTPServer.Stream(piece: [0x20], interval: .milliseconds(100), declaredLength: 3000)
        let server = try ScriptedHTTPServer { _ in .init(status: 200, headers: [("Content-Type", "application/json")], stream: drip) }
        defer { server.stop() }
        let client = Self.client(server.url, timeout: 2)
        let outcome = try #require(
            await Self.outcome(within: Self.patience) { try await client.sync(replica) }, "sync still running after \(Self.patience)")
        #expect {
            try outcome.result.get()
        } throws: { error in
            guard let error = error as? SyncClientError, error.code == .unreachable else { return false }
            return error.message.contains("timed out")
        }
        #expect(server.requests.count == 1)
        print("dripping body: sync timed out after \(outcome.elapsed)")
    }

    enum Elsewhere: String, CaseIterable, Sendable {
        /// Same host, another port.
        case port
        /// The same machine under another name.
        case host
        /// https:// on the same host and port.
        case scheme
    }

    @Test(
        "a redirect to another origin is refused and the token never reaches it",
        arguments: [(307, Elsewhere.port), (308, .host), (307, .scheme), (302, .port), (303, .port), (301, .host)])
    func crossOriginRedirectIsRefused(status: Int, elsewhere: Elsewhere) async throws {
        let directory = ServerTestDirectory()
        let replica = try await Self.replica(directory)
        // The other origin: records every request, answers as a sync server would.
        let recorder = try ScriptedHTTPServer { _ in .init(status: 200, body: Array(#"{"version":1,"spaces":[]}"#.utf8)) }
        let target =
            switch elsewhere {
            case .port: "http://127.0.0.1:\(recorder.port)/v1/sync"
            case .host: "http://localhost:\(recorder.port)/v1/sync"
            case .scheme: "https://127.0.0.1:\(recorder.port)/v1/sync"
            }
        let redirector = try ScriptedHTTPServer { _ in .init(status: status, headers: [("Location", target)]) }
        await #expect {
            try await Self.client(redirector.url).sync(replica)
        } throws: { error in
            guard let error = error as? SyncClientError, error.code == .redirectRefused, error.status == status else { return false }
            return error.message.contains("redirected (\(status)) to \(target);")
        }
        recorder.stop()
        redirector.stop()
        #expect(redirector.requests.count == 1)
        #expect(redirector.requests.first?.headers["authorization"] == "Bearer \(Self.token)")
        #expect(recorder.requests.isEmpty, "the other origin received \(recorder.requests.map(\.headers))")
    }

    @Test("the refusal is a clear message naming both ends, and the CLI maps it to 'unavailable'")
    func refusalMessage() {
        let error = SyncClientError.redirectRefused(status: 307, from: "https://a.example", to: "https://b.example/v1/sync")
        #expect(error.description.contains("https://a.example"))
        #expect(error.description.contains("https://b.example/v1/sync"))
        #expect(error.description.contains("token was not sent"))
    }

    @Test("a 307 or 308 within the server's own origin is followed with the body and token, and the sync completes")
    func sameOriginRedirectIsFollowed() async throws {
        let directory = ServerTestDirectory()
        let store = try SQLiteSyncStore(path: directory.path("server.sqlite"))
        let accounts = try await AccountFixture.make(store)
        let space = accounts.hill.privateSpace
        let replica = try Replica(path: directory.path("hill.sqlite"))
        try await replica.addSpace(space)
        try await replica.edit(in: space) { editor in
            for index in 0..<30 { _ = try editor.createSession(title: "Session \(index) with a longer title to pass 1 KiB") }
        }
        var logger = Logger(label: "dialogue.server.test")
        logger.logLevel = .warning
        let server = SyncServer(service: SyncService(store: store, logger: logger), metrics: nil, logger: logger)
        let router = server.router()
        // The server moved its API under /v2-prefix/… : the old path answers 308, then 307.
        router.post("old/v1/sync") { _, _ in
            Response(status: .permanentRedirect, headers: [.location: "/older/v1/sync"])
        }
        router.post("older/v1/sync") { _, _ in
            Response(status: .temporaryRedirect, headers: [.location: "/v1/sync"])
        }
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)), logger: logger)
        try await app.test(.live) { client in
            var configuration = SyncClient.Configuration(
                server: URL(string: "http://127.0.0.1:\(client.port!)/old")!, token: accounts.tokens["hill-member"]!)
            configuration.retry.maxAttempts = 1
            _ = try await loggedIn(replica, to: URL(string: "http://127.0.0.1:\(client.port!)")!, token: accounts.tokens["hill-member"]!)
            let summary = try await SyncClient(configuration: configuration).sync(replica)
            #expect(summary.pushed == 90)  // three changes per session
        }
        #expect(try await store.vector(of: space) == (try replica.heldVectors()[space]))
    }

    @Test("an answer that inflates past the limit is refused, whether the transport or the client inflates it")
    func gzipBombIsRefused() async throws {
        let directory = ServerTestDirectory()
        let replica = try await Self.replica(directory)
        // 64 MiB of zeros: 64 KiB on the wire.
        let bomb = Gzip.compress([UInt8](repeating: 0, count: 64 << 20))
        #expect(bomb.count < 256 << 10)
        // Without a Content-Encoding the client inflates it, under the bound.
        let plain = try ScriptedHTTPServer { _ in .init(status: 200, headers: [("Content-Type", "application/json")], body: bomb) }
        await #expect(throws: SyncClientError.responseTooLarge(limit: 1 << 20)) {
            try await Self.client(plain.url, maxResponseBytes: 1 << 20).sync(replica)
        }
        plain.stop()
        // One request per page size tried (10,000 → 1,000 → 100 → 10 → 1), each bounded.
        #expect(plain.requests.count == 5)
        #expect(plain.requests.allSatisfy { $0.headers["accept-encoding"] == "identity" })
        // Labelled `Content-Encoding: gzip` (URLSession would inflate it): refused at its headers.
        let labelled = try ScriptedHTTPServer { _ in
            .init(status: 200, headers: [("Content-Encoding", "gzip"), ("Content-Type", "application/json")], body: bomb)
        }
        await #expect {
            try await Self.client(labelled.url, maxResponseBytes: 1 << 20).sync(replica)
        } throws: { error in
            guard let error = error as? SyncClientError, error.code == .protocolViolation else { return false }
            return error.message.contains("Content-Encoding 'gzip'")
        }
        labelled.stop()
        #expect(labelled.requests.count == 1)
        let message = SyncClientError.responseTooLarge(limit: 1 << 20).description
        #expect(message.contains("larger than 1048576 bytes"))
    }

    @Test("an honest page past the limit is fetched again in smaller pages")
    func largePagesShrink() async throws {
        let directory = ServerTestDirectory()
        let store = try SQLiteSyncStore(path: directory.path("server.sqlite"))
        let accounts = try await AccountFixture.make(store)
        let space = accounts.hill.privateSpace
        let writer = try Replica(path: directory.path("writer.sqlite"))
        try await writer.addSpace(space)
        // One transaction per session: the server cuts pages only at signed heads.
        for index in 0..<200 {
            try await writer.edit(in: space) { editor in
                _ = try editor.createSession(title: "Session \(index): " + String(repeating: "x", count: 1000))
            }
        }
        let reader = try Replica(path: directory.path("reader.sqlite"))
        try await reader.addSpace(space)
        try await withLiveServer(store: store) { url in
            try await loggedIn(writer, to: url, token: accounts.tokens["hill-member"]!).sync(writer)
            let client = try await loggedIn(reader, to: url, token: accounts.tokens["hill-member"]!) { configuration in
                configuration.maxResponseBytes = 100 << 10  // the whole space is ~300 KiB as JSON, 100 changes ~50 KiB
                configuration.retry.maxAttempts = 1
            }
            let summary = try await client.sync(reader)
            #expect(summary.pulled == 600)
        }
        #expect(await reader.document(space)?.canonicalExport() == (await writer.document(space)?.canonicalExport()))
    }

    @Test(
        "server URLs a token must not go to are refused before anything is sent",
        arguments: [
            ("http://dialogue.example.org", false), ("http://10.0.0.7:8080", false), ("http://[2001:db8::1]:8080", false),
            ("http://127.0.0.1.evil.example", false), ("http://127.0.0.1:99999", true), ("http://127.0.0.1:0", true),
            ("https://user:pw@dialogue.example.org", true), ("ftp://dialogue.example.org", true),
        ])
    func refusedAddresses(url: String, malformed: Bool) async throws {
        #expect {
            try ServerAddress(url, allowInsecureHTTP: false)
        } throws: { error in
            switch (error as? SyncClientError)?.code {
            case .invalidServer?: malformed
            case .insecureServer?: !malformed
            default: false
            }
        }
        if !malformed {
            #expect(try ServerAddress(url, allowInsecureHTTP: true).url.absoluteString == url)
            let directory = ServerTestDirectory()
            let replica = try await Self.replica(directory)
            await #expect(throws: SyncClientError.self) { try await Self.client(url).sync(replica) }
        }
    }

    @Test(
        "loopback and https addresses are accepted without the flag",
        arguments: [
            "http://127.0.0.1:8080", "http://127.3.4.5", "http://localhost:8080/", "http://LOCALHOST", "http://[::1]:8080",
            "https://dialogue.example.org", "https://dialogue.example.org:8443/base", "http://[::ffff:127.0.0.1]:80",
        ])
    func acceptedAddresses(url: String) throws {
        #expect(throws: Never.self) { try ServerAddress(url, allowInsecureHTTP: false) }
    }
}
