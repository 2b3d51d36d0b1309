import DialogueModel
import Foundation

/// Where one held space stands with a server (``Replica/syncStatus(server:serverHas:)``).
public struct SpaceSyncStatus: Sendable, Hashable {
    /// The space, named from the verified directory.
    public var space: NamedSpace
    /// Changes this replica holds that the server did not hold when the last sync finished.
    public var unsyncedChanges: Int
    /// When the space last finished syncing with the server (ms since the epoch); `nil`: never.
    public var lastSync: Int64?
    /// Of the unsynced changes, those of other devices from before signing that cannot be
    /// verified (they stay on this device; ``Replica/changesHeldBack(in:serverHas:)``).
    public var unverifiableChanges: Int
    /// And those that wait for them.
    public var waitingChanges: Int

    /// Creates a status from its parts.
    public init(space: NamedSpace, unsyncedChanges: Int, lastSync: Int64?, unverifiableChanges: Int, waitingChanges: Int) {
        self.space = space
        self.unsyncedChanges = unsyncedChanges
        self.lastSync = lastSync
        self.unverifiableChanges = unverifiableChanges
        self.waitingChanges = waitingChanges
    }
}

extension Replica {
    /// Per space held (by name, as ``namedSpaces()`` orders them): what is not yet on the
    /// server and when the space last synced.
    ///
    /// - Parameters:
    ///   - server: the server's URL as the sync used it (``SyncClient/Configuration/server``'s
    ///     `absoluteString`); `nil`: the last sync with any server.
    ///   - serverHas: per space, what the server held when the last sync finished (after a
    ///     sync, ``heldVectors()`` of the spaces ``SyncClient/Summary/spaces`` lists); a space
    ///     missing counts everything it holds as unsynced.
    public func syncStatus(server: String?, serverHas: [SpaceID: VersionVector]) throws(ReplicaError) -> [SpaceSyncStatus] {
        let syncs = try lastSyncs()
        var rows: [SpaceSyncStatus] = []
        for named in try namedSpaces() {
            let space = named.id
            let has = serverHas[space] ?? VersionVector()
            var count = 0
            var cursor: ChangeCursor? = .start
            while let current = cursor {
                let page = try changes(in: space, missingFrom: has, after: current, limit: 1000)
                count += page.changes.count
                cursor = page.next
            }
            let last = syncs.filter { $0.space == space && (server == nil || $0.server == server) }.map(\.at).max()
            let heldBack = try changesHeldBack(in: space, serverHas: has)
            rows.append(
                SpaceSyncStatus(
                    space: named, unsyncedChanges: count, lastSync: last, unverifiableChanges: heldBack.unverifiable,
                    waitingChanges: heldBack.waiting))
        }
        return rows
    }
}
