import DialogueModel
import DialogueServer
import DialogueSync
import DialogueTestSupport
import Foundation
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// The attacks of issue 11 that a member with a valid token can make with curl, through the
/// real server on 127.0.0.1: each is refused with a stable code, nothing is stored, and the
/// server keeps answering.
@Suite("Hostile peers (live server)")
struct HostilePeerTests {
    /// The status and body of a raw POST to /v1/sync.
    static func post(_ server: URL, token: String, _ body: [UInt8]) async throws -> (status: Int, body: String) {
        var request = URLRequest(url: server.appendingPathComponent("v1/sync"))
        request.httpMethod = "POST"
        request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.httpBody = Data(body)
        let (data, response) = try await URLSession(configuration: .ephemeral).data(for: request)
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, String(decoding: data, as: UTF8.self))
    }

    static func health(_ server: URL) async throws -> Int {
        let (_, response) = try await URLSession(configuration: .ephemeral).data(from: server.appendingPathComponent("health"))
        return (response as? HTTPURLResponse)?.statusCode ?? 0
    }

    /// Expects a refusal: status, stable code, and for 422 the code of the first rejected
    /// change. (Codes as text, the wire's form.)
    static func expectRefused(
        _ answer: (status: Int, body: String), _ status: Int, _ code: String, rejection: String? = nil,
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        #expect(answer.status == status, "body: \(answer.body)", sourceLocation: sourceLocation)
        let error = try #require(try? JSONDecoder().decode(ErrorBody.self, from: Data(answer.body.utf8)), "\(answer.body)")
        #expect(error.error.code == code, "\(answer.body)", sourceLocation: sourceLocation)
        if let rejection {
            #expect(error.error.rejected?.first?.code == rejection, "\(answer.body)", sourceLocation: sourceLocation)
        }
    }

    /// A fresh SQLite store with the account fixture, served live.
    static func withServer(_ body: @escaping @Sendable (URL, AccountFixture, any SyncStore) async throws -> Void) async throws {
        let directory = ServerTestDirectory()
        let store = try SQLiteSyncStore(path: directory.path("server.sqlite"))
        let accounts = try await AccountFixture.make(store)
        try await withLiveServer(store: store) { url in try await body(url, accounts, store) }
        try await store.close()
        _ = directory
    }

    // MARK: One request kills the server

    @Test("a deleteText whose range starts at counter 2^64-1 is refused 400 malformed_change; the server answers /health")
    func overflowingDeletionRange() async throws {
        try await Self.withServer { url, accounts, store in
            let member = accounts.tokens["hill-member"]!
            var author = ChangeAuthor(space: accounts.partnership.sharedSpace)
            let run = try author.textRun("hello")
            _ = try await postSync(url, token: member, RouteHarness.push(run, to: author.space))
            let ctx = author.context()
            let deletion = try author.document.editText(DialogueSession.Field.summary, of: run[0].entity, at: 0, delete: 1, by: ctx)
            let honest = String(decoding: try encodeJSON(RouteHarness.push(deletion, to: author.space)), as: UTF8.self)
            let held = try await store.vector(of: author.space)
            for first in ["18446744073709551615", "18446744073709551614"] {
                let hostile = honest.replacingOccurrences(
                    of: #""firstCounter":\d+"#, with: "\"firstCounter\":\(first)", options: .regularExpression)
                #expect(hostile != honest)
                let answer = try await Self.post(url, token: member, Array(hostile.utf8))
                if first == "18446744073709551615" {
                    // Past the largest counter: no DotRange can hold it.
                    try Self.expectRefused(answer, 400, "malformed_change")
                } else {
                    // Representable, but naming a character nobody holds.
                    try Self.expectRefused(answer, 422, "invalid_changes", rejection: "unknown_reference")
                }
                #expect(try await Self.health(url) == 200, "the server stopped answering")
                #expect(try await store.vector(of: author.space) == held, "a refused push stored something")
            }
            // The honest deletion still goes through: the space is intact.
            let accepted = try await postSync(url, token: member, RouteHarness.push(deletion, to: author.space))
            #expect(accepted.spaces.first?.accepted == 1)
        }
    }

    // MARK: A delete can claim to have seen the future

    @Test("forged predecessors, observed dots and observed vectors are refused 422 impossible_history", arguments: ForgedOperation.allCases)
    func forgedHistory(_ forgery: ForgedOperation) async throws {
        try await Self.withServer { url, accounts, store in
            var scenario = try ForgeryScenario(space: accounts.partnership.sharedSpace, wallTime: nowMilliseconds())
            _ = try await postSync(url, token: accounts.tokens["hill-member"]!, RouteHarness.push(scenario.fromHill, to: scenario.space))
            _ = try await postSync(url, token: accounts.tokens["vale-member"]!, RouteHarness.push(scenario.fromVale, to: scenario.space))
            let (honest, forged, named) = try scenario.mallorysChanges(forgery)
            let held = try await store.vector(of: scenario.space)
            let answer = try await Self.post(
                url, token: accounts.tokens["vale-member"]!, try encodeJSON(RouteHarness.push([forged], to: scenario.space)))
            try Self.expectRefused(answer, 422, "invalid_changes", rejection: "impossible_history")
            #expect(answer.body.contains(named.description), "the refusal names the dot: \(answer.body)")
            #expect(try await store.vector(of: scenario.space) == held, "a refused push stored something")
            // Mallory's editor's own change, same id, is accepted.
            let accepted = try await postSync(url, token: accounts.tokens["vale-member"]!, RouteHarness.push([honest], to: scenario.space))
            #expect(accepted.spaces.first?.accepted == 1)
        }
    }

    // MARK: Duplicates inside one request are not compared

    @Test("two changes with one id and different content in one request → conflicting_duplicate; identical copies are harmless")
    func duplicateIDsInOneRequest() async throws {
        try await Self.withServer { url, accounts, store in
            let member = accounts.tokens["hill-member"]!
            let replica = ReplicaID.random()
            var author = ChangeAuthor(space: accounts.partnership.sharedSpace, replica: replica)
            var impostor = ChangeAuthor(space: accounts.partnership.sharedSpace, replica: replica)
            let mine = author.creates(2)
            let theirs = impostor.creates(2)  // same dots, other entities
            let request = RouteHarness.push(mine + theirs, to: author.space)
            let answer = try await Self.post(url, token: member, try encodeJSON(request))
            try Self.expectRefused(answer, 422, "invalid_changes", rejection: "conflicting_duplicate")
            #expect(try await store.vector(of: author.space)[replica] == 0, "a refused push stored something")
            // The same change twice: stored once, the copy counted as held.
            let twice = try await postSync(url, token: member, RouteHarness.push([mine[0], mine[0], mine[1]], to: author.space))
            #expect(twice.spaces.first?.accepted == 2)
            #expect(twice.spaces.first?.alreadyHeld == 1)
        }
    }

    @Test("overlapping text runs of one author in one request → conflicting_duplicate, no text nobody typed")
    func overlappingRunsInOneRequest() async throws {
        try await Self.withServer { url, accounts, store in
            let member = accounts.tokens["hill-member"]!
            let replica = ReplicaID.random()
            var author = ChangeAuthor(space: accounts.partnership.sharedSpace, replica: replica)
            var impostor = ChangeAuthor(space: accounts.partnership.sharedSpace, replica: replica)
            let typed = try author.textRun("abc")  // create @1, "abc" @2…4
            let other = try impostor.textRun("xyzw")  // create @1, "xyzw" @2…5: overlaps, differs
            let answer = try await Self.post(url, token: member, try encodeJSON(RouteHarness.push(typed + [other[1]], to: author.space)))
            try Self.expectRefused(answer, 422, "invalid_changes", rejection: "conflicting_duplicate")
            #expect(try await store.vector(of: author.space)[replica] == 0, "a refused push stored something")
            // The run and its re-joined form (same characters) in one request are fine.
            let more = try author.document.editText(
                DialogueSession.Field.summary, of: typed[0].entity, at: 3, insert: "d", by: author.context())
            let joined = ChangeCompactor.compact([typed[1]] + more)
            #expect(joined.count == 1)
            let fine = try await postSync(url, token: member, RouteHarness.push(typed + joined, to: author.space))
            #expect(fine.spaces.first?.accepted == 3)
        }
    }
}
