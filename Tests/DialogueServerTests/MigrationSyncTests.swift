import DialogueModel
import DialogueServer
import DialogueSync
import DialogueTestSupport
import Foundation
import GRDB
import Testing

/// Replicas and a server store from before signing, syncing with a server that verifies
/// every push (docs/TRUST.md, "Migration").
@Suite("Migration: syncing replicas from before signing with a verifying server")
struct MigrationSyncTests {
    typealias Old = PreSigningStore
    let space = PreSigningStore.sharedSpace

    func client(_ url: URL) -> SyncClient {
        var configuration = SyncClient.Configuration(server: url, token: Old.token)
        configuration.pageSize = 3
        configuration.pushBatch = 3
        return SyncClient(configuration: configuration)
    }

    /// A replica holding `space` with one session of its own, as a version before signing
    /// left it: no heads, no chain positions.
    func replicaFromBeforeSigning(_ path: String, title: String) async throws {
        do {
            let replica = try Replica(path: path)
            try await replica.addSpace(space)
            try await replica.edit(in: space) { editor in
                let session = try editor.createSession(title: title)
                try editor.replaceText(DialogueSession.Field.summary, of: session, with: "Typed before signing existed")
            }
        }
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        let queue = try DatabaseQueue(path: path, configuration: configuration)
        try await queue.write { db in try db.execute(sql: "DELETE FROM chain_heads; DELETE FROM chain_positions") }
        try queue.close()
    }

    @Test(
        "an old replica syncs with an upgraded old store: its earlier changes go signed, the store's legacy ones come marked; a fresh replica converges"
    )
    func oldReplicaSyncsWithUpgradedStore() async throws {
        let directory = ServerTestDirectory()
        try Old.writeSQLite(at: directory.path("server.sqlite"))
        let store = try SQLiteSyncStore(path: directory.path("server.sqlite"))
        let oldPath = directory.path("old.sqlite")
        try await replicaFromBeforeSigning(oldPath, title: "Before signing")
        try await withLiveServer(store: store) { url in
            let old = try Replica(path: oldPath)
            let own = try old.changes(in: space, missingFrom: VersionVector()).changes.count
            _ = try await client(url).registerDevice(old)
            let summary = try await client(url).sync(old, spaces: [space])
            #expect(summary.pushed == own)
            #expect(summary.pulled == Old.changes.count)
            #expect(summary.unverifiable == 0 && summary.waiting == 0)
            #expect(try old.unsignedLegacyCounters(in: space) == [Old.author: [1...Old.legacy[Old.author]]])
            #expect(
                try await store.latestChainHeads(in: space, of: [old.id])[old.id]?.counter == (try await store.vector(of: space))[old.id])

            let fresh = try Replica(path: directory.path("fresh.sqlite"))
            try await fresh.addSpace(space)
            _ = try await client(url).registerDevice(fresh)
            #expect(try await client(url).sync(fresh, spaces: [space]).pulled == own + Old.changes.count)
            #expect(try await fresh.document(space)?.canonicalExport() == (try await old.document(space)?.canonicalExport()))
            #expect(try fresh.unsignedLegacyCounters(in: space) == [Old.author: [1...Old.legacy[Old.author]]])
            #expect(try !fresh.isUnsignedLegacy(Dot(old.id, 1), in: space))
        }
        try await store.close()
    }

    @Test(
        "other devices' unsigned changes the server never held stay on the device, with what depends on them; the rest syncs; they go once their author pushes them signed"
    )
    func unverifiableChangesDoNotBlockSync() async throws {
        let directory = ServerTestDirectory()
        try Old.writeSQLite(at: directory.path("server.sqlite"))
        let store = try SQLiteSyncStore(path: directory.path("server.sqlite"))
        // A colleague's device from before signing, whose changes reached this replica in a
        // format-1 bundle (merged unverified) but never the server.
        let strangerPath = directory.path("stranger.sqlite")
        try await replicaFromBeforeSigning(strangerPath, title: "From a bundle")
        let holderPath = directory.path("holder.sqlite")
        try await replicaFromBeforeSigning(holderPath, title: "Mine")
        let stranger = try Replica(path: strangerPath)
        let strangerChanges = try stranger.changes(in: space, missingFrom: VersionVector()).changes
        let holder = try Replica(path: holderPath)
        let mine = try holder.changes(in: space, missingFrom: VersionVector()).changes.count
        try await holder.merge(strangerChanges)
        let theirs = try #require(strangerChanges.first?.entity)
        try await holder.edit(in: space) { editor in
            try editor.set(DialogueSession.Field.title, of: theirs, to: .string("Retitled after the bundle"))
        }
        try await withLiveServer(store: store) { url in
            _ = try await client(url).registerDevice(holder)
            let first = try await client(url).sync(holder, spaces: [space])
            #expect(first.pushed == mine)
            #expect(first.pulled == Old.changes.count)
            #expect(first.unverifiable == strangerChanges.count)
            #expect(first.waiting == 1)
            #expect(try await store.vector(of: space)[stranger.id] == 0)
            // Syncing again changes nothing and still succeeds.
            let second = try await client(url).sync(holder, spaces: [space])
            #expect(second.pushed == 0 && second.unverifiable == strangerChanges.count)

            // The stranger upgrades, logs in and syncs: its changes go signed; the holder's waiting change follows.
            _ = try await client(url).registerDevice(stranger)
            #expect(try await client(url).sync(stranger, spaces: [space]).pushed == strangerChanges.count)
            let third = try await client(url).sync(holder, spaces: [space])
            #expect(third.pushed == 1 && third.unverifiable == 0 && third.waiting == 0)
            _ = try await client(url).sync(stranger, spaces: [space])
            #expect(try await holder.document(space)?.canonicalExport() == (try await stranger.document(space)?.canonicalExport()))
        }
        try await store.close()
    }
}
