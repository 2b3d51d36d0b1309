import DialogueModel
import DialogueServer
import DialogueSync
import DialogueTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import Testing

/// A sync answer carries only the certificates the replica lacks (it lists those it holds,
/// `certified`), and always the revocations of the devices whose changes it holds or
/// receives; the server decodes each certificate once, and reads revocations fresh
/// (docs/TRUST.md, "Costs"; docs/PROTOCOL.md).
struct CertificateDeliveryTests {
    @Test(
        "a certificate listed as held at its issuedAt (or later) is left out of the answer; unlisted or listed older, it comes",
        arguments: [false, true])
    func heldCertificatesAreNotSentAgain(binary: Bool) async throws {
        try await withRouteHarness { h in
            let space = h.accounts.partnership.sharedSpace
            var ada = ChangeAuthor(space: space)
            var signer = ChangeSigner()
            let registration = try await h.register(ada.replica, key: signer.key, token: "hill-member")
            let changes = ada.creates(3)
            var push = RouteHarness.push(changes, to: space)
            push.spaces[0].heads = try signer.sign(changes)
            #expect(try await h.syncAsSent(push).status == .ok)
            let issuedAt = registration.certificate.issuedAt
            func pull(_ certified: [ReplicaID: Int64]) async throws -> SyncResponse.SpaceResult {
                let request = SyncRequest(
                    replica: .random(), spaces: [.init(space: space, have: VersionVector(), binary: binary, certified: certified)],
                    binary: binary)
                // The list travels in the form the request uses, and reads back the same.
                let body = String(decoding: try encodeJSON(request), as: UTF8.self)
                if !certified.isEmpty { #expect(body.contains(binary ? #""certifiedBinary""# : #""certified""#), "\(body)") }
                #expect(try JSONDecoder().decode(SyncRequest.self, from: Data(body.utf8)).spaces[0].certified == certified)
                return try #require(try await h.syncAsSent(request, token: "vale-member").syncResponse().spaces.first)
            }
            #expect(try await pull([:]).certificates == [registration.certificate])
            #expect(try await pull([ada.replica: issuedAt - 1]).certificates == [registration.certificate])
            #expect(try await pull([ReplicaID.random(): issuedAt]).certificates == [registration.certificate])
            for held in [issuedAt, issuedAt + 1] {
                let result = try await pull([ada.replica: held])
                #expect(result.certificates.isEmpty)
                #expect(try result.allChanges() == changes)
                // The page verifies with the certificate the replica holds.
                var verifier = ChainVerifier(ring: ServerKeyRing(pinned: registration.serverKey))
                let chain = try verifier.verify(
                    try result.allChanges(), extending: DeviceChain(space: space, replica: ada.replica), heads: try result.allHeads(),
                    certificate: registration.certificate, revocation: nil)
                #expect(chain.counter == 3)
            }
        }
    }

    @Test("a revocation reaches a replica holding the revoked device's changes, whatever it lists, though the page has none of them")
    func revocationsAlwaysArrive() async throws {
        try await withRouteHarness { h in
            let space = h.accounts.partnership.sharedSpace
            var ada = ChangeAuthor(space: space)
            var signer = ChangeSigner()
            let registration = try await h.register(ada.replica, key: signer.key, token: "hill-member")
            let changes = ada.creates(2)
            var push = RouteHarness.push(changes, to: space)
            push.spaces[0].heads = try signer.sign(changes)
            #expect(try await h.syncAsSent(push).status == .ok)
            let revoked = try #require(try await ServerAuthority(store: h.store).revokeToken(id: h.accounts.tokenIDs["hill-member"]!))
            // Vale's replica holds both changes and Ada's certificate: nothing new to pull.
            var have = VersionVector()
            for change in changes { have.record(Dot(change.replica, change.lastCounter)) }
            for binary in [false, true] {
                let request = SyncRequest(
                    replica: .random(),
                    spaces: [.init(space: space, have: have, binary: binary, certified: [ada.replica: registration.certificate.issuedAt])],
                    binary: binary)
                let result = try #require(try await h.syncAsSent(request, token: "vale-member").syncResponse().spaces.first)
                #expect(try result.allChanges().isEmpty)
                #expect(result.certificates.isEmpty)
                #expect(result.revocations == revoked.revocations)
            }
        }
    }
}

/// The server's certificate cache over both stores.
struct CertificateCacheStoreTests {
    @Test(
        "both stores: a certificate is read from the store once; a revocation made through the store (as admin revoke-token does, another process) takes effect at the next push",
        arguments: StoreKind.allCases)
    func revocationIsNeverStale(_ kind: StoreKind) async throws {
        try await withFreshStore(kind) { fresh in
            let store = fresh.store
            let accounts = try await AccountFixture.make(store)
            let service = SyncService(store: store, logger: quietLogger("dialogue.test.certificates"))
            func access(_ name: String) async throws -> SyncService.Access {
                let found = try #require(try await store.access(forTokenHash: Tokens.hash(accounts.tokens[name]!)))
                return SyncService.Access(member: found.member, spaces: found.spaces)
            }
            let space = accounts.partnership.sharedSpace
            var ada = ChangeAuthor(space: space)
            var signer = ChangeSigner()
            _ = try await RouteHarness.register(
                ada.replica, key: signer.key.publicKey, token: accounts.tokens["hill-member"]!, store: store)
            for _ in 0..<3 {
                let run = ada.creates(1)
                _ = try await service.sync(
                    SignedPushTests.push(run, heads: try signer.sign(run), space: space), access: access("hill-member"))
            }
            for _ in 0..<2 {
                let pull = SyncRequest(replica: .random(), spaces: [.init(space: space, have: VersionVector())])
                let result = try #require(try await service.sync(pull, access: access("vale-member")).spaces.first)
                #expect(result.certificates.map(\.replica) == [ada.replica])
            }
            #expect(service.certificateReads == 1)

            // Revoked through the store, not through this service: its cache is not told.
            let revoked = try #require(try await ServerAuthority(store: store).revokeToken(id: accounts.tokenIDs["hill-member"]!))
            let later = ada.creates(1)
            do {
                _ = try await service.sync(
                    SignedPushTests.push(later, heads: try signer.sign(later), space: space), access: access("vale-member"))
                Issue.record("a revoked device's change was accepted from a stale cache")
            } catch let failure as SyncService.Failure {
                #expect(failure.body.error.rejected?.map(\.code) == [RejectionCode.revokedDevice.rawValue])
            }
            #expect(try await store.vector(of: space)[ada.replica] == 3)
            let pull = SyncRequest(replica: .random(), spaces: [.init(space: space, have: VersionVector())])
            let result = try #require(try await service.sync(pull, access: access("vale-member")).spaces.first)
            #expect(result.revocations == revoked.revocations)
        }
    }
}

extension CertificateCacheStoreTests {
    @Test(
        "both stores: an answer's directory is signed once and reused while the member's spaces and the server's key stay; a new partnership or a rotation gets a fresh one",
        arguments: StoreKind.allCases)
    func directoryFollowsSpacesAndKey(_ kind: StoreKind) async throws {
        try await withFreshStore(kind) { fresh in
            let store = fresh.store
            let accounts = try await AccountFixture.make(store)
            let service = SyncService(store: store, logger: quietLogger("dialogue.test.directory"))
            let found = try #require(try await store.access(forTokenHash: Tokens.hash(accounts.tokens["hill-member"]!)))
            let access = SyncService.Access(member: found.member, spaces: found.spaces)
            func directory() async throws -> SpaceDirectory {
                let pull = SyncRequest(replica: .random(), spaces: [.init(space: accounts.partnership.sharedSpace, have: VersionVector())])
                return try #require(try await service.sync(pull, access: access).directory)
            }
            let first = try await directory()
            #expect(try await directory() == first)  // the same signed statement, not signed again

            let other = try await store.createPartnership(name: "South Partnership")
            try await store.addSchool(accounts.hill.id, toPartnership: other.id)
            let widened = try await directory()
            #expect(widened.entry(for: other.sharedSpace)?.name == "South Partnership")
            #expect(widened.signer == first.signer)

            let endorsement = try await ServerAuthority(store: store).rotateKey()
            let rotated = try await directory()
            #expect(rotated.signer == endorsement.newKey)
            try rotated.verify(trusting: try ServerKeyRing(pinned: first.signer, endorsements: [endorsement]))
        }
    }
}

/// `SyncClient`'s side: it lists the certificates it holds of the devices whose changes it holds.
struct CertificateDeliveryClientTests {
    @Test("a fresh replica gets every certificate it needs and verifies everything; its next sync is sent none of them again")
    func clientListsHeldCertificates() async throws {
        let directory = ServerTestDirectory()
        let store = try SQLiteSyncStore(path: directory.path("server.sqlite"))
        let accounts = try await AccountFixture.make(store)
        let space = accounts.partnership.sharedSpace
        let service = SyncService(store: store, logger: quietLogger("dialogue.test.certificates"))
        try await withLiveService(service) { url in
            let hill = try await SyncClientTests.replica(directory, "hill.sqlite", space: space, sessions: 3)
            let hillClient = SyncClient(configuration: .init(server: url, token: accounts.tokens["hill-member"]!))
            _ = try await hillClient.registerDevice(hill)
            try await hillClient.sync(hill)

            let vale = try Replica(path: directory.path("vale.sqlite"))
            try await vale.addSpace(space)
            let valeClient = SyncClient(configuration: .init(server: url, token: accounts.tokens["vale-member"]!))
            _ = try await valeClient.registerDevice(vale)
            let before = service.certificatesSent
            let first = try await valeClient.sync(vale)
            #expect(first.pulled == 9)
            #expect(service.certificatesSent - before == 1)
            #expect(try vale.certificate(of: hill.id) != nil)

            try await hill.edit(in: space) { editor in _ = try editor.createSession(title: "Later") }
            try await hillClient.sync(hill)
            let again = service.certificatesSent
            let second = try await valeClient.sync(vale)
            #expect(second.pulled == 3)
            #expect(service.certificatesSent == again, "a certificate the replica holds was sent again")
            #expect(try vale.heldVectors()[space] == hill.heldVectors()[space])
        }
        try await store.close()
    }
}

/// Serves `service` on an ephemeral port of 127.0.0.1 for the length of `body`.
func withLiveService<T: Sendable>(_ service: SyncService, _ body: @escaping @Sendable (URL) async throws -> T) async throws -> T {
    let logger = quietLogger("dialogue.server.test")
    let server = SyncServer(service: service, metrics: nil, logger: logger)
    let app = Application(router: server.router(), configuration: .init(address: .hostname("127.0.0.1", port: 0)), logger: logger)
    return try await app.test(.live) { client in
        try await body(URL(string: "http://127.0.0.1:\(client.port!)")!)
    }
}
