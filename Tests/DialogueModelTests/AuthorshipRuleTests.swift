import DialogueModel
import Foundation
import Testing

/// The pure rule (docs/TRUST.md, "Authorship"): a writer field names the certified member,
/// and only the entity's creator writes it.
struct AuthorshipRuleTests {
    let space = SpaceID(UUID())
    let ada = UUID()
    let ben = UUID()

    func capture(_ document: inout SpaceDocument, by replica: ReplicaID, author: UUID) -> [Change] {
        let insight = EntityID(UUID())
        let create = document.create(
            insight, kind: EntityKind.insight.rawValue, by: EditContext(replica: replica, timestamp: HLCTimestamp(wallTime: 1)))
        let set = document.set(
            Insight.Field.author, of: insight, to: .reference(EntityID(author)),
            by: EditContext(replica: replica, timestamp: HLCTimestamp(wallTime: 2)))
        return [create, set]
    }

    @Test("the certified member as author passes; anyone else is author_mismatch naming the change")
    func claimedAuthor() throws {
        var document = SpaceDocument(space: space)
        let device = ReplicaID.random()
        try AuthorshipRule.check(capture(&document, by: device, author: ada), member: ada) { _ in nil }
        var other = SpaceDocument(space: space)
        let forged = capture(&other, by: device, author: ben)
        #expect(throws: TrustError.authorMismatch(forged[1].id, claimed: ben, certified: ada)) {
            try AuthorshipRule.check(forged, member: ada) { _ in nil }
        }
        #expect(TrustError.authorMismatch(forged[1].id, claimed: ben, certified: ada).code == "author_mismatch")
    }

    @Test("re-attribution: a device that did not create the insight, or one whose creation is not held, is author_mismatch")
    func reattribution() throws {
        var document = SpaceDocument(space: space)
        let adaDevice = ReplicaID.random()
        let benDevice = ReplicaID.random()
        let captured = capture(&document, by: adaDevice, author: ada)
        let claim = document.set(
            Insight.Field.author, of: captured[0].entity, to: .reference(EntityID(ben)),
            by: EditContext(replica: benDevice, timestamp: HLCTimestamp(wallTime: 3)))
        let error = #expect(throws: TrustError.self) {
            try AuthorshipRule.check([claim], member: ben) { document.authorshipOrigin(of: $0) }
        }
        #expect(error == .reattributed(claim.id, entity: captured[0].entity, creators: [adaDevice]))
        #expect(error?.code == "author_mismatch")
        #expect(throws: TrustError.self) { try AuthorshipRule.check([claim], member: ben) { _ in nil } }
        // Ada's device re-setting its own insight's author to its member: fine.
        let again = document.set(
            Insight.Field.author, of: captured[0].entity, to: .reference(EntityID(ada)),
            by: EditContext(replica: adaDevice, timestamp: HLCTimestamp(wallTime: 4)))
        try AuthorshipRule.check([again], member: ada) { document.authorshipOrigin(of: $0) }
        // A field called "author" of another kind (a session has none: not a writer field) is not checked here.
        var sessions = SpaceDocument(space: space)
        let session = sessions.create(
            EntityID(UUID()), kind: EntityKind.session.rawValue, by: EditContext(replica: benDevice, timestamp: HLCTimestamp(wallTime: 5)))
        let other = sessions.set(
            "author", of: session.entity, to: .string("x"), by: EditContext(replica: benDevice, timestamp: HLCTimestamp(wallTime: 6)))
        try AuthorshipRule.check([session, other], member: ben) { _ in nil }
    }
}
