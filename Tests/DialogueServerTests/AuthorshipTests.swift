import DialogueModel
import DialogueServer
import DialogueSync
import DialogueTestSupport
import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing

/// Authorship is derived, not claimed (issue 12: "with Ada's token, `insights capture
/// --author <Ben>` was accepted; the insight appears everywhere as by Ben"): the server
/// refuses a signed insight naming anyone but its device's certified member, and a device
/// re-attributing an insight another device created; `author_mismatch`, nothing stored.
struct AuthorshipTests {
    /// Ada's device captures an insight in a session (create, then its author), authored as `author`.
    static func insight(by ada: inout ChangeAuthor, author: UUID) -> [Change] {
        let session = EntityID(UUID())
        let insight = EntityID(UUID())
        var changes = [ada.document.create(session, kind: EntityKind.session.rawValue, by: ada.context())]
        changes.append(ada.document.create(insight, kind: EntityKind.insight.rawValue, by: ada.context()))
        changes.append(ada.document.set(Insight.Field.session, of: insight, to: .reference(session), by: ada.context()))
        changes.append(ada.document.set(Insight.Field.author, of: insight, to: .reference(EntityID(author)), by: ada.context()))
        return changes
    }

    static func member(_ token: String, _ h: RouteHarness) async throws -> UUID {
        try #require(try await h.store.token(forTokenHash: Tokens.hash(h.accounts.tokens[token]!))).member.id
    }

    @Test(
        "a signed insight authored as another member is refused author_mismatch, nothing stored; authored as its device's member it is accepted"
    )
    func forgedAuthorIsRefused() async throws {
        try await withRouteHarness { h in
            let space = h.accounts.partnership.sharedSpace
            let (adaMember, benMember) = (try await Self.member("hill-member", h), try await Self.member("vale-member", h))
            var ada = ChangeAuthor(space: space)
            try await h.register(ada.replica, token: "hill-member")
            var forging = ada
            let forged = Self.insight(by: &forging, author: benMember)
            var request = RouteHarness.push(forged, to: space)
            request.spaces[0].heads = try h.devices.headsAside(for: forged)  // signed by Ada's own device
            let before = try await h.held()
            let refusal = try expectRefusal(try await h.syncAsSent(request), 422, .invalidChanges)
            #expect(refusal.error.rejected?.map(\.code) == [RejectionCode.authorMismatch.rawValue], "\(refusal.error)")
            #expect(refusal.error.rejected?.first?.id == forged[3].id)
            #expect(try await h.held() == before)
            // Her own authorship goes through.
            let honest = Self.insight(by: &ada, author: adaMember)
            #expect(try await h.sync(RouteHarness.push(honest, to: space)).status == .ok)
        }
    }

    @Test("another device setting the author of an insight it did not create is refused author_mismatch, even naming its own member")
    func reattributionIsRefused() async throws {
        try await withRouteHarness { h in
            let space = h.accounts.partnership.sharedSpace
            let (adaMember, benMember) = (try await Self.member("hill-member", h), try await Self.member("vale-member", h))
            var ada = ChangeAuthor(space: space)
            let captured = Self.insight(by: &ada, author: adaMember)
            #expect(try await h.sync(RouteHarness.push(captured, to: space)).status == .ok)
            // Ben's device, which saw it, claims it (naming himself, as his certificate does).
            var ben = ChangeAuthor(space: space)
            try ben.receive(captured)
            let claim = ben.document.set(
                Insight.Field.author, of: captured[1].entity, to: .reference(EntityID(benMember)), by: ben.context())
            let before = try await h.held()
            let refusal = try expectRefusal(
                try await h.sync(RouteHarness.push([claim], to: space), token: "vale-member"), 422, .invalidChanges)
            #expect(refusal.error.rejected?.map(\.code) == [RejectionCode.authorMismatch.rawValue], "\(refusal.error)")
            #expect(try await h.held() == before)
            // An author set on an entity nobody created (no creation held): refused as well.
            var orphan = ChangeAuthor(space: space)
            let unknown = orphan.document.set(
                Insight.Field.author, of: EntityID(UUID()), to: .reference(EntityID(adaMember)), by: orphan.context())
            let orphaned = try expectRefusal(try await h.sync(RouteHarness.push([unknown], to: space)), 422, .invalidChanges)
            #expect(orphaned.error.rejected?.map(\.code) == [RejectionCode.authorMismatch.rawValue], "\(orphaned.error)")
        }
    }

    @Test("a second creation of someone else's insight (overwriting nothing, dated earlier) is refused author_mismatch; nothing stored")
    func secondCreationIsRefused() async throws {
        try await withRouteHarness { h in
            let space = h.accounts.partnership.sharedSpace
            let adaMember = try await Self.member("hill-member", h)
            var ada = ChangeAuthor(space: space)
            let captured = Self.insight(by: &ada, author: adaMember)
            #expect(try await h.sync(RouteHarness.push(captured, to: space)).status == .ok)
            // Ben's device creates Ada's insight id afresh (no predecessors) with a 1970 timestamp:
            // without the refusal, every replica would show it as his.
            let ben = ChangeAuthor(space: space)
            let forged = Change(
                id: Dot(ben.replica, 1), timestamp: HLCTimestamp(wallTime: 1), space: space, entity: captured[1].entity, field: "",
                operation: .create(kind: EntityKind.insight.rawValue, predecessors: []))
            let before = try await h.held()
            let refusal = try expectRefusal(
                try await h.sync(RouteHarness.push([forged], to: space), token: "vale-member"), 422, .invalidChanges)
            #expect(refusal.error.rejected?.map(\.code) == [RejectionCode.authorMismatch.rawValue], "\(refusal.error)")
            #expect(refusal.error.rejected?.first?.id == forged.id)
            #expect(try await h.held() == before)
            // A second creation of a session (no writer fields: members, schools and sessions
            // may be created twice by design) is not this rule's business.
            let benLaptop = ChangeAuthor(space: space)
            let session = Change(
                id: Dot(benLaptop.replica, 1), timestamp: HLCTimestamp(wallTime: 2), space: space, entity: captured[0].entity, field: "",
                operation: .create(kind: EntityKind.session.rawValue, predecessors: []))
            let second = try await h.sync(RouteHarness.push([session], to: space), token: "vale-member")
            #expect(second.status == .ok, "\(String(buffer: second.body))")
        }
    }
}
