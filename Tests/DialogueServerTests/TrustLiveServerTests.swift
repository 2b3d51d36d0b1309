import DialogueModel
import DialogueServer
import DialogueSync
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// docs/TRUST.md's server side through the real `dialogue-server` binary: registration,
/// squatting, `admin server-key`, `list-devices`, `rotate-key` and `revoke-token`.
@Suite("Live server process: devices and the server key")
struct TrustLiveServerTests {
    /// `dialogue-server admin …` (text output) with the store arguments.
    static func adminText(_ arguments: [String], _ store: [String]) async throws -> ProcessResult {
        try await runProcess(try serverBinary(), ["admin"] + arguments + store, environment: childEnvironment())
    }

    struct RevokedJSON: Decodable {
        var revoked: UUID
        var devices: [DeviceRevocation]
    }

    struct RotatedJSON: Decodable {
        var previous: String
        var current: String
        var endorsement: ServerKeyEndorsement
    }

    struct KeyJSON: Decodable {
        var fingerprint: String
        var publicKey: String
        var generation: Int64
        var retired: [String]
    }

    struct DeviceJSON: Decodable, Equatable {
        var replica: ReplicaID
        var fingerprint: String
        var member: UUID
        var memberName: String
        var tokenLabel: String
        var registeredAt: Int64
        var revokedAt: Int64?
    }

    @Test(
        "register, squat (409), server-key, list-devices, rotate-key on a running server, revoke-token with the last counters",
        arguments: StoreKind.allCases)
    func lifecycle(_ kind: StoreKind) async throws {
        let directory = ServerTestDirectory()
        let database = kind == .postgres ? try await PostgresTestDatabase.create() : nil
        let store = database.map { ["--database", $0.url] } ?? ["--data-dir", directory.path("data")]
        do {
            let accounts = try await LiveAccounts.create(store)
            try await withServers(1, store, directory) { servers in
                let url = servers[0].url
                let hill = accounts.tokens["hill"]!
                let vale = accounts.tokens["vale"]!
                // Ada (hill) registers her laptop.
                let signers = TestDevices()
                let ada = ReplicaID.random()
                let adaKey = signers.key(of: ada).publicKey
                let first = try await DeviceRegistrationTests.register(url, token: hill, replica: ada, key: adaKey).registration()
                signers.registered(ada)
                let pinned = ServerKeyRing(pinned: first.serverKey)
                try first.certificate.verify(trusting: pinned)
                try first.directory.verify(trusting: pinned)
                #expect(first.certificate.memberName == "Leader at hill" && first.certificate.schoolName == "Hill School")
                // What the operator reads out is what the replica was told.
                let key = try await LiveAccounts.admin(["server-key"], store, as: KeyJSON.self)
                #expect(key.fingerprint == first.fingerprint && key.generation == 1 && key.retired.isEmpty)
                let text = try await Self.adminText(["server-key"], store)
                #expect(text.status == 0 && text.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == first.fingerprint, "\(text)")
                // Ben (vale) squats Ada's replica id: refused, nothing changed.
                try await DeviceRegistrationTests.register(url, token: vale, replica: ada, key: SigningKeyPair().publicKey)
                    .refusal(409, .replicaTaken)
                try await DeviceRegistrationTests.register(url, token: vale, replica: ada, key: adaKey).refusal(409, .replicaTaken)
                var devices = try await LiveAccounts.admin(["list-devices"], store, as: [DeviceJSON].self)
                #expect(devices.count == 1)
                #expect(devices.first?.replica == ada && devices.first?.fingerprint == adaKey.fingerprint)
                #expect(devices.first?.member == accounts.members["hill"] && devices.first?.memberName == "Leader at hill")
                #expect(devices.first?.tokenLabel == "test" && devices.first?.revokedAt == nil)
                // Ada pushes three changes to the shared space.
                var author = ChangeAuthor(space: accounts.sharedSpace, replica: ada)
                _ = try await postSignedSync(
                    url, token: hill, RouteHarness.push(author.creates(3), to: accounts.sharedSpace), devices: signers)

                // Rotation while the server runs: its next certificate is signed by the new key.
                let rotated = try await LiveAccounts.admin(["rotate-key"], store, as: RotatedJSON.self)
                #expect(rotated.previous == first.fingerprint && rotated.current != first.fingerprint)
                try rotated.endorsement.verify()
                #expect(rotated.endorsement.previousKey == first.serverKey)
                let followed = try pinned.adopting([rotated.endorsement])
                let ben = ReplicaID.random()
                let benKey = signers.key(of: ben).publicKey
                let later = try await DeviceRegistrationTests.register(url, token: vale, replica: ben, key: benKey).registration()
                signers.registered(ben)
                #expect(later.fingerprint == rotated.current && later.certificate.signer == later.serverKey)
                #expect(later.endorsements == [rotated.endorsement])
                // A replica pinned to the old key follows the endorsement; the old certificate stays valid.
                try later.certificate.verify(trusting: try pinned.adopting(later.endorsements))
                try later.directory.verify(trusting: followed)
                try first.certificate.verify(trusting: followed)
                #expect(throws: TrustError.self) { try later.certificate.verify(trusting: pinned) }
                let afterRotation = try await LiveAccounts.admin(["server-key"], store, as: KeyJSON.self)
                #expect(afterRotation.fingerprint == rotated.current && afterRotation.retired == [first.fingerprint])

                // Revoking Ada's token revokes her laptop, up to counter 3 of the shared space.
                let revoked = try await LiveAccounts.admin(
                    ["revoke-token", "--token-id", accounts.tokenIDs["hill"]!.uuidString], store, as: RevokedJSON.self)
                #expect(revoked.revoked == accounts.tokenIDs["hill"])
                #expect(revoked.devices.map(\.replica) == [ada])
                let revocation = try #require(revoked.devices.first)
                #expect(revocation.lastCounters == [accounts.sharedSpace: 3])
                try revocation.verify(trusting: followed)
                #expect(revocation.signer == later.serverKey)
                // Her laptop's later changes, signed, relayed by Ben (her token no longer works):
                // refused revoked_device by the running server, nothing stored; the earlier three
                // are still served, with the revocation.
                let afterRevocation = try await signers.signed(
                    RouteHarness.push(author.creates(1), to: accounts.sharedSpace), server: url, token: vale)
                let refusedLater = try await HostilePeerTests.post(url, token: vale, try encodeJSON(afterRevocation))
                try HostilePeerTests.expectRefused(refusedLater, 422, "invalid_changes", rejection: "revoked_device")
                let served = try await postSync(
                    url, token: vale, SyncRequest(replica: nil, spaces: [.init(space: accounts.sharedSpace, have: VersionVector())]))
                #expect(served.spaces.first?.serverHas.vector[ada] == 3)
                #expect(try served.spaces.first?.allChanges().filter { $0.replica == ada }.count == 3)
                #expect(served.spaces.first?.revocations.map(\.replica) == [ada])
                devices = try await LiveAccounts.admin(["list-devices"], store, as: [DeviceJSON].self)
                #expect(devices.first { $0.replica == ada }?.revokedAt != nil)
                #expect(devices.first { $0.replica == ben }?.revokedAt == nil)
                let listing = try await Self.adminText(["list-devices"], store)
                #expect(listing.stdout.contains("device \(ada)") && listing.stdout.contains("revoked"), "\(listing.stdout)")
                // The revoked token no longer authenticates; a new token cannot revive the device.
                try await DeviceRegistrationTests.register(url, token: hill, replica: ada, key: adaKey).refusal(401, .unauthorized)
                let issued = try await LiveAccounts.admin(
                    ["issue-token", "--member", accounts.members["hill"]!.uuidString, "--label", "new laptop"], store,
                    as: LiveAccounts.Issued.self)
                try await DeviceRegistrationTests.register(url, token: issued.token, replica: ada, key: adaKey)
                    .refusal(403, .revokedDevice)
                // Revoking it again: an error, exit non-zero.
                let again = try await Self.adminText(["revoke-token", "--token-id", accounts.tokenIDs["hill"]!.uuidString], store)
                #expect(again.status != 0 && again.stderr.contains("no active token"), "\(again)")
                // The text form says which devices were revoked up to which counters.
                var valeAuthor = ChangeAuthor(space: accounts.sharedSpace, replica: ben)
                _ = try await postSignedSync(
                    url, token: vale, RouteHarness.push(valeAuthor.creates(2), to: accounts.sharedSpace), devices: signers)
                let textRevoke = try await Self.adminText(["revoke-token", "--token-id", accounts.tokenIDs["vale"]!.uuidString], store)
                #expect(textRevoke.status == 0, "\(textRevoke)")
                #expect(
                    textRevoke.stdout.contains("revoked device \(ben): space \(accounts.sharedSpace) up to counter 2"),
                    "\(textRevoke.stdout)")
                servers[0].signal(SIGTERM)
                #expect(try await servers[0].waitForExit(timeout: .seconds(10)) == 0, "\(servers[0].log)")
                #expect(servers[0].log.contains(rotated.previous), "the server logs its key's fingerprint at start\n\(servers[0].log)")
            }
        } catch {
            await database?.drop()
            throw error
        }
        await database?.drop()
    }

    @Test("two server processes over one PostgreSQL database sign with the same key, and both switch after rotate-key")
    func twoServersOneKey() async throws {
        let directory = ServerTestDirectory()
        let database = try await PostgresTestDatabase.create()
        let store = ["--database", database.url]
        do {
            // The servers start together on an empty database: they create the key at once.
            try await withServers(2, store, directory) { servers in
                let accounts = try await LiveAccounts.create(store)
                var keys: [PublicSigningKey] = []
                for (index, server) in servers.enumerated() {
                    let answer = try await DeviceRegistrationTests.register(
                        server.url, token: accounts.tokens[index == 0 ? "hill" : "vale"]!, replica: .random(),
                        key: SigningKeyPair().publicKey
                    ).registration()
                    keys.append(answer.serverKey)
                }
                #expect(keys[0] == keys[1])
                let rotated = try await LiveAccounts.admin(["rotate-key"], store, as: RotatedJSON.self)
                for (index, server) in servers.enumerated() {
                    let answer = try await DeviceRegistrationTests.register(
                        server.url, token: accounts.tokens[index == 0 ? "vale" : "hill"]!, replica: .random(),
                        key: SigningKeyPair().publicKey
                    ).registration()
                    #expect(answer.serverKey == rotated.endorsement.newKey && answer.endorsements == [rotated.endorsement])
                }
            }
        } catch {
            await database.drop()
            throw error
        }
        await database.drop()
    }

    @Test(
        "SyncClient.registerDevice against the real server: pins the key admin server-key prints, survives a squatter, follows rotate-key, is refused once revoked"
    )
    func clientAgainstServer() async throws {
        let directory = ServerTestDirectory()
        let store = ["--data-dir", directory.path("data")]
        let accounts = try await LiveAccounts.create(store)
        try await withServers(1, store, directory) { servers in
            let url = servers[0].url
            let ada = try Replica(path: directory.path("ada.sqlite"))
            let client = SyncClient(configuration: .init(server: url, token: accounts.tokens["hill"]!))
            let first = try await client.registerDevice(ada)
            #expect(first.pinnedNow)
            let key = try await LiveAccounts.admin(["server-key"], store, as: KeyJSON.self)
            #expect(first.serverKey.fingerprint == key.fingerprint)
            #expect(try ada.deviceCertificate()?.memberName == "Leader at hill")
            #expect(
                try ada.spaceDirectory()?.entries.map(\.name).sorted() == [
                    "Hill School", "North Partnership", "Personal reflection (Leader at hill)",
                ])
            // Ben takes a shot at Ada's replica id: refused; Ada logs in again unharmed.
            try await DeviceRegistrationTests.register(
                url, token: accounts.tokens["vale"], replica: ada.id, key: SigningKeyPair().publicKey
            )
            .refusal(409, .replicaTaken)
            let again = try await client.registerDevice(ada)
            #expect(!again.pinnedNow && again.serverKey == first.serverKey)
            // The key is rotated under the running server: Ada's next login follows the endorsement.
            let rotated = try await LiveAccounts.admin(["rotate-key"], store, as: RotatedJSON.self)
            let followed = try await client.registerDevice(ada)
            #expect(!followed.pinnedNow && followed.serverKey.fingerprint == rotated.current)
            #expect(try ada.serverKeyRing()?.newestKey == rotated.endorsement.newKey)
            // Ada's token revoked, a new one issued: her device stays revoked.
            _ = try await LiveAccounts.admin(
                ["revoke-token", "--token-id", accounts.tokenIDs["hill"]!.uuidString], store, as: RevokedJSON.self)
            let issued = try await LiveAccounts.admin(
                ["issue-token", "--member", accounts.members["hill"]!.uuidString], store, as: LiveAccounts.Issued.self)
            let renewed = SyncClient(configuration: .init(server: url, token: issued.token))
            await #expect {
                try await renewed.registerDevice(ada)
            } throws: { error in
                guard let error = error as? SyncClientError, error.code == .revokedDevice else { return false }
                return error.replica == ada.id
            }
            // And Ben's token cannot take Ada's id even now.
            try await DeviceRegistrationTests.register(url, token: accounts.tokens["vale"], replica: ada.id, key: ada.devicePublicKey)
                .refusal(409, .replicaTaken)
        }
    }
}
