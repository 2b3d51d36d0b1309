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

/// Regression (found reviewing issue 12): authorship followed the *standing* creation of an
/// entity, so a partner's device that deleted Ada's insight and created it again under the
/// same id (through the ordinary editor) became its creator: the insight, Ada's words,
/// showed "by Ben", and Ben's device could then set its author field to Ben. A forged
/// creation with an earlier timestamp did the same. Authorship now follows the entity's
/// original creations (those that overwrote none), which a re-creation never changes.
struct RecreationAuthorshipTests {
    let space = SpaceID(UUID())

    /// Ada's and Ben's logged-in replicas holding the space, and an insight Ada captured.
    struct Partners {
        let directory = TemporaryDirectory()
        var network = SignedNetwork()
        let ada: Replica
        let ben: Replica
        let adaMember = EntityID(UUID())
        let benMember = EntityID(UUID())
        var insight = EntityID(UUID())

        init(space: SpaceID) async throws {
            ada = try Replica(path: directory.path("ada.sqlite"))
            ben = try Replica(path: directory.path("ben.sqlite"))
            try await network.login(ada, member: adaMember)
            try await network.login(ben, member: benMember)
            for replica in [ada, ben] { try await replica.addSpace(space) }
            insight = try await ada.edit(in: space) { editor in
                try editor.captureInsight(in: try editor.createSession(title: "Visit"), text: "Questions first")
            }
        }
    }

    @Test("a partner's delete and re-create of Ada's insight does not make it theirs; setting its author after is author_mismatch")
    func recreationKeepsTheOriginalAuthor() async throws {
        let partners = try await Partners(space: space)
        let (ada, ben, adaMember, benMember, insight, network) = (
            partners.ada, partners.ben, partners.adaMember, partners.benMember, partners.insight, partners.network
        )
        try await signedSync(space, from: ada, to: ben, evidence: network.evidence)

        // Ben's device, through the ordinary editor: delete, create again under Ada's id.
        try await ben.edit(in: space) { editor in
            try editor.delete(insight)
            try editor.create(.insight, id: insight)
        }
        #expect(await ben.creator(of: insight) == ada.id, "the re-creation took the insight's authorship")
        try await signedSync(space, from: ben, to: ada, evidence: network.evidence)
        #expect(await ada.creator(of: insight) == ada.id)
        #expect(try await ada.author(ofEntity: insight)?.member?.id == adaMember)

    }

    @Test("a run that deletes, re-creates and then claims Ada's insight (author = Ben) is author_mismatch at merge")
    func recreateThenClaimIsRefused() async throws {
        let partners = try await Partners(space: space)
        let (ada, ben, adaMember, benMember, insight, network) = (
            partners.ada, partners.ben, partners.adaMember, partners.benMember, partners.insight, partners.network
        )
        try await signedSync(space, from: ada, to: ben, evidence: network.evidence)
        // Ben's device signs, in one run: delete, create again (naming Ada's creation, as the
        // editor does), set the author to Ben. The re-creation made it "a creator" before.
        var document = try #require(await ben.document(space))
        let now = UInt64(Date().timeIntervalSince1970 * 1000)
        let context = { (n: UInt64) in EditContext(replica: ben.id, timestamp: HLCTimestamp(wallTime: now + n)) }
        let run = [
            document.delete(insight, by: context(1)),
            document.create(insight, kind: EntityKind.insight.rawValue, by: context(2)),
            document.set(Insight.Field.author, of: insight, to: .reference(benMember), by: context(3)),
        ]
        #expect(run[1].operation != .create(kind: EntityKind.insight.rawValue, predecessors: []), "a re-creation names what it overwrites")
        var signer = ChangeSigner(key: ben.deviceKey)
        let heads = try signer.sign(run)
        let before = try ada.heldVectors()
        do {
            try await ada.merge(SignedChanges(changes: run, heads: heads), evidence: network.evidence)
            Issue.record("a re-creator's author claim was merged")
        } catch {
            #expect(error.trustCode == "author_mismatch", "\(error)")
        }
        #expect(try ada.heldVectors() == before)
        #expect(await ada.creator(of: insight) == ada.id)
    }

    @Test("a forged second creation (no predecessors, an earlier timestamp) makes the authorship disputed, never the forger's")
    func forgedEarlierCreationIsDisputed() async throws {
        let partners = try await Partners(space: space)
        let (ada, ben, adaMember, benMember, insight, network) = (
            partners.ada, partners.ben, partners.adaMember, partners.benMember, partners.insight, partners.network
        )
        // Ben's device signs a creation of the same id that overwrote nothing, dated 1970.
        let forged = Change(
            id: Dot(ben.id, 1), timestamp: HLCTimestamp(wallTime: 1), space: space, entity: insight,
            field: "", dependencies: [], operation: .create(kind: EntityKind.insight.rawValue, predecessors: []))
        var signer = ChangeSigner(key: ben.deviceKey)
        try await ada.merge(SignedChanges(changes: [forged], heads: try signer.sign([forged])), evidence: network.evidence)
        #expect(await ada.creator(of: insight) == nil, "a disputed insight has no single creator")
        #expect(await ada.originalCreators(of: insight) == [ada.id, ben.id].sorted())
        #expect(try await ada.author(ofEntity: insight) == nil)
        let authorship = await ada.authorship(ofEntity: insight, names: try ada.authorNames())
        guard case .disputed(let claimants) = authorship else {
            Issue.record("not disputed: \(String(describing: authorship))")
            return
        }
        #expect(Set(claimants.compactMap(\.member?.id)) == [adaMember, benMember])
        #expect(authorship?.description.hasPrefix("disputed: ") == true)
    }
}
