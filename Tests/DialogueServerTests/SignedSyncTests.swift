import DialogueModel
import DialogueServer
import DialogueSync
import DialogueTestSupport
import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing

/// Protocol 2 at the server: heads stored and relayed, pages cut at signed heads, the
/// statements a replica needs to verify a page (docs/PROTOCOL.md, docs/TRUST.md).
struct SignedSyncTests {
    @Test("a protocol-1 request is 422 unsupported_protocol, telling the user to upgrade dialogue-client, and stores nothing")
    func protocolOneIsRefused() async throws {
        try await withRouteHarness { h in
            let space = h.accounts.partnership.sharedSpace
            var author = ChangeAuthor(space: space)
            var request = RouteHarness.push(author.creates(2), to: space)
            request.protocol = 1
            let before = try await h.held()
            let body = try expectRefusal(try await h.syncAsSent(request), 422, .unsupportedProtocol)
            #expect(body.error.message.contains("Upgrade dialogue-client (or the app)"))
            #expect(try await h.held() == before)
            // Even a protocol-1 body that protocol 2 could not read gets the upgrade message.
            let raw = try expectRefusal(try await h.post(Array(#"{"protocol": 1, "spaces": "old"}"#.utf8)), 422, .unsupportedProtocol)
            #expect(raw.error.message.contains("Upgrade dialogue-client"))
        }
    }

    @Test(
        "pushed heads are stored and relayed with the page, with the author's certificate, the directory and endorsements",
        arguments: [false, true])
    func headsAreRelayed(binary: Bool) async throws {
        try await withRouteHarness { h in
            let space = h.accounts.partnership.sharedSpace
            var author = ChangeAuthor(space: space)
            var signer = ChangeSigner()
            let registration = try await h.register(author.replica, key: signer.key, token: "hill-member")
            let first = author.creates(3)
            let second = author.creates(2)
            let heads = try signer.sign(first) + signer.sign(second)
            var request = RouteHarness.push(first + second, to: space)
            request.spaces[0] = .init(
                space: space, have: request.spaces[0].have.vector, changes: first + second, heads: heads, binary: binary)
            let pushed = try await h.syncAsSent(request)
            #expect(pushed.status == .ok, "\(pushed.text)")
            #expect(try await h.store.chainHeads(in: space, covering: [author.replica: 1...5]) == heads)

            // Vale's member pulls everything: the changes, their heads, Ada's certificate.
            let pull = SyncRequest(replica: .random(), spaces: [.init(space: space, have: VersionVector(), binary: binary)], binary: binary)
            let response = try await h.syncAsSent(pull, token: "vale-member").syncResponse()
            let result = try #require(response.spaces.first)
            #expect(try result.allChanges() == first + second)
            #expect(try result.allHeads() == heads)
            #expect(binary == (result.headsBinary != nil))
            #expect(result.certificates == [registration.certificate])
            #expect(result.revocations.isEmpty)
            let ring = ServerKeyRing(pinned: registration.serverKey)
            let directory = try #require(response.directory)
            try directory.verify(trusting: ring)
            #expect(directory.entries.map(\.space).contains(h.accounts.vale.privateSpace))
            #expect(response.endorsements.isEmpty)
            // The page verifies, as a replica would verify it.
            var verifier = ChainVerifier(ring: ring)
            let chain = try verifier.verify(
                try result.allChanges(), extending: DeviceChain(space: space, replica: author.replica), heads: try result.allHeads(),
                certificate: result.certificates.first, revocation: nil)
            #expect(chain.counter == 5)
        }
    }

    @Test("a page runs over its limit to end at a signed head of each author, and carries only the heads it reaches")
    func pagesEndAtSignedHeads() async throws {
        try await withRouteHarness { h in
            let space = h.accounts.partnership.sharedSpace
            var author = ChangeAuthor(space: space)
            var signer = ChangeSigner()
            _ = try await h.register(author.replica, key: signer.key, token: "hill-member")
            let run1 = author.creates(5)  // one transaction of five changes
            let run2 = author.creates(3)
            let heads = try signer.sign(run1) + signer.sign(run2)
            for (run, head) in [(run1, heads[0]), (run2, heads[1])] {
                var request = RouteHarness.push(run, to: space)
                request.spaces[0].heads = [head]
                #expect(try await h.syncAsSent(request).status == .ok)
            }
            var have = VersionVector()
            var pages: [[Change]] = []
            var after: Int64 = 0
            for _ in 0..<5 {
                let request = SyncRequest(replica: .random(), spaces: [.init(space: space, have: have, after: after)], limit: 2)
                let result = try #require(try await h.syncAsSent(request, token: "vale-member").syncResponse().spaces.first)
                let changes = try result.allChanges()
                pages.append(changes)
                // Every page ends at a head, and carries it.
                if let last = changes.last {
                    #expect(result.heads.map(\.counter) == [last.lastCounter])
                }
                for change in changes { have.record(Dot(change.replica, change.lastCounter)) }
                after = result.cursor
                if !result.more { break }
            }
            #expect(pages.map(\.count) == [5, 3])
        }
    }
}
