import DialogueModel
import DialogueServer
import DialogueSync
import Foundation
import Testing

/// A refused push must not cost everyone a rebuild of the space's cached document
/// (issue 11, "refusal is an amplifier").
@Suite("Refusal is cheap")
struct RefusalCostTests {
    /// A service over a fresh SQLite store with the account fixture, and the hill member's access.
    static func withService(_ body: (SyncService, SyncService.Access, AccountFixture) async throws -> Void) async throws {
        let directory = ServerTestDirectory()
        let store = try SQLiteSyncStore(path: directory.path("server.sqlite"))
        let accounts = try await AccountFixture.make(store)
        let service = SyncService(store: store, logger: quietLogger("refusal-cost"))
        let found = try #require(try await store.access(forTokenHash: Tokens.hash(accounts.tokens["hill-member"]!)))
        try await body(service, SyncService.Access(member: found.member, spaces: found.spaces), accounts)
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
        try await Self.withService { service, access, accounts in
            let space = accounts.partnership.sharedSpace
            var honest = ChangeAuthor(space: space)
            _ = try await service.sync(RouteHarness.push(try honest.textRun("hello"), to: space), access: access)
            #expect(await service.documentRebuilds == 1)
            let attacker = ReplicaID.random()
            for round in 0..<1_000 {
                await #expect(throws: SyncService.Failure.self) {
                    try await service.sync(
                        RouteHarness.push([Self.badReference(by: attacker, counter: 1, in: space)], to: space), access: access)
                }
                if round % 100 == 99 {
                    let response = try await service.sync(RouteHarness.push(honest.creates(1), to: space), access: access)
                    #expect(response.spaces[0].accepted == 1)
                }
            }
            #expect(await service.documentRebuilds == 1)
        }
    }

    @Test("a refused push leaves nothing of itself in the cached document, in any space of the request")
    func refusedChangesAreNotCached() async throws {
        try await Self.withService { service, access, accounts in
            let shared = accounts.partnership.sharedSpace
            let hill = accounts.hill.privateSpace
            // Both spaces cached.
            var seeder = ChangeAuthor(space: shared)
            _ = try await service.sync(RouteHarness.push(seeder.creates(1), to: shared), access: access)
            var hillSeeder = ChangeAuthor(space: hill)
            _ = try await service.sync(RouteHarness.push(hillSeeder.creates(1), to: hill), access: access)
            // One request: valid text in the shared space (checked first), a bad reference in hill's.
            var typist = ChangeAuthor(space: shared)
            let typed = try typist.textRun("abc")
            let bad = Self.badReference(by: .random(), counter: 1, in: hill)
            var have = VersionVector()
            for change in typed { have.record(Dot(change.replica, change.lastCounter)) }
            let request = SyncRequest(
                replica: typist.replica,
                spaces: [.init(space: shared, have: have, changes: typed), .init(space: hill, have: VersionVector(), changes: [bad])])
            await #expect(throws: SyncService.Failure.self) { try await service.sync(request, access: access) }
            // Someone who saw the refused text (it was never stored) cannot build on it …
            let insertion = try #require(typed.last)
            let follower = Change(
                id: Dot(.random(), 1), timestamp: HLCTimestamp(wallTime: nowMilliseconds()), space: shared, entity: insertion.entity,
                field: DialogueSession.Field.summary, dependencies: [],
                operation: .insertText(originLeft: Dot(insertion.replica, insertion.lastCounter), originRight: nil, text: "d"))
            do {
                _ = try await service.sync(RouteHarness.push([follower], to: shared), access: access)
                Issue.record("a change referring to refused text was accepted")
            } catch let failure as SyncService.Failure {
                #expect(failure.body.error.rejected?.first?.code == RejectionCode.unknownReference.rawValue, "\(failure.body)")
            }
            // … and the same text pushed alone is accepted, with no rebuild along the way.
            let response = try await service.sync(RouteHarness.push(typed, to: shared), access: access)
            #expect(response.spaces[0].accepted == typed.count)
            #expect(await service.documentRebuilds == 2)
        }
    }
}
