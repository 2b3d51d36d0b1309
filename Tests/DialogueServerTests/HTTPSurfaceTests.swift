import DialogueModel
import DialogueServer
import DialogueSync
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Testing

/// What every response carries, wrong methods, the metrics token, strict request members,
/// URL ports (issue 11, item 8).
@Suite("HTTP surface")
struct HTTPSurfaceTests {
    static let requestID = HTTPField.Name("X-Request-Id")!

    @Test("every response, success or error, carries no-store, nosniff and a request id")
    func standardHeaders() async throws {
        try await withRouteHarness { h in
            var author = ChangeAuthor(space: h.accounts.partnership.sharedSpace)
            let responses: [(String, TestResponse)] = [
                ("health", try await h.client.execute(uri: "/health", method: .get)),
                ("ready", try await h.client.execute(uri: "/ready", method: .get)),
                ("metrics", try await h.client.execute(uri: "/metrics", method: .get)),
                ("openapi", try await h.client.execute(uri: "/openapi.yaml", method: .get)),
                ("sync 200", try await h.sync(RouteHarness.push(author.creates(1), to: author.space))),
                ("sync 401", try await h.sync(SyncRequest(replica: nil, spaces: []), token: nil)),
                ("sync 400", try await h.post(Array("not json".utf8))),
                ("404", try await h.client.execute(uri: "/nowhere", method: .get)),
                ("405", try await h.client.execute(uri: "/v1/sync", method: .get)),
            ]
            var ids: Set<String> = []
            for (name, response) in responses {
                #expect(response.headers[.cacheControl] == "no-store", "\(name)")
                #expect(response.headers[.xContentTypeOptions] == "nosniff", "\(name)")
                let id = try #require(response.headers[Self.requestID], "\(name) has no X-Request-Id")
                #expect(!id.isEmpty)
                ids.insert(id)
            }
            #expect(ids.count == responses.count, "request ids repeat")
        }
    }

    @Test("an incoming request id is kept when sane, replaced when not, and is in the request's log lines")
    func requestIDs() async throws {
        let (logger, lines) = CapturingLogHandler.logger()
        let directory = ServerTestDirectory()
        let store = try SQLiteSyncStore(path: directory.path("server.sqlite"))
        let accounts = try await AccountFixture.make(store)
        let server = SyncServer(service: SyncService(store: store, logger: logger), metrics: nil, logger: logger)
        try await Application(router: server.router(), logger: logger).test(.router) { client in
            let kept = try await client.execute(uri: "/health", method: .get, headers: [Self.requestID: "trace-42.a_b:c"])
            #expect(kept.headers[Self.requestID] == "trace-42.a_b:c")
            for insane in ["has space", String(repeating: "a", count: 129), "quote\"d", "ünïcode"] {
                let replaced = try await client.execute(uri: "/health", method: .get, headers: [Self.requestID: insane])
                let id = try #require(replaced.headers[Self.requestID])
                #expect(id != insane && UUID(uuidString: id) != nil, "\(insane) → \(id)")
            }
            var author = ChangeAuthor(space: accounts.partnership.sharedSpace)
            let pushed = try await client.execute(
                uri: "/v1/sync", method: .post,
                headers: [
                    .authorization: "Bearer \(accounts.tokens["hill-member"]!)", .contentType: "application/json", Self.requestID: "push-1",
                ],
                body: ByteBuffer(
                    bytes: try encodeJSON(
                        try await TestDevices().signed(
                            RouteHarness.push(author.creates(1), to: author.space), token: accounts.tokens["hill-member"]!, store: store))))
            #expect(pushed.status == .ok, "\(pushed.body)")
        }
        try await store.close()
        let sync = try #require(lines.all.first { $0.message == "sync" })
        #expect(sync.metadata["request.id"] == "push-1")
        _ = directory
    }

    @Test("a known path asked with another method (TRACE, GET on /v1/sync…) is 405 with Allow; an unknown path is 404")
    func wrongMethods() async throws {
        try await withRouteHarness { h in
            for (method, path, allow) in [
                (HTTPRequest.Method.trace, "/v1/sync", "POST"), (.get, "/v1/sync", "POST"), (.put, "/v1/sync", "POST"),
                (.delete, "/health", "GET"), (.post, "/metrics", "GET"), (.trace, "/openapi.yaml", "GET"),
            ] {
                let response = try await h.client.execute(uri: path, method: method)
                try expectRefusal(response, 405, .methodNotAllowed)
                #expect(response.headers[.allow] == allow, "\(method) \(path)")
            }
            try expectRefusal(try await h.client.execute(uri: "/v2/sync", method: .trace), 404, .notFound)
        }
    }

    @Test("with a scrape token, /metrics answers only that token")
    func metricsToken() async throws {
        let directory = ServerTestDirectory()
        let store = try SQLiteSyncStore(path: directory.path("server.sqlite"))
        let logger = quietLogger("metrics-token")
        let server = SyncServer(service: SyncService(store: store, logger: logger), metrics: nil, logger: logger, metricsToken: "scrape-me")
        try await Application(router: server.router(), logger: logger).test(.router) { client in
            try expectRefusal(try await client.execute(uri: "/metrics", method: .get), 401, .unauthorized)
            try expectRefusal(
                try await client.execute(uri: "/metrics", method: .get, headers: [.authorization: "Bearer scrape-you"]), 401, .unauthorized)
            let scraped = try await client.execute(uri: "/metrics", method: .get, headers: [.authorization: "Bearer scrape-me"])
            #expect(scraped.status == .ok)
            #expect(try await client.execute(uri: "/health", method: .get).status == .ok)
        }
        try await store.close()
        _ = directory
    }

    @Test("null for a member typed as a value, both have and haveBinary, limit 0, an unknown encoding → 400; nothing stored")
    func strictRequestMembers() async throws {
        try await withRouteHarness { h in
            let space = "\(h.accounts.partnership.sharedSpace)"
            let before = try await h.held()
            for body in [
                #"{"protocol":2,"replica":null,"spaces":[]}"#,
                #"{"protocol":2,"limit":null,"spaces":[]}"#,
                #"{"protocol":2,"encoding":null,"spaces":[]}"#,
                #"{"protocol":2,"limit":0,"spaces":[]}"#,
                #"{"protocol":2,"encoding":"xml","spaces":[]}"#,
                #"{"protocol":2,"spaces":[{"space":"\#(space)","have":{},"haveBinary":"AA==","changes":[]}]}"#,
                #"{"protocol":2,"spaces":[{"space":"\#(space)","have":{},"haveBinary":null,"changes":[]}]}"#,
                #"{"protocol":2,"spaces":[{"space":"\#(space)","changes":[]}]}"#,
                #"{"protocol":2,"spaces":[{"space":"\#(space)","have":{},"after":null,"changes":[]}]}"#,
                #"{"protocol":2,"spaces":[{"space":"\#(space)","have":{},"changesBinary":null,"changes":[]}]}"#,
            ] {
                let response = try await h.post(Array(body.utf8))
                let refusal = try expectRefusal(response, 400, .malformedRequest)
                #expect(!refusal.error.message.isEmpty, "\(body)")
            }
            #expect(try await h.held() == before)
            // Left out, they are fine.
            #expect(try await h.post(Array(#"{"protocol":2,"spaces":[{"space":"\#(space)","have":{},"changes":[]}]}"#.utf8)).status == .ok)
        }
    }

    @Test("a database URL whose port is out of range is refused as such, not wrapped to another port")
    func databasePortOutOfRange() async throws {
        for url in ["postgres://u:p@127.0.0.1:99999/db", "postgres://u:p@127.0.0.1:65536/db", "postgres://u:p@127.0.0.1:0/db"] {
            do {
                let store = try await PostgresSyncStore.connect(url: url, logger: quietLogger("port"), timeout: .seconds(2))
                try await store.close()
                Issue.record("\(url) was accepted")
            } catch {
                #expect("\(error)".contains("not between 1 and 65535"), "\(url): \(error)")
            }
        }
    }
}
