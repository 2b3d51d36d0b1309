import DialogueModel
import DialogueServer
import DialogueSync
import DialogueTestSupport
import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing

/// The server applying erasures (issue 13, item 1; docs/PRIVACY.md, "Erasure"): who may
/// erase, content withheld without an erasure refused, the stored changes rewritten
/// stripped so the words are gone from the store's files, a stale device's copy stripped
/// on arrival, and a fresh replica still verifying every chain.
struct ErasureServerTests {
    @Test(
        "a member's erasure of someone else's insight is 403 erasure_not_permitted, nothing stored; an admin's approved erasure is stored and the words are gone from every file of the store, the space's other words kept; a stale device's offline edit of the insight arrives stripped",
        arguments: StoreKind.allCases)
    func erasureReachesTheStoreFiles(kind: StoreKind) async throws {
        try await withRouteHarness(kind) { h in
            let space = h.accounts.partnership.sharedSpace
            var ada = ChangeAuthor(space: space)
            let (written, insight) = try ErasureScenario.insight(by: &ada, member: try await h.member("hill-member"))
            #expect(try await h.sync(RouteHarness.push(written, to: space)).status == .ok)
            // Ben (Vale) holds it and edits it offline; he will come back after the erasure.
            var ben = ChangeAuthor(space: space)
            try ben.receive(written)
            let staleWords = "Capybara-Ibis offline addition"
            let stale = try ben.document.editText(Insight.Field.text, of: insight, at: 0, insert: staleWords, by: ben.context())

            // A member may not erase someone else's insight (no approval).
            var mallory = ChangeAuthor(space: space)
            try mallory.receive(written)
            let refused = mallory.document.erase(Erasure(target: .entity(insight)), by: mallory.context())
            let before = try await h.held()
            let refusal = try expectRefusal(
                try await h.sync(RouteHarness.push([refused], to: space), token: "vale-member"), 403, .erasureNotPermitted)
            #expect(refusal.error.rejected?.map(\.code) == [RejectionCode.erasureNotPermitted.rawValue])
            #expect(refusal.error.rejected?.first?.id == refused.id)
            #expect(try await h.held() == before)

            #expect(try await ErasureScenario.files(of: h.fresh, holding: ErasureScenario.erasedWords) != [], "the search cannot fail")
            // An admin of the space erases it with the server's approval.
            var admin = ChangeAuthor(space: space)
            try admin.receive(written)
            try await h.register(admin.replica, token: "hill-admin")
            let approval = try await h.approval(.entity(insight), in: space, for: admin.replica)
            let erasure = admin.document.erase(Erasure(target: .entity(insight), approval: approval), by: admin.context())
            #expect(try await h.sync(RouteHarness.push([erasure], to: space), token: "hill-admin").status == .ok)
            #expect(try await h.store.vector(of: space)[admin.replica] == erasure.lastCounter)

            let textRun = try #require(written.last)
            let stored = try await h.store.storedChanges(
                in: space, replica: ada.replica, counters: textRun.id.counter...textRun.lastCounter)
            #expect(stored.count == 1 && stored.allSatisfy(\.isContentErased))
            #expect(stored.first?.contentHash == textRun.contentHash, "the kept hash, so the chain verifies")
            #expect(try await ErasureScenario.files(of: h.fresh, holding: ErasureScenario.erasedWords) == [])
            #expect(try await ErasureScenario.files(of: h.fresh, holding: ErasureScenario.keptWords) != [])

            // The stale device's edit, made before the erasure, is stored stripped.
            #expect(try await h.sync(RouteHarness.push(stale, to: space), token: "vale-member").status == .ok)
            let arrived = try await h.store.storedChanges(in: space, replica: ben.replica, counters: 1...stale[0].lastCounter)
            #expect(!arrived.isEmpty && arrived.allSatisfy(\.isContentErased))
            #expect(try await ErasureScenario.files(of: h.fresh, holding: staleWords) == [])
            #expect(try await ErasureScenario.files(of: h.fresh, holding: ErasureScenario.erasedWords) == [])
            #expect(try await ErasureScenario.files(of: h.fresh, holding: ErasureScenario.keptWords) != [])

            // Pulled from scratch, the space holds no erased words and its changes keep their ids.
            let pulled = try await h.sync(SyncRequest(replica: nil, spaces: [.init(space: space, have: VersionVector(), changes: [])]))
            let changes = try pulled.syncResponse().spaces[0].changes
            #expect(changes.count == written.count + 1 + stale.count)
            #expect(!String(decoding: pulled.bytes, as: UTF8.self).contains("Quokka"))
        }
    }

    @Test("the author erases her own insight without approval; an erasure of contributions without approval is refused")
    func authorErasesOwnInsight() async throws {
        try await withRouteHarness { h in
            let space = h.accounts.partnership.sharedSpace
            var ada = ChangeAuthor(space: space)
            let (written, insight) = try ErasureScenario.insight(by: &ada, member: try await h.member("hill-member"))
            // Written and erased in one push: the insight is hers once the push is applied.
            let own = ada.document.erase(Erasure(target: .entity(insight)), by: ada.context())
            #expect(try await h.sync(RouteHarness.push(written + [own], to: space)).status == .ok)
            #expect(try await ErasureScenario.files(of: h.fresh, holding: ErasureScenario.erasedWords) == [])
            let contributions = ada.document.erase(
                Erasure(target: .contributions(member: try await h.member("vale-member"), replicas: [.random()])), by: ada.context())
            try expectRefusal(try await h.sync(RouteHarness.push([contributions], to: space)), 403, .erasureNotPermitted)
        }
    }

    @Test(
        "a relay pushing another device's changes stripped with no erasure covering them is refused erasure_not_permitted, nothing stored (decision 1)",
        arguments: StoreKind.allCases)
    func withheldContentIsRefused(kind: StoreKind) async throws {
        try await withRouteHarness(kind) { h in
            let space = h.accounts.partnership.sharedSpace
            var ada = ChangeAuthor(space: space)
            let (written, _) = try ErasureScenario.insight(by: &ada, member: try await h.member("hill-member"))
            try await h.register(ada.replica, token: "hill-member")
            // Ben relays Ada's changes (from her bundle) with her words dropped: her chain still verifies.
            var withheld = RouteHarness.push(written.map { $0.erasingContent() }, to: space)
            withheld.spaces[0].heads = try h.devices.heads(for: written)
            let before = try await h.held()
            let refusal = try expectRefusal(try await h.syncAsSent(withheld, token: "vale-member"), 403, .erasureNotPermitted)
            #expect(refusal.error.message.contains("withheld"), "\(refusal.error.message)")
            #expect(Set(refusal.error.rejected?.map(\.code) ?? []) == [RejectionCode.erasureNotPermitted.rawValue])
            #expect(try await h.held() == before)
            // Relayed whole, they are stored.
            var whole = RouteHarness.push(written, to: space)
            whole.spaces[0].heads = withheld.spaces[0].heads
            #expect(try await h.syncAsSent(whole, token: "vale-member").status == .ok)
        }
    }

    @Test(
        "after an erasure a fresh replica pulls the space through the server: every chain verifies and it converges with the erasing replica",
        arguments: StoreKind.allCases)
    func freshReplicaVerifiesAfterErasure(kind: StoreKind) async throws {
        try await withFreshStore(kind) { fresh in
            let store = fresh.store
            let accounts = try await AccountFixture.make(store)
            let space = accounts.partnership.sharedSpace
            // Another server process over the same store takes the pushes.
            let writer = SyncService(store: store, logger: quietLogger("dialogue.test.erasure-writer"))
            let devices = TestDevices()
            @Sendable func push(_ changes: [Change], _ token: String) async throws {
                let raw = accounts.tokens[token]!
                let access = try #require(try await store.access(forTokenHash: Tokens.hash(raw)))
                let request = try await devices.signed(RouteHarness.push(changes, to: space), token: raw, store: store)
                _ = try await writer.sync(request, access: SyncService.Access(member: access.member, spaces: access.spaces))
            }
            let adaMember = try #require(try await store.token(forTokenHash: Tokens.hash(accounts.tokens["hill-member"]!))).member.id
            var ada = ChangeAuthor(space: space)
            let (written, insight) = try ErasureScenario.insight(by: &ada, member: adaMember)
            try await push(written, "hill-member")
            try await withLiveServer(store: store) { url in
                // The live server caches the space before the erasure.
                let early = try Replica(path: fresh.directory.path("early.sqlite"))
                try await early.addSpace(space)
                let earlyClient = SyncClient(configuration: .init(server: url, token: accounts.tokens["vale-member"]!))
                _ = try await earlyClient.registerDevice(early)
                try await earlyClient.sync(early, spaces: [space])

                var admin = ChangeAuthor(space: space)
                try admin.receive(written)
                let adminKey = devices.key(of: admin.replica)
                _ = try await RouteHarness.register(
                    admin.replica, key: adminKey.publicKey, token: accounts.tokens["hill-admin"]!, store: store)
                devices.registered(admin.replica)
                let approval = try await ServerAuthority(store: store).approveErasure(
                    space: space, replica: admin.replica, target: .entity(insight))
                let erasure = admin.document.erase(Erasure(target: .entity(insight), approval: approval), by: admin.context())
                try await push([erasure], "hill-admin")

                // What the erasing replica holds: its log stripped, its document rebuilt from it.
                var erasing = admin.document
                let log = erasing.strippingErased(written + [erasure]).changes
                let expected = try erasing.rebuilt(from: log)

                let replica = try Replica(path: fresh.directory.path("fresh.sqlite"))
                try await replica.addSpace(space)
                let client = SyncClient(configuration: .init(server: url, token: accounts.tokens["hill-member"]!))
                _ = try await client.registerDevice(replica)
                try await client.sync(replica, spaces: [space])  // merges only what verifies
                #expect(try #require(await replica.document(space)).canonicalExport() == expected.canonicalExport())

                // Every chain the server answers verifies over the stripped changes, under its key.
                let ring = try await ServerAuthority(store: store).keys().ring
                let answer = try await writer.sync(
                    SyncRequest(replica: nil, spaces: [.init(space: space, have: VersionVector(), changes: [])]),
                    access: SyncService.Access(
                        member: try #require(try await store.member(forTokenHash: Tokens.hash(accounts.tokens["hill-member"]!))),
                        spaces: [space]))
                let section = answer.spaces[0]
                #expect(section.changes.contains { $0.isContentErased })
                var verifier = ChainVerifier(ring: ring)
                for author in Set(section.changes.map(\.replica)) {
                    let run = section.changes.filter { $0.replica == author }
                    let certificate = section.certificates.first { $0.replica == author }
                    let chain = try verifier.verify(
                        run, extending: DeviceChain(space: space, replica: author), heads: section.heads, certificate: certificate,
                        revocation: nil)
                    #expect(chain.counter == run.last?.lastCounter)
                }

                // The replica that held the words before syncs again and converges too.
                try await earlyClient.sync(early, spaces: [space])
                #expect(try #require(await early.document(space)).isErased(insight))
            }
        }
    }
}
