import DialogueModel
import DialogueServer
import DialogueSync
import DialogueTestSupport
import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing

/// The server verifies every push (docs/TRUST.md, "Verification"; issue 12's attacks).
struct SignedPushTests {
    /// A push of `changes` with `heads` to the shared space.
    static func push(_ changes: [Change], heads: [ChainHead], space: SpaceID, binary: Bool = false) -> SyncRequest {
        var request = RouteHarness.push(changes, to: space)
        request.spaces[0] = .init(space: space, have: request.spaces[0].have.vector, changes: changes, heads: heads, binary: binary)
        return request
    }

    /// Expects a 422 invalid_changes naming `code`, and nothing stored.
    static func expectRefused(
        _ request: SyncRequest, token: String, code: RejectionCode, in h: RouteHarness, sourceLocation: SourceLocation = #_sourceLocation
    ) async throws {
        let before = try await h.held()
        let body = try expectRefusal(try await h.syncAsSent(request, token: token), 422, .invalidChanges, sourceLocation: sourceLocation)
        #expect(body.error.rejected?.map(\.code) == [code.rawValue], "\(body.error)", sourceLocation: sourceLocation)
        #expect(try await h.held() == before, sourceLocation: sourceLocation)
    }

    @Test(
        "squatting: Ben's token pushing a change as Ada's replica at her next counter is refused, nothing stored; Ada's own edit there is then accepted"
    )
    func squattingIsRefused() async throws {
        try await withRouteHarness { h in
            let space = h.accounts.partnership.sharedSpace
            var ada = ChangeAuthor(space: space)
            var adaSigner = ChangeSigner()
            _ = try await h.register(ada.replica, key: adaSigner.key, token: "hill-member")
            let first = ada.creates(2)
            #expect(try await h.syncAsSent(Self.push(first, heads: try adaSigner.sign(first), space: space)).status == .ok)

            // Ben writes Ada's next counter (a copy of her author, so the same counters).
            var ben = ada
            var benSigner = ChangeSigner()
            _ = try benSigner.sign(first)  // his own chain over her changes: the hashes match, the key does not
            let forged = ben.creates(1)
            try await Self.expectRefused(
                Self.push(forged, heads: try benSigner.sign(forged), space: space), token: "vale-member", code: .badSignature, in: h)
            // Without any head, and as a replica nobody registered: refused too.
            try await Self.expectRefused(Self.push(forged, heads: [], space: space), token: "vale-member", code: .badSignature, in: h)
            var stranger = ChangeAuthor(space: space)
            var strangerSigner = ChangeSigner()
            let unknown = stranger.creates(1)
            try await Self.expectRefused(
                Self.push(unknown, heads: try strangerSigner.sign(unknown), space: space), token: "vale-member", code: .unknownDevice,
                in: h)

            // Ada's own edit at that counter goes through (the issue's "sent 0" for ever).
            let own = ada.creates(1)
            #expect(own.map(\.id) == forged.map(\.id))
            let response = try await h.syncAsSent(Self.push(own, heads: try adaSigner.sign(own), space: space))
            #expect(response.status == .ok, "\(response.text)")
            #expect(try response.syncResponse().spaces.first?.accepted == 1)
            #expect(try await h.store.vector(of: space)[ada.replica] == 3)
        }
    }

    @Test("one byte altered in a change's content, its counter, or a head's signature: refused, nothing stored", arguments: [false, true])
    func alterationsAreRefused(binary: Bool) async throws {
        try await withRouteHarness { h in
            let space = h.accounts.partnership.sharedSpace
            var ada = ChangeAuthor(space: space)
            var signer = ChangeSigner()
            _ = try await h.register(ada.replica, key: signer.key, token: "hill-member")
            let changes = ada.creates(3)
            let heads = try signer.sign(changes)

            var content = changes
            content[1].operation = .create(kind: "sessioN", predecessors: [])
            try await Self.expectRefused(
                Self.push(content, heads: heads, space: space, binary: binary), token: "hill-member", code: .badSignature, in: h)

            var timestamp = changes
            timestamp[2].timestamp = HLCTimestamp(wallTime: changes[2].timestamp.wallTime ^ 1, logical: changes[2].timestamp.logical)
            try await Self.expectRefused(
                Self.push(timestamp, heads: heads, space: space, binary: binary), token: "hill-member", code: .badSignature, in: h)

            var counter = heads
            counter[0].counter = 2  // the head claims another counter than it signed
            try await Self.expectRefused(
                Self.push(Array(changes[..<2]), heads: counter, space: space, binary: binary), token: "hill-member", code: .badSignature,
                in: h)

            var signature = heads
            signature[0].signature[17] ^= 0x01
            try await Self.expectRefused(
                Self.push(changes, heads: signature, space: space, binary: binary), token: "hill-member", code: .badSignature, in: h)

            #expect(try await h.syncAsSent(Self.push(changes, heads: heads, space: space, binary: binary)).status == .ok)
        }
    }

    @Test("a run ending between signed heads is refused; the same run up to its head is accepted")
    func runEndingBetweenHeads() async throws {
        try await withRouteHarness { h in
            let space = h.accounts.partnership.sharedSpace
            var ada = ChangeAuthor(space: space)
            var signer = ChangeSigner()
            _ = try await h.register(ada.replica, key: signer.key, token: "hill-member")
            let first = ada.creates(2)
            let second = ada.creates(2)
            let heads = try signer.sign(first) + signer.sign(second)
            // Changes 1-3: the last one is past the head at 2 and short of the one at 4.
            try await Self.expectRefused(
                Self.push(first + second.prefix(1), heads: heads, space: space), token: "hill-member", code: .badSignature, in: h)
            #expect(try await h.syncAsSent(Self.push(first, heads: heads, space: space)).status == .ok)
            #expect(try await h.syncAsSent(Self.push(second, heads: heads, space: space)).status == .ok)
        }
    }

    @Test("a revoked device's later changes are refused; its earlier ones are kept and served with its revocation")
    func revokedDevice() async throws {
        try await withRouteHarness { h in
            let space = h.accounts.partnership.sharedSpace
            var ada = ChangeAuthor(space: space)
            var signer = ChangeSigner()
            _ = try await h.register(ada.replica, key: signer.key, token: "hill-member")
            let earlier = ada.creates(2)
            #expect(try await h.syncAsSent(Self.push(earlier, heads: try signer.sign(earlier), space: space)).status == .ok)
            let revoked = try #require(try await ServerAuthority(store: h.store).revokeToken(id: h.accounts.tokenIDs["hill-member"]!))
            #expect(revoked.revocations.first?.lastCounter(in: space) == 2)
            // Relayed by another member (the device's own token is revoked).
            let later = ada.creates(1)
            try await Self.expectRefused(
                Self.push(later, heads: try signer.sign(later), space: space), token: "vale-member", code: .revokedDevice, in: h)
            let pull = SyncRequest(replica: .random(), spaces: [.init(space: space, have: VersionVector())])
            let result = try #require(try await h.syncAsSent(pull, token: "vale-member").syncResponse().spaces.first)
            #expect(try result.allChanges() == earlier)
            #expect(result.revocations == revoked.revocations)
        }
    }

    @Test("a run relayed by another member's device (a bundle's contents) verifies the same way")
    func relayedRunVerifies() async throws {
        try await withRouteHarness { h in
            let space = h.accounts.partnership.sharedSpace
            var ada = ChangeAuthor(space: space)
            var signer = ChangeSigner()
            _ = try await h.register(ada.replica, key: signer.key, token: "hill-member")
            let changes = ada.creates(3)
            let heads = try signer.signEach(changes)
            let response = try await h.syncAsSent(Self.push(changes, heads: heads, space: space), token: "vale-member")
            #expect(response.status == .ok, "\(response.text)")
            #expect(try response.syncResponse().spaces.first?.accepted == 3)
        }
    }
}

/// The same verification over both stores (heads and positions in `chain_heads`).
struct SignedPushStoreTests {
    @Test(
        "both stores: a signed run is stored with its head and relayed; squatting and an unsigned run are refused, nothing stored",
        arguments: StoreKind.allCases)
    func verificationOnBothStores(_ kind: StoreKind) async throws {
        try await withFreshStore(kind) { fresh in
            let store = fresh.store
            let accounts = try await AccountFixture.make(store)
            let service = SyncService(store: store, logger: quietLogger("dialogue.test.signed"))
            func access(_ name: String) async throws -> SyncService.Access {
                let found = try #require(try await store.access(forTokenHash: Tokens.hash(accounts.tokens[name]!)))
                return SyncService.Access(member: found.member, spaces: found.spaces)
            }
            let space = accounts.partnership.sharedSpace
            var ada = ChangeAuthor(space: space)
            var signer = ChangeSigner()
            _ = try await RouteHarness.register(
                ada.replica, key: signer.key.publicKey, token: accounts.tokens["hill-member"]!, store: store)
            let first = ada.creates(2)
            let heads = try signer.sign(first)
            _ = try await service.sync(SignedPushTests.push(first, heads: heads, space: space, binary: true), access: access("hill-member"))
            #expect(try await store.latestChainHeads(in: space, of: [ada.replica])[ada.replica] == heads[0])

            var ben = ada
            var benSigner = ChangeSigner()
            _ = try benSigner.sign(first)
            let forged = ben.creates(1)
            for attempt in [try benSigner.sign(forged), []] {
                do {
                    _ = try await service.sync(SignedPushTests.push(forged, heads: attempt, space: space), access: access("vale-member"))
                    Issue.record("a forged push was accepted")
                } catch let failure as SyncService.Failure {
                    #expect(failure.status == 422 && failure.body.error.rejected?.map(\.code) == ["bad_signature"])
                }
            }
            #expect(try await store.vector(of: space)[ada.replica] == 2)

            let pulled = try await service.sync(
                SyncRequest(replica: .random(), spaces: [.init(space: space, have: VersionVector())]), access: access("vale-member"))
            #expect(try pulled.spaces[0].allChanges() == first)
            #expect(pulled.spaces[0].heads == heads)
            let own = ada.creates(1)
            let stored = try await service.sync(
                SignedPushTests.push(own, heads: try signer.sign(own), space: space), access: access("hill-member"))
            #expect(stored.spaces[0].accepted == 1)
            // The position is the last head of each author asked for; an author with no head has none.
            let nobody = ReplicaID.random()
            let latest = try await store.latestChainHeads(in: space, of: [ada.replica, nobody])
            #expect(latest[ada.replica]?.counter == 3 && latest[nobody] == nil && latest.count == 1)
        }
    }
}
