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

    /// A hostile request's bytes as its author's registered device sends them: signed
    /// (``TestDevices/headsAside(for:)``) when they read as a sync request, so the server
    /// refuses them for what they say; as they are otherwise.
    static func signedAside(_ bytes: [UInt8], devices: TestDevices) throws -> [UInt8] {
        guard var request = try? JSONDecoder().decode(SyncRequest.self, from: Data(bytes)) else { return bytes }
        for index in request.spaces.indices {
            request.spaces[index].heads = try devices.headsAside(for: try request.spaces[index].allChanges())
        }
        return try encodeJSON(request)
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
            let devices = TestDevices()
            var author = ChangeAuthor(space: accounts.partnership.sharedSpace)
            let run = try author.textRun("hello")
            _ = try await postSignedSync(url, token: member, RouteHarness.push(run, to: author.space), devices: devices)
            let ctx = author.context()
            let deletion = try author.document.editText(DialogueSession.Field.summary, of: run[0].entity, at: 0, delete: 1, by: ctx)
            let honest = String(decoding: try encodeJSON(RouteHarness.push(deletion, to: author.space)), as: UTF8.self)
            let held = try await store.vector(of: author.space)
            for first in ["18446744073709551615", "18446744073709551614"] {
                let hostile = honest.replacingOccurrences(
                    of: #""firstCounter":\d+"#, with: "\"firstCounter\":\(first)", options: .regularExpression)
                #expect(hostile != honest)
                let answer = try await Self.post(url, token: member, try Self.signedAside(Array(hostile.utf8), devices: devices))
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
            let accepted = try await postSignedSync(url, token: member, RouteHarness.push(deletion, to: author.space), devices: devices)
            #expect(accepted.spaces.first?.accepted == 1)
        }
    }

    // MARK: A delete can claim to have seen the future

    @Test("forged predecessors, observed dots and observed vectors are refused 422 impossible_history", arguments: ForgedOperation.allCases)
    func forgedHistory(_ forgery: ForgedOperation) async throws {
        try await Self.withServer { url, accounts, store in
            var scenario = try ForgeryScenario(space: accounts.partnership.sharedSpace, wallTime: nowMilliseconds())
            let devices = TestDevices()
            let (hill, vale) = (accounts.tokens["hill-member"]!, accounts.tokens["vale-member"]!)
            _ = try await postSignedSync(url, token: hill, RouteHarness.push(scenario.fromHill, to: scenario.space), devices: devices)
            _ = try await postSignedSync(url, token: vale, RouteHarness.push(scenario.fromVale, to: scenario.space), devices: devices)
            let (honest, forged, named) = try scenario.mallorysChanges(forgery)
            // Mallory's device is registered and signs what it forges.
            _ = try await DeviceRegistrationTests.register(
                url, token: vale, replica: honest.replica, key: devices.key(of: honest.replica).publicKey
            )
            .registration()
            devices.registered(honest.replica)
            let held = try await store.vector(of: scenario.space)
            let answer = try await Self.post(
                url, token: vale, try Self.signedAside(try encodeJSON(RouteHarness.push([forged], to: scenario.space)), devices: devices))
            try Self.expectRefused(answer, 422, "invalid_changes", rejection: "impossible_history")
            #expect(answer.body.contains(named.description), "the refusal names the dot: \(answer.body)")
            #expect(try await store.vector(of: scenario.space) == held, "a refused push stored something")
            // Mallory's editor's own change, same id, is accepted.
            let accepted = try await postSignedSync(url, token: vale, RouteHarness.push([honest], to: scenario.space), devices: devices)
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
            let devices = TestDevices()
            let request = try await devices.signed(RouteHarness.push(mine + theirs, to: author.space), server: url, token: member)
            let answer = try await Self.post(url, token: member, try encodeJSON(request))
            try Self.expectRefused(answer, 422, "invalid_changes", rejection: "conflicting_duplicate")
            #expect(try await store.vector(of: author.space)[replica] == 0, "a refused push stored something")
            // The same change twice: stored once, the copy counted as held.
            let twice = try await postSignedSync(
                url, token: member, RouteHarness.push([mine[0], mine[0], mine[1]], to: author.space), devices: devices)
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
            let devices = TestDevices()
            let overlapping = try await devices.signed(RouteHarness.push(typed + [other[1]], to: author.space), server: url, token: member)
            let answer = try await Self.post(url, token: member, try encodeJSON(overlapping))
            try Self.expectRefused(answer, 422, "invalid_changes", rejection: "conflicting_duplicate")
            #expect(try await store.vector(of: author.space)[replica] == 0, "a refused push stored something")
            // The run and its re-joined form (same characters) in one request are no conflicting
            // duplicate; but the join's tail (@5, trimmed) is no change the device signed (it
            // signed "d" on its own, at another time): bad_signature, nothing stored.
            let more = try author.document.editText(
                DialogueSession.Field.summary, of: typed[0].entity, at: 3, insert: "d", by: author.context())
            let joined = ChangeCompactor.compact([typed[1]] + more)
            #expect(joined.count == 1)
            let heads = try devices.heads(for: typed + more)
            var request = RouteHarness.push(typed + joined, to: author.space)
            request.spaces[0].heads = heads
            let rejoined = try await Self.post(url, token: member, try encodeJSON(request))
            try Self.expectRefused(rejoined, 422, "invalid_changes", rejection: "bad_signature")
            #expect(try await store.vector(of: author.space)[replica] == 0, "a refused push stored something")
            // As the device signed them, the run and the "d" are stored.
            let fine = try await postSignedSync(url, token: member, RouteHarness.push(typed + more, to: author.space), devices: devices)
            #expect(fine.spaces.first?.accepted == 3)
        }
    }
}
