import DialogueModel
import DialogueServer
import DialogueSync
import DialogueTestSupport
import Foundation
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif
#if canImport(Glibc)
    import Glibc
#endif

/// A replica file and a server store made before signing existed, upgraded together
/// through the real binaries (docs/TRUST.md, "Migration"; docs/CLI.md, "Upgrading from a
/// version before signing").
///
/// - `Tests/DialogueSyncTests/Fixtures/replica-v1.sqlite`: a replica written by the first
///   replica schema (one session, never synced).
/// - `Fixtures/server-pre-signing.sqlite`: a server store with the schema before signing,
///   the replica's space as a partnership's shared space, Ada's token, and a session written
///   there by another old device (written by `PreSigningStore` in the server's tests).
@Suite("Upgrading from a version before signing, through the binaries")
struct UpgradeFromPreSigningTests {
    static let space = SpaceID(UUID(uuidString: "5ace0000-0000-4000-8000-0000000f1a7e")!)
    /// The old device whose changes the old store holds (two: a session made and titled).
    static let oldDevice = ReplicaID(rawValue: 0x0B1D_0000_0000_0001)!
    static let oldDeviceChanges = 2
    /// The replica fixture's id.
    static let fixtureReplica = ReplicaID(rawValue: 0x00D1_A10C_0E00_0001)!
    static let token = "dlg_pre_signing_token_for_ada"

    static func fixture(_ relative: String) -> String { packageRoot().appendingPathComponent("Tests/\(relative)").path }

    /// `dialogue-server serve` over a copy of the old store.
    func startServer(_ scratch: Scratch) async throws -> (Process, url: String, data: String) {
        let data = scratch.path("server-data")
        try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let store = (data as NSString).appendingPathComponent("dialogue-server.sqlite")
        try FileManager.default.copyItem(atPath: Self.fixture("DialogueClientTests/Fixtures/server-pre-signing.sqlite"), toPath: store)
        let port = try freeTCPPort()
        let home = scratch.path("home-server")
        try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true)
        // A busy machine starts it slowly over the old store.
        let process = try await LiveServer.serve(data: data, home: home, port: port, log: scratch.path("server.log"), wait: .seconds(300))
        return (process, "http://127.0.0.1:\(port)", store)
    }

    func stop(_ process: Process) {
        if process.isRunning {
            kill(process.processIdentifier, SIGTERM)
            process.waitUntilExit()
        }
    }

    /// The number in "sent N" / "received N" of a sync's output.
    func count(_ word: String, in output: String) -> Int? {
        guard let range = output.range(of: "\(word) ") else { return nil }
        return Int(output[range.upperBound...].prefix { $0.isNumber })
    }

    @Test(
        "an old replica logs in and syncs with an upgraded old store: receives its legacy changes (marked), sends its own signed; a fresh replica converges"
    )
    func oldReplicaAndOldStoreUpgradeTogether() async throws {
        let scratch = Scratch()
        // What the replica fixture holds: its own changes, never synced.
        let own: Int
        do {
            let probe = scratch.path("probe.sqlite")
            try FileManager.default.copyItem(atPath: Self.fixture("DialogueSyncTests/Fixtures/replica-v1.sqlite"), toPath: probe)
            own = try Replica(path: probe).changes(in: Self.space, missingFrom: VersionVector(), limit: 100_000).changes.count
        }
        let adaPath = scratch.path("ada.sqlite")
        try FileManager.default.copyItem(atPath: Self.fixture("DialogueSyncTests/Fixtures/replica-v1.sqlite"), toPath: adaPath)
        let tokenFile = scratch.path("ada.token")
        try Self.token.write(toFile: tokenFile, atomically: true, encoding: .utf8)

        let (server, url, store) = try await startServer(scratch)
        defer { stop(server) }
        let ada = Leader(replica: adaPath, home: scratch.path("home-ada"))
        let login = try await ada.ok(["login", "--server", url, "--token-file", tokenFile])
        #expect(login.contains("logged in as Ada, Hill Primary"), "\(login)")
        let synced = try await ada.ok(["sync"])
        #expect(count("sent", in: synced) == own, "\(synced)")
        // Then the personal reflection prompts went to the personal space the upgraded store
        // gave her (a create and three fields each).
        let seeded = PromptLibrary.personalReflection.count * 4
        #expect(
            synced.contains("added \(PromptLibrary.personalReflection.count) personal reflection prompts to Personal reflection (Ada)"),
            "\(synced)")
        #expect(count("received", in: synced) == Self.oldDeviceChanges, "\(synced)")
        #expect(!synced.contains("cannot be verified"), "\(synced)")
        let again = try await ada.ok(["sync"])
        #expect(count("sent", in: again) == 0 && count("received", in: again) == 0, "\(again)")
        let status = try #require(try await ada.json(["status"]) as? [String: Any])
        let spaces = try #require(status["spaces"] as? [[String: Any]])
        #expect(spaces.map { $0["unsyncedChanges"] as? Int } == [0, 0], "\(spaces)")
        #expect(spaces.map { $0["unverifiableChanges"] as? Int } == [0, 0], "\(spaces)")
        #expect(Set(spaces.compactMap { $0["kind"] as? String }) == ["shared", "personal"], "\(spaces)")

        let fresh = Leader(replica: scratch.path("fresh.sqlite"), home: scratch.path("home-fresh"))
        try await fresh.ok(["init", "--space", Self.space.description])
        try await fresh.ok(["login", "--server", url, "--token-file", tokenFile])
        let pulled = try await fresh.ok(["sync"])
        #expect(count("received", in: pulled) == own + Self.oldDeviceChanges + seeded, "\(pulled)")
        stop(server)

        // Both replicas hold the same space; the old device's changes are marked as unsigned
        // legacy on both, Ada's own (signed by her replica's first head) on neither.
        let adaReplica = try Replica(path: adaPath)
        let freshReplica = try Replica(path: fresh.replica)
        let adaState = try #require(await adaReplica.document(Self.space)).canonicalExport()
        #expect(try #require(await freshReplica.document(Self.space)).canonicalExport() == adaState)
        for replica in [adaReplica, freshReplica] {
            #expect(try replica.unsignedLegacyCounters(in: Self.space) == [Self.oldDevice: [1...2]])
            #expect(try !replica.isUnsignedLegacy(Dot(Self.fixtureReplica, 1), in: Self.space))
        }
        // The upgraded store: legacy vector recorded, Ada's changes stored under her signed head.
        let upgraded = try SQLiteSyncStore(path: store)
        let listings = try await upgraded.spaceListings(ofSchool: UUID(uuidString: "0a1b2c3d-4e5f-4a6b-8c7d-000000000001")!)
        #expect(listings.first { $0.space == Self.space }?.legacy == VersionVector([Self.oldDevice: 2]))
        let vector = try await upgraded.vector(of: Self.space)
        #expect(
            try await upgraded.latestChainHeads(in: Self.space, of: [Self.fixtureReplica])[Self.fixtureReplica]?.counter
                == vector[Self.fixtureReplica])
        #expect(vector[Self.fixtureReplica] > 0)
        // The migration gave the existing member a personal space, the one her directory lists.
        let personal = try #require(try await upgraded.personalSpaces().values.first)
        #expect(try await upgraded.personalSpaces().count == 1)
        #expect(try adaReplica.personalSpace()?.space == personal)
        try await upgraded.close()
    }
}
