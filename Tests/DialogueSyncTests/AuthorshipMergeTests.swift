import DialogueModel
import DialogueTestSupport
import Foundation
import Testing

@testable import DialogueSync

/// A replica's verified merge (sync, bundle import, relay) applies the authorship rule:
/// an insight signed by Ben's certified device but authored as Ada is refused
/// `author_mismatch`, nothing stored; so is Ben's device re-attributing Ada's insight.
struct AuthorshipMergeTests {
    let space = SpaceID(UUID())

    @Test("a signed insight authored as another member, or re-attributed by another device, is refused author_mismatch at merge")
    func forgedAuthorRefusedAtMerge() async throws {
        let directory = TemporaryDirectory()
        var network = SignedNetwork()
        let ada = try Replica(path: directory.path("ada.sqlite"))
        let ben = try Replica(path: directory.path("ben.sqlite"))
        let (adaMember, benMember) = (EntityID(UUID()), EntityID(UUID()))
        try await network.login(ada, member: adaMember)
        try await network.login(ben, member: benMember)
        for replica in [ada, ben] { try await replica.addSpace(space) }

        // Ben's own device signs an insight authored as Ada (what `--author <Ada>` would send).
        var document = SpaceDocument(space: space)
        let insight = EntityID(UUID())
        let context = { (n: UInt64) in EditContext(replica: ben.id, timestamp: HLCTimestamp(wallTime: n)) }
        let forged = [
            document.create(insight, kind: EntityKind.insight.rawValue, by: context(1)),
            document.set(Insight.Field.author, of: insight, to: .reference(adaMember), by: context(2)),
        ]
        var signer = ChangeSigner(key: ben.deviceKey)
        let heads = try signer.sign(forged)
        let before = try ada.heldVectors()
        do {
            try await ada.merge(SignedChanges(changes: forged, heads: heads), evidence: network.evidence)
            Issue.record("a forged author was merged")
        } catch {
            #expect(error.trustCode == "author_mismatch", "\(error)")
        }
        #expect(try ada.heldVectors() == before)

        // Ada captures an insight; Ben's device, having received it, claims it for Ben.
        let captured = try await ada.edit(in: space) { editor in
            try editor.captureInsight(in: try editor.createSession(title: "Visit"), text: "Questions first")
        }
        try await signedSync(space, from: ada, to: ben, evidence: network.evidence)
        var benDocument = try #require(await ben.document(space))
        let claim = benDocument.set(Insight.Field.author, of: captured, to: .reference(benMember), by: context(10))
        var benSigner = ChangeSigner(key: ben.deviceKey)
        let claimHeads = try benSigner.sign([claim])
        do {
            try await ada.merge(SignedChanges(changes: [claim], heads: claimHeads), evidence: network.evidence)
            Issue.record("a re-attribution was merged")
        } catch {
            #expect(error.trustCode == "author_mismatch", "\(error)")
        }
    }
}
