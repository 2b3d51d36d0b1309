import DialogueModel
import DialogueSync
import DialogueTestSupport
import Foundation
import GRDB
import HTTPTypes
import HummingbirdTesting
import PostgresNIO
import Testing

@testable import DialogueServer

/// Issue 13, item 5: each member's personal space is theirs alone. The server keeps one per
/// member (both stores), lists it only in that member's directory, syncs it only with that
/// member's tokens (an admin of the same school is refused `403 space_not_permitted`, and
/// nothing changes), lets an observer write their own, and leaves it out of every other
/// member's subject access even where it names them.
@Suite("Personal spaces at the server")
struct PersonalSpaceTests {
    /// A member's token, a device registered with it, and what signs that device's changes.
    struct Writer {
        let name: String
        let access: SyncService.Access
        let replica: ReplicaID
        var signer: ChangeSigner
        var time: Int64 = 1_767_600_000_000

        /// Changes that create a session titled `title` in `space`, as this device writes them.
        mutating func session(_ title: String, in space: SpaceID, document: inout SpaceDocument) -> [Change] {
            time += 60_000
            let id = EntityID(UUID())
            var changes = [document.create(id, kind: .session, by: context())]
            time += 1
            changes.append(document.set(DialogueSession.Field.title, of: id, to: .string(title), by: context()))
            return changes
        }

        func context() -> EditContext {
            EditContext(replica: replica, timestamp: HLCTimestamp(wallTime: UInt64(time)))
        }
    }

    static func writer(_ name: String, _ accounts: AccountFixture, _ store: any SyncStore) async throws -> Writer {
        let hash = Tokens.hash(accounts.tokens[name]!)
        let token = try #require(try await store.token(forTokenHash: hash))
        let found = try #require(try await store.access(forTokenHash: hash))
        let signer = ChangeSigner()
        let replica = ReplicaID.random()
        _ = try await ServerAuthority(store: store).register(
            DeviceRegistrationRequest(replica: replica, publicKey: signer.key.publicKey), token: token)
        return Writer(
            name: name, access: SyncService.Access(member: found.member, spaces: found.spaces, personalSpace: found.personal),
            replica: replica, signer: signer)
    }

    /// Pushes `changes` (signed by `writer`'s device) to `space` through the sync service.
    static func push(
        _ changes: [Change], to space: SpaceID, as writer: inout Writer, service: SyncService
    ) async throws -> SyncResponse {
        let heads = try writer.signer.sign(changes)
        return try await service.sync(SignedPushTests.push(changes, heads: heads, space: space), access: writer.access)
    }

    /// Expects `body` to be refused with `status` and `code`.
    static func expectFailure(
        _ status: Int, _ code: SyncErrorCode, sourceLocation: SourceLocation = #_sourceLocation, _ body: () async throws -> Void
    ) async {
        do {
            try await body()
            Issue.record("not refused", sourceLocation: sourceLocation)
        } catch let failure as SyncService.Failure {
            #expect(
                failure.status == status && failure.body.error.code == code.rawValue, "\(failure.body.error)",
                sourceLocation: sourceLocation)
        } catch {
            Issue.record("unexpected \(error)", sourceLocation: sourceLocation)
        }
    }

    @Test(
        "one personal space per member, made with the member; each token's access and directory hold its own and no other's, admins included",
        arguments: StoreKind.allCases)
    func onePerMemberListedOnlyForThem(_ kind: StoreKind) async throws {
        try await withFreshStore(kind) { fresh in
            let store = fresh.store
            let accounts = try await AccountFixture.make(store)
            let members = try await store.members()
            let personal = try await store.personalSpaces()
            #expect(Set(personal.keys) == Set(members.map(\.id)), "every member has one")
            #expect(Set(personal.values).count == members.count, "each their own")
            let shared = [accounts.partnership.sharedSpace, accounts.hill.privateSpace, accounts.vale.privateSpace]
            #expect(Set(personal.values).isDisjoint(with: shared))
            let keys = try await ServerAuthority(store: store).keys()
            for name in ["hill-member", "hill-observer", "hill-admin", "vale-member"] {
                let found = try #require(try await store.access(forTokenHash: Tokens.hash(accounts.tokens[name]!)))
                let own = try #require(personal[found.member.id])
                #expect(found.personal == own && found.spaces.contains(own), "\(name)")
                #expect(found.spaces.intersection(Set(personal.values)) == [own], "\(name) may use another member's personal space")
                let directory = try await ServerAuthority(store: store).directory(for: found.member, keys: keys)
                let listed = directory.entries.filter { $0.kind == .personal }
                #expect(
                    listed == [
                        SpaceDirectory.Entry(space: own, name: "Personal reflection (\(name))", kind: .personal, owner: found.member.id)
                    ])
                #expect(Set(directory.entries.map(\.space)) == found.spaces, "the directory lists what the token may use")
            }
            let stranger = UUID()
            await #expect(throws: StoreError.notFound("member \(stranger)")) { _ = try await store.personalSpace(of: stranger) }
        }
    }

    @Test(
        "a member without one (made by an older server) gets one at first use: processes asking at once agree on one",
        arguments: StoreKind.allCases)
    func madeLazilyAndRaceFree(_ kind: StoreKind) async throws {
        try await withFreshStore(kind) { fresh in
            let store = fresh.store
            let accounts = try await AccountFixture.make(store)
            let found = try #require(try await store.access(forTokenHash: Tokens.hash(accounts.tokens["hill-member"]!)))
            let member = found.member.id
            switch store {
            case let sqlite as SQLiteSyncStore:
                try await sqlite.database.write { db in
                    try db.execute(sql: "DELETE FROM personal_spaces WHERE member_id = ?", arguments: [member.storeBlob])
                }
            case let postgres as PostgresSyncStore:
                try await postgres.client.query("DELETE FROM personal_spaces WHERE member_id = \(member)", logger: postgres.logger)
            default: Issue.record("unknown store")
            }
            #expect(try await store.personalSpaces()[member] == nil)
            let made = try await withThrowingTaskGroup(of: SpaceID.self) { group in
                for _ in 0..<8 { group.addTask { try await store.personalSpace(of: member) } }
                var spaces: Set<SpaceID> = []
                for try await space in group { spaces.insert(space) }
                return spaces
            }
            #expect(made.count == 1 && made.first != found.personal)
            #expect(try await store.personalSpaces()[member] == made.first)
            let again = try #require(try await store.access(forTokenHash: Tokens.hash(accounts.tokens["hill-member"]!)))
            #expect(again.personal == made.first && again.spaces.contains(made.first!))
        }
    }

    @Test(
        "another member's personal space is refused 403 space_not_permitted to push and to pull (an admin of the same school, a partner), changing nothing; an observer writes their own",
        arguments: StoreKind.allCases)
    func othersAreRefused(_ kind: StoreKind) async throws {
        try await withFreshStore(kind) { fresh in
            let store = fresh.store
            let accounts = try await AccountFixture.make(store)
            let service = SyncService(store: store, logger: quietLogger("dialogue.test.personal"))
            var ada = try await Self.writer("hill-member", accounts, store)
            let admin = try await Self.writer("hill-admin", accounts, store)
            let partner = try await Self.writer("vale-member", accounts, store)
            var observer = try await Self.writer("hill-observer", accounts, store)
            let adaSpace = try #require(ada.access.personalSpace)

            var adaDocument = SpaceDocument(space: adaSpace)
            let reflection = ada.session("Ada's own worry", in: adaSpace, document: &adaDocument)
            let accepted = try await Self.push(reflection, to: adaSpace, as: &ada, service: service)
            #expect(accepted.spaces.first?.accepted == reflection.count)
            let held = try await store.vector(of: adaSpace)

            for intruder in [admin, partner] {
                var writer = intruder
                var document = SpaceDocument(space: adaSpace)
                let forged = writer.session("Written into Ada's space", in: adaSpace, document: &document)
                await Self.expectFailure(403, .spaceNotPermitted) {
                    _ = try await Self.push(forged, to: adaSpace, as: &writer, service: service)
                }
                // A pull: nothing pushed, asking for everything.
                await Self.expectFailure(403, .spaceNotPermitted) {
                    _ = try await service.sync(
                        SyncRequest(replica: writer.replica, spaces: [.init(space: adaSpace, have: VersionVector(), changes: [])]),
                        access: writer.access)
                }
            }
            #expect(try await store.vector(of: adaSpace) == held, "a refusal changed Ada's space")

            // An observer reads their school's spaces but writes their own personal space.
            let observerSpace = try #require(observer.access.personalSpace)
            var observerDocument = SpaceDocument(space: observerSpace)
            let own = observer.session("Observer's reflection", in: observerSpace, document: &observerDocument)
            #expect(try await Self.push(own, to: observerSpace, as: &observer, service: service).spaces.first?.accepted == own.count)
            var schoolDocument = SpaceDocument(space: accounts.hill.privateSpace)
            let school = observer.session("Observer writes the school's", in: accounts.hill.privateSpace, document: &schoolDocument)
            await Self.expectFailure(403, .forbidden) {
                _ = try await Self.push(school, to: accounts.hill.privateSpace, as: &observer, service: service)
            }
            // The personal space's flag is the token's own: naming another's is no way in.
            var forgedAccess = admin.access
            forgedAccess.personalSpace = adaSpace
            await Self.expectFailure(403, .spaceNotPermitted) {
                _ = try await service.sync(
                    SyncRequest(replica: admin.replica, spaces: [.init(space: adaSpace, have: VersionVector(), changes: [])]),
                    access: forgedAccess)
            }
        }
    }

    @Test("over HTTP: an admin's sync of a colleague's personal space is 403 space_not_permitted with a JSON body, nothing stored")
    func refusedOverHTTP() async throws {
        try await withRouteHarness { h in
            let members = try await h.store.members()
            let ada = try #require(members.first { $0.name == "hill-member" })
            let adaSpace = try await h.store.personalSpace(of: ada.id)
            var document = SpaceDocument(space: adaSpace)
            let replica = ReplicaID.random()
            let id = EntityID(UUID())
            let change = document.create(id, kind: .session, by: EditContext(replica: replica, timestamp: HLCTimestamp(wallTime: 1)))
            try expectRefusal(try await h.sync(RouteHarness.push([change], to: adaSpace), token: "hill-admin"), 403, .spaceNotPermitted)
            #expect(try await h.store.vector(of: adaSpace).counters.isEmpty)
            // Her own token syncs it.
            let own = try await h.sync(RouteHarness.push([change], to: adaSpace), token: "hill-member")
            #expect(own.status.code == 200, "\(own.text)")
        }
    }

    @Test(
        "subject access: the member's own personal space is in their report; another member's never is, even where it names them",
        arguments: StoreKind.allCases)
    func subjectAccessKeepsToTheirOwn(_ kind: StoreKind) async throws {
        try await withFreshStore(kind) { fresh in
            let store = fresh.store
            let scenario = try await SubjectAccessScenario.build(in: store)
            let service = SyncService(store: store, logger: quietLogger("dialogue.test.personal"))
            func write(_ device: String, token: String, in space: SpaceID, _ make: (inout ScriptedWriter) -> [Change]) async throws {
                var writer = ScriptedWriter(
                    scenario.devices[device]!, in: space, from: SubjectAccessScenario.start + 30 * SubjectAccessScenario.hour)
                let changes = make(&writer)
                var signer = ChangeSigner(key: scenario.signingKeys[device]!)
                let found = try #require(try await store.access(forTokenHash: Tokens.hash(scenario.rawTokens[token]!)))
                let response = try await service.sync(
                    SignedPushTests.push(changes, heads: try signer.sign(changes), space: space),
                    access: SyncService.Access(member: found.member, spaces: found.spaces, personalSpace: found.personal))
                #expect(response.spaces.first?.accepted == changes.count)
            }
            let adaNote = EntityID(UUID())
            try await write("laptop", token: "laptop", in: scenario.personal["ada"]!) { w in
                [
                    w.document.create(adaNote, kind: .session, by: w.next()),
                    w.document.set(DialogueSession.Field.title, of: adaNote, to: .string("Marmalade doubts of Ada"), by: w.next()),
                ]
            }
            // Ben's reflection names Ada (the facilitator of his note), in his own space.
            let benNote = EntityID(UUID())
            try await write("ben", token: "ben laptop", in: scenario.personal["ben"]!) { w in
                [
                    w.document.create(benNote, kind: .session, by: w.next()),
                    w.document.set(DialogueSession.Field.title, of: benNote, to: .string("Gooseberry worries of Ben"), by: w.next()),
                    w.document.set(
                        DialogueSession.Field.facilitator, of: benNote, to: .reference(EntityID(scenario.ada.id)), by: w.next()),
                ]
            }
            let adas = try await SubjectAccessTests.gather(scenario.ada.id, store)
            let section = try #require(adas.spaces.first { $0.kind == "personal" })
            #expect(section.space == scenario.personal["ada"] && section.name == "Personal reflection (Ada Lovelace)")
            #expect(section.wrote.map(\.entity) == [adaNote] && section.changesByMember == 2)
            #expect(adas.spaces.filter { $0.kind == "personal" }.count == 1)
            #expect(!adas.spaces.contains { $0.space == scenario.personal["ben"] || $0.space == scenario.personal["cara"] })
            #expect(adas.cannotSee.contains { $0.code == "personal_spaces_of_others" })
            let adaJSON = String(decoding: try JSONEncoder().encode(adas), as: UTF8.self)
            #expect(adaJSON.contains("Marmalade doubts of Ada"))
            #expect(!adaJSON.contains("Gooseberry") && !adaJSON.contains(benNote.description))
            #expect(!adas.markdown().contains("Gooseberry") && adas.markdown().contains("Marmalade"))

            let bens = try await SubjectAccessTests.gather(scenario.ben.id, store)
            let benJSON = String(decoding: try JSONEncoder().encode(bens), as: UTF8.self)
            #expect(benJSON.contains("Gooseberry worries of Ben") && !benJSON.contains("Marmalade"))
            let caras = try await SubjectAccessTests.gather(scenario.cara.id, store)
            let caraJSON = String(decoding: try JSONEncoder().encode(caras), as: UTF8.self) + caras.markdown()
            #expect(!caraJSON.contains("Marmalade") && !caraJSON.contains("Gooseberry"), "an admin's own report holds others' reflections")
        }
    }
}
