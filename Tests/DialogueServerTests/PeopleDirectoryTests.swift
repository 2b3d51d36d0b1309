import DialogueModel
import DialogueServer
import DialogueSync
import Foundation
import Testing

/// Issue 14, item 2: school and member names come from the server with sync, so that
/// nobody has to name people in a space by hand (`members add --id`), and only the people
/// of the member's own school and its partner schools are named (docs/PROTOCOL.md).
struct PeopleDirectoryTests {
    @Test(
        "a sync answer names the member's school, its partner schools and their members, signed; an outsider never",
        arguments: StoreKind.allCases)
    func namesPartnersOnly(kind: StoreKind) async throws {
        try await withRouteHarness(kind) { h in
            let outside = try await h.store.createSchool(name: "Dale High")
            let stranger = try await h.store.createMember(name: "Dan Outsider", school: outside.id, role: .member)
            let cara = try await h.store.createMember(name: "Cara Jones", school: h.accounts.vale.id, role: .member)
            let request = SyncRequest(replica: .random(), spaces: [.init(space: h.accounts.partnership.sharedSpace, have: VersionVector())])
            let people = try #require(try await h.syncAsSent(request).syncResponse().people)
            #expect(Set(people.schools.map(\.name)) == ["Hill Primary", "Vale Academy"])
            #expect(Set(people.people.map(\.name)) == ["hill-member", "hill-observer", "hill-admin", "vale-member", "Cara Jones"])
            #expect(people.person(cara.id) == PeopleDirectory.Person(id: cara.id, name: "Cara Jones", school: h.accounts.vale.id))
            #expect(people.person(stranger.id) == nil && people.school(outside.id) == nil)
            // Signed by the server's key, for the member who asked.
            let keys = try await ServerAuthority(store: h.store).keys()
            try people.verify(trusting: ServerKeyRing(pinned: keys.current.publicKey))
            let forged = PeopleDirectory(
                member: people.member, issuedAt: people.issuedAt, schools: people.schools, people: [], signer: people.signer,
                signature: people.signature)
            #expect(throws: TrustError.self) { try forged.verify(trusting: ServerKeyRing(pinned: keys.current.publicKey)) }
            // The outsider's own answer names their school only.
            let (token, record) = Tokens.issue(for: stranger.id, label: "dan")
            try await h.store.storeToken(record)
            let own = SyncRequest(replica: .random(), spaces: [.init(space: outside.privateSpace, have: VersionVector())])
            let theirs = try #require(try await h.syncAsSent(own, token: token).syncResponse().people)
            #expect(theirs.schools.map(\.name) == ["Dale High"] && theirs.people.map(\.name) == ["Dan Outsider"])
        }
    }

    @Test(
        "held unchanged (the request names its digest), the directory is not sent again; changed, it comes", arguments: StoreKind.allCases)
    func sentOnlyWhenChanged(kind: StoreKind) async throws {
        try await withRouteHarness(kind) { h in
            let space = h.accounts.partnership.sharedSpace
            func pull(holding digest: String?) async throws -> PeopleDirectory? {
                let request = SyncRequest(replica: .random(), spaces: [.init(space: space, have: VersionVector())], people: digest)
                let body = String(decoding: try encodeJSON(request), as: UTF8.self)
                #expect(try JSONDecoder().decode(SyncRequest.self, from: Data(body.utf8)).people == digest)
                return try await h.syncAsSent(request).syncResponse().people
            }
            let first = try #require(try await pull(holding: nil))
            #expect(try await pull(holding: first.contentDigest) == nil)
            #expect(try await pull(holding: String(repeating: "0", count: 64)) != nil)
            _ = try await h.store.createMember(name: "Cara Jones", school: h.accounts.vale.id, role: .member)
            let second = try #require(try await pull(holding: first.contentDigest))
            #expect(second.people.contains { $0.name == "Cara Jones" })
            #expect(second.contentDigest != first.contentDigest)
        }
    }

    @Test("a malformed people digest is refused (400 malformed_request), nothing stored")
    func malformedDigest() async throws {
        try await withRouteHarness { h in
            let body = """
                {"protocol": \(SyncProtocol.version), "spaces": [], "people": "not-a-digest"}
                """
            let refusal = try expectRefusal(try await h.post(Array(body.utf8), token: "hill-member"), 400, .malformedRequest)
            #expect(refusal.error.message.contains("people"), "\(refusal.error.message)")
        }
    }
}
