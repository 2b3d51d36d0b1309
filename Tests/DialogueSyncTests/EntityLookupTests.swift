import DialogueModel
import Foundation
import Testing

@testable import DialogueSync

/// Name and prefix resolution: a typed id prefix or name resolves to one live entity, or
/// says it matches none or several.
@Suite("Entity lookup (library)")
struct EntityLookupTests {
    static let first = EntityID(UUID(uuidString: "f9ab45fd-0000-4000-8000-000000000001")!)
    static let second = EntityID(UUID(uuidString: "f9ab45fd-1111-4000-8000-000000000002")!)
    static let third = EntityID(UUID(uuidString: "f9ab0000-0000-4000-8000-000000000003")!)

    /// Members "Ada Lovelace", "Sam Hill", "Sam Hill" (the three ids above), a session
    /// titled "Visit" and a deleted member "Zed".
    func replica(in directory: TemporaryDirectory) async throws -> (Replica, SpaceID, session: EntityID) {
        let replica = try Replica(path: directory.path("r.sqlite"))
        let space = SpaceID(UUID())
        try await replica.addSpace(space)
        let session = try await replica.edit(in: space) { editor in
            for (id, name) in [(Self.first, "Ada Lovelace"), (Self.second, "Sam Hill"), (Self.third, "Sam Hill")] {
                _ = try editor.create(.member, id: id)
                try editor.set(Member.Key.displayName, of: id, to: name)
            }
            let zed = try editor.createMember("Zed")
            try editor.delete(zed)
            return try editor.createSession(title: "Visit")
        }
        return (replica, space, session)
    }

    @Test("a unique prefix, any case, hyphens optional, resolves; a full id resolves")
    func uniquePrefix() async throws {
        let directory = TemporaryDirectory()
        let (replica, space, _) = try await replica(in: directory)
        for text in ["f9ab45fd-0", "F9AB45FD0", "f9ab45fd00004", Self.first.description, " f9ab45fd-0 "] {
            let match = try await replica.resolveEntity(text, kind: .member)
            #expect(match == EntityMatch(id: Self.first, kind: .member, space: space, label: "Ada Lovelace"), "\(text)")
        }
        #expect(try await replica.resolveEntity("f9ab0", kind: .member).id == Self.third)
    }

    @Test("an ambiguous prefix or name lists every candidate, by label then id")
    func ambiguous() async throws {
        let directory = TemporaryDirectory()
        let (replica, _, _) = try await replica(in: directory)
        for (text, expected) in [
            ("f9ab45fd", [Self.first, Self.second]), ("f9ab", [Self.first, Self.third, Self.second]),
            ("sam hill", [Self.third, Self.second]),
        ] {
            do {
                _ = try await replica.resolveEntity(text, kind: .member)
                Issue.record("'\(text)' resolved")
            } catch {
                #expect(error.code == .ambiguous, "\(text)")
                #expect(error.candidates.map(\.id) == expected, "\(text)")
            }
        }
    }

    @Test("unknown: no such prefix, too short to be a prefix, another kind, a deleted entity")
    func unknown() async throws {
        let directory = TemporaryDirectory()
        let (replica, _, session) = try await replica(in: directory)
        let sessionPrefix = String(session.description.prefix(8))
        for (text, kind) in [("f9ac", EntityKind.member), ("f9a", .member), (sessionPrefix, .member), ("Zed", .member), ("nobody", nil)] {
            do {
                _ = try await replica.resolveEntity(text, kind: kind)
                Issue.record("'\(text)' resolved")
            } catch {
                #expect(error.code == .notFound && error.candidates.isEmpty, "\(text)")
            }
        }
        // The session resolves as a session, by prefix or title; with any kind, by title.
        #expect(try await replica.resolveEntity(sessionPrefix, kind: .session).id == session)
        #expect(try await replica.resolveEntity("visit").id == session)
    }

    @Test("names: exact before case-folded; short ids are the shortest unique prefix of at least 8")
    func namesAndShortIDs() async throws {
        let directory = TemporaryDirectory()
        let (replica, _, _) = try await replica(in: directory)
        #expect(try await replica.resolveEntity("Ada Lovelace").id == Self.first)
        #expect(try await replica.resolveEntity("ADA LOVELACE", kind: .member).id == Self.first)
        #expect(await replica.shortID(Self.first) == "f9ab45fd0")
        #expect(await replica.shortID(Self.third) == "f9ab0000")
        #expect(await replica.shortID(Self.third, minimum: 4) == "f9ab0")
    }

    @Test("shortIDs (one pass, for a listing) agrees with shortID, also for an id not held")
    func shortIDsAgree() async throws {
        let directory = TemporaryDirectory()
        let (replica, _, session) = try await replica(in: directory)
        let notHeld = EntityID(UUID(uuidString: "f9ab45fd-2222-4000-8000-000000000009")!)
        let ids = [Self.first, Self.second, Self.third, session]
        let short = await replica.shortIDs(ids + [notHeld])
        for id in ids { #expect(await short[id] == replica.shortID(id), "\(id)") }
        #expect(short[Self.first] == "f9ab45fd0" && short[Self.second] == "f9ab45fd1")
        #expect(short[notHeld] == "f9ab45fd2")
        #expect(await replica.shortIDs([Self.third], minimum: 4)[Self.third] == "f9ab0")
    }
}
