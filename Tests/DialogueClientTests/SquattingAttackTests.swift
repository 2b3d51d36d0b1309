import DialogueModel
import DialogueSync
import Foundation
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// Issue 12's first attack, through the real binaries: Ben, with his own valid token and a
/// hand-built request, pushes a change as Ada's replica at her next counter. Before the
/// server verified pushes it was stored (200), and Ada's own offline edit at that counter
/// was never sent ("sent 0" for ever). Now it is refused and Ada's `sync` sends her edit.
@Suite("Squatting another device's counters (live server, dialogue-client)")
struct SquattingAttackTests {
    /// POSTs a raw JSON body to the server with `token`; the status and body.
    static func post(_ server: LiveServer, _ path: String, token: String, _ body: Data) async throws -> (status: Int, body: String) {
        var request = URLRequest(url: URL(string: "\(server.url)/\(path)")!)
        request.httpMethod = "POST"
        request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.httpBody = body
        let (data, response) = try await URLSession(configuration: .ephemeral).data(for: request)
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, String(decoding: data, as: UTF8.self))
    }

    @Test(
        "Ben's push at Ada's next counter is refused (signed by his key or unsigned), nothing stored; registering her id is 409; Ada's sync then sends her edit"
    )
    func squattingIsRefused() async throws {
        let scratch = Scratch()
        let server = try await LiveServer.start(in: scratch)
        defer { server.stop() }
        let ada = Leader("ada", in: scratch)
        try await ada.ok(["init", "--space", server.sharedSpace])
        let tokenFile = scratch.path("ada.token")
        try server.tokens["hill"]!.write(toFile: tokenFile, atomically: true, encoding: .utf8)
        try await ada.ok(["login", "--server", server.url, "--token-file", tokenFile])
        try await ada.ok(["sessions", "create", "--title", "Ada's first visit"])
        try await ada.ok(["sync"])
        let status = try #require(try await ada.json(["status"]) as? [String: Any])
        let replicaText = try #require(status["replicaID"] as? String)
        let adaReplica = try #require(ReplicaID(replicaText))

        // Ben learns Ada's position from the server (he may read the shared space).
        let ben = server.tokens["vale"]!
        let spaceUUID = try #require(UUID(uuidString: server.sharedSpace))
        let spaceID = SpaceID(spaceUUID)
        let pull = try await Self.post(
            server, "v1/sync", token: ben,
            try JSONEncoder().encode(SyncRequest(replica: nil, spaces: [.init(space: spaceID, have: VersionVector())])))
        #expect(pull.status == 200, "\(pull.body)")
        let held = try JSONDecoder().decode(SyncResponse.self, from: Data(pull.body.utf8)).spaces[0].serverHas.vector[adaReplica]
        #expect(held > 0)

        // His change at her next counter: unsigned, then with a head signed by his own key.
        let forged = Change(
            id: Dot(adaReplica, held + 1), timestamp: HLCTimestamp(wallTime: UInt64(Date().timeIntervalSince1970 * 1000)), space: spaceID,
            entity: EntityID(UUID()), field: "", dependencies: [], operation: .create(kind: EntityKind.session.rawValue, predecessors: []))
        var chain = DeviceChain(space: spaceID, replica: adaReplica, counter: held, hash: [UInt8](repeating: 0, count: 32))
        try chain.advance(over: forged)
        let benKey = SigningKeyPair()
        for heads in [[], [chain.head(signedBy: benKey)]] {
            var have = VersionVector()
            have.record(Dot(adaReplica, held + 1))
            let request = SyncRequest(replica: adaReplica, spaces: [.init(space: spaceID, have: have, changes: [forged], heads: heads)])
            let answer = try await Self.post(server, "v1/sync", token: ben, try JSONEncoder().encode(request))
            #expect(answer.status == 422, "\(answer.body)")
            #expect(answer.body.contains("bad_signature") || answer.body.contains("unknown_device"), "\(answer.body)")
        }
        // Taking her replica id with his key: 409 replica_taken.
        let taken = try await Self.post(
            server, "v1/devices", token: ben,
            try JSONEncoder().encode(DeviceRegistrationRequest(replica: adaReplica, publicKey: benKey.publicKey)))
        #expect(taken.status == 409 && taken.body.contains("replica_taken"), "\(taken.body)")

        // Ada's own offline edit at that counter is sent by her sync, and the server holds it.
        try await ada.ok(["sessions", "create", "--title", "Written offline by Ada"])
        let synced = try #require(try await ada.json(["sync"]) as? [String: Any])
        #expect((synced["pushed"] as? Int ?? 0) > 0, "\(synced)")
        let after = try await Self.post(
            server, "v1/sync", token: ben,
            try JSONEncoder().encode(SyncRequest(replica: nil, spaces: [.init(space: spaceID, have: VersionVector())])))
        let result = try JSONDecoder().decode(SyncResponse.self, from: Data(after.body.utf8)).spaces[0]
        let changes = try result.allChanges()
        #expect(!changes.contains { $0.entity == forged.entity }, "Ben's forged change is stored")
        #expect(
            changes.contains { $0.operation == .set(.string("Written offline by Ada"), predecessors: []) },
            "Ada's edit is not on the server")
        let local = try #require(try await ada.json(["status"]) as? [String: Any])
        #expect(result.serverHas.vector[adaReplica] > held, "\(local)")
    }
}
