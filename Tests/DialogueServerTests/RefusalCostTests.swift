import DialogueModel
import DialogueServer
import DialogueSync
import DialogueTestSupport
import Foundation
import Testing

/// A refused push must not cost everyone a rebuild of the space's cached document
/// (issue 11, "refusal is an amplifier").
@Suite("Refusal is cheap")
struct RefusalCostTests {
    /// A service over a fresh SQLite store with the account fixture, and the hill member's
    /// access; `sign` signs a request as its authors' devices (registered for the hill member).
    static func withService(
        _ body: (SyncService, SyncService.Access, AccountFixture, _ sign: (SyncRequest) async throws -> SyncRequest) async throws -> Void
    ) async throws {
        let directory = ServerTestDirectory()
        let store = try SQLiteSyncStore(path: directory.path("server.sqlite"))
        let accounts = try await AccountFixture.make(store)
        let service = SyncService(store: store, logger: quietLogger("refusal-cost"))
        let found = try #require(try await store.access(forTokenHash: Tokens.hash(accounts.tokens["hill-member"]!)))
        let devices = TestDevices()
        try await body(service, SyncService.Access(member: found.member, spaces: found.spaces), accounts) { request in
            try await devices.signed(request, token: accounts.tokens["hill-member"]!, store: store)
        }
        try await store.close()
        _ = directory
    }

    /// A text insertion after an element nobody holds: passes every check but the document's.
    static func badReference(by replica: ReplicaID, counter: UInt64, in space: SpaceID) -> Change {
        Change(
            id: Dot(replica, counter), timestamp: HLCTimestamp(wallTime: nowMilliseconds()), space: space, entity: EntityID(UUID()),
            field: DialogueSession.Field.summary, dependencies: [],
            operation: .insertText(originLeft: Dot(.random(), 7), originRight: nil, text: "x"))
    }

    static func isRefusal(_ error: any Error) -> Bool {
        (error as? SyncService.Failure)?.body.error.code == SyncErrorCode.invalidChanges.rawValue
    }

    @Test("1,000 refused pushes in a row, between honest ones, build the space's document once")
    func refusalsDoNotRebuild() async throws {
        try await Self.withService { service, access, accounts, sign in
            let space = accounts.partnership.sharedSpace
            var honest = ChangeAuthor(space: space)
            _ = try await service.sync(try await sign(RouteHarness.push(try honest.textRun("hello"), to: space)), access: access)
            #expect(await service.documentRebuilds == 1)
            // A registered device signing each bad change it sends: refused by the document check.
            let attacker = ReplicaID.random()
            let attackerKey = SigningKeyPair()
            _ = try await RouteHarness.register(
                attacker, key: attackerKey.publicKey, token: accounts.tokens["vale-member"]!, store: service.store)
            for round in 0..<1_000 {
                let bad = Self.badReference(by: attacker, counter: 1, in: space)
                var signer = ChangeSigner(key: attackerKey)
                var request = RouteHarness.push([bad], to: space)
                request.spaces[0].heads = try signer.sign([bad])
                do {
                    _ = try await service.sync(request, access: access)
                    Issue.record("a change referring to nothing was accepted")
                } catch let failure as SyncService.Failure {
                    #expect(failure.body.error.rejected?.first?.code == RejectionCode.unknownReference.rawValue, "\(failure.body)")
                }
                if round % 100 == 99 {
                    let response = try await service.sync(try await sign(RouteHarness.push(honest.creates(1), to: space)), access: access)
                    #expect(response.spaces[0].accepted == 1)
                }
            }
            #expect(await service.documentRebuilds == 1)
        }
    }

    @Test("a refused push leaves nothing of itself in the cached document, in any space of the request")
    func refusedChangesAreNotCached() async throws {
        try await Self.withService { service, access, accounts, sign in
            let shared = accounts.partnership.sharedSpace
            let hill = accounts.hill.privateSpace
            // Both spaces cached.
            var seeder = ChangeAuthor(space: shared)
            _ = try await service.sync(try await sign(RouteHarness.push(seeder.creates(1), to: shared)), access: access)
            var hillSeeder = ChangeAuthor(space: hill)
            _ = try await service.sync(try await sign(RouteHarness.push(hillSeeder.creates(1), to: hill)), access: access)
            // One request: valid text in the shared space (checked first), a bad reference in hill's.
            var typist = ChangeAuthor(space: shared)
            let typed = try typist.textRun("abc")
            let bad = Self.badReference(by: .random(), counter: 1, in: hill)
            var have = VersionVector()
            for change in typed { have.record(Dot(change.replica, change.lastCounter)) }
            let request = SyncRequest(
                replica: typist.replica,
                spaces: [.init(space: shared, have: have, changes: typed), .init(space: hill, have: VersionVector(), changes: [bad])])
            let signed = try await sign(request)
            do {
                _ = try await service.sync(signed, access: access)
                Issue.record("a change referring to nothing was accepted")
            } catch let failure as SyncService.Failure {
                #expect(failure.body.error.rejected?.map(\.code) == [RejectionCode.unknownReference.rawValue], "\(failure.body)")
            }
            // Someone who saw the refused text (it was never stored) cannot build on it …
            let insertion = try #require(typed.last)
            let follower = Change(
                id: Dot(.random(), 1), timestamp: HLCTimestamp(wallTime: nowMilliseconds()), space: shared, entity: insertion.entity,
                field: DialogueSession.Field.summary, dependencies: [],
                operation: .insertText(originLeft: Dot(insertion.replica, insertion.lastCounter), originRight: nil, text: "d"))
            do {
                _ = try await service.sync(try await sign(RouteHarness.push([follower], to: shared)), access: access)
                Issue.record("a change referring to refused text was accepted")
            } catch let failure as SyncService.Failure {
                #expect(failure.body.error.rejected?.first?.code == RejectionCode.unknownReference.rawValue, "\(failure.body)")
            }
            // … and the same text pushed alone is accepted, with no rebuild along the way.
            let response = try await service.sync(try await sign(RouteHarness.push(typed, to: shared)), access: access)
            #expect(response.spaces[0].accepted == typed.count)
            #expect(await service.documentRebuilds == 2)
        }
    }
}
