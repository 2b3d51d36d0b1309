import DialogueModel
import Foundation
import GRDB

/// What a replica that held changes before signing existed does when it syncs
/// (docs/TRUST.md, "Migration"): it signs its own earlier changes, and keeps on the device
/// the changes of other devices that nothing signed and the server will never accept.
extension Replica {
    /// Signs this device's changes that no head covers yet: in a replica older than
    /// signing, the changes it wrote before (its chain starts at counter 1 over them, so
    /// the heads signed here vouch for them). One head per 1,000 changes and one at the
    /// last, as a large transaction gets. Opening a replica does it (so its first head
    /// after an upgrade covers exactly what it wrote before, and later edits get their
    /// own); ``SyncClient`` checks again before pushing. Nothing to do in a replica whose
    /// every change was signed as it was written.
    /// - Returns: how many heads were signed.
    @discardableResult
    public func signUnsignedOwnChanges() throws(ReplicaError) -> Int {
        let me = id
        let key = deviceKey
        let (signed, spaces) = try write { db in try Self.signUnsignedChanges(of: me, key: key, db) }
        for space in spaces { ownChains[space] = nil }  // read again at the next edit
        return signed
    }

    /// The spaces where `me` holds changes past its last head.
    static func spacesWithUnsignedChanges(of me: ReplicaID, _ db: Database) throws -> [SpaceID] {
        try heldSpaces(db).filter { space in
            let held =
                try Int64.fetchOne(
                    db, sql: "SELECT counter FROM vectors WHERE space_id = ? AND replica = ?", arguments: [space.blob, me.storedValue]
                ).map { UInt64(bitPattern: $0) } ?? 0
            return held > (try ChainStore.lastHeadCounter(of: me, in: space, db))
        }
    }

    /// ``signUnsignedOwnChanges()`` in a transaction: the heads signed and the spaces touched.
    static func signUnsignedChanges(of me: ReplicaID, key: SigningKeyPair, _ db: Database) throws -> (Int, [SpaceID]) {
        var signed = 0
        let spaces = try spacesWithUnsignedChanges(of: me, db)
        for space in spaces {
            var chain = try ChainStore.position(of: me, in: space, db) ?? DeviceChain(space: space, replica: me)
            var heads: [ChainHead] = []
            var sinceHead = 0
            let blocks = try Row.fetchCursor(
                db, sql: "SELECT body FROM change_blocks WHERE \(ReplicaSchema.blocksOfSpace) ORDER BY block_id", arguments: [space.blob])
            while let row = try blocks.next() {
                for change in try row.storedChanges(of: "change_blocks") where change.replica == me && change.id.counter > chain.counter {
                    do { try chain.advance(over: change) } catch {
                        throw ReplicaError.storage(
                            "cannot sign this device's earlier changes in space \(space): \(error)", underlying: error)
                    }
                    sinceHead += 1
                    if sinceHead == changesPerHead {
                        heads.append(chain.head(signedBy: key))
                        sinceHead = 0
                    }
                }
            }
            if sinceHead > 0 { heads.append(chain.head(signedBy: key)) }
            try ChainStore.store(heads, db)
            try ChainStore.store(chain, db)
            signed += heads.count
        }
        return (signed, spaces)
    }

    /// The changes of `space` a push to a server holding `serverHas` must leave out, because
    /// the server would refuse them and, with them, the whole push (docs/TRUST.md,
    /// "Migration"): changes of other devices that no signed head covers and that are
    /// above the space's legacy vector (merged unverified before this replica signed, e.g.
    /// from a format-1 bundle), and every change that depends on those. Their authors'
    /// own upgraded devices push them signed; until then they stay on this device.
    public nonisolated func changesHeldBack(in space: SpaceID, serverHas: VersionVector) throws(ReplicaError) -> HeldBackChanges {
        do {
            return try database.read { db in try HeldBackScan(space: space, serverHas: serverHas, me: id, db).result(db) }
        } catch {
            throw ReplicaError(storageFailure: error)
        }
    }
}

/// Changes a push leaves on this device (``Replica/changesHeldBack(in:serverHas:)``).
public struct HeldBackChanges: Sendable, Equatable {
    /// Changes of other devices from before signing that cannot be verified: no signed
    /// head covers them and they are above the legacy vector.
    public var unverifiable = 0
    /// Changes (this device's included) that depend on those, or follow one that does in
    /// their author's chain: they wait until the unverifiable ones reach the server signed.
    public var waiting = 0
    /// Per author, the first counter left out (everything of that author from there on).
    public var from: [ReplicaID: UInt64] = [:]

    public init() {}

    /// Whether nothing is held back.
    public var isEmpty: Bool { from.isEmpty }

    /// `held` without what is left out: what the server can come to hold.
    public func pushable(of held: VersionVector) -> VersionVector {
        var vector = held
        for (author, first) in from { vector[author] = min(held[author], first - 1) }
        return vector
    }
}

/// The scan behind ``Replica/changesHeldBack(in:serverHas:)``.
private struct HeldBackScan {
    let space: SpaceID
    let me: ReplicaID
    /// Per author, what the server holds or held before signing: never pushed.
    let floor: VersionVector
    let held: VersionVector
    /// Per author held, the last counter at which it signed in the space (0: never).
    let lastHeads: [ReplicaID: UInt64]

    init(space: SpaceID, serverHas: VersionVector, me: ReplicaID, _ db: Database) throws {
        self.space = space
        self.me = me
        floor = serverHas.merged(try LegacyChanges.legacyVector(of: space, db))
        var held = VersionVector()
        for row in try Row.fetchAll(db, sql: "SELECT replica, counter FROM vectors WHERE space_id = ?", arguments: [space.blob]) {
            let replica = try row.required("replica", of: "vectors") { $0.storedInt64.flatMap(ReplicaID.init(storedValue:)) }
            held[replica] = try row.required("counter", of: "vectors") { $0.storedInt64.map(UInt64.init(bitPattern:)) }
        }
        self.held = held
        var lastHeads: [ReplicaID: UInt64] = [:]
        for dot in held.lastDots { lastHeads[dot.replica] = try ChainStore.lastHeadCounter(of: dot.replica, in: space, db) }
        self.lastHeads = lastHeads
    }

    /// The last counter at which `author` signed in the space (0: none).
    private func lastHead(of author: ReplicaID) -> UInt64 { lastHeads[author] ?? 0 }

    /// Every author's head counters past what the server holds, ascending (read only when
    /// something is held back: a long-lived space has one per transaction).
    private func heads(_ db: Database) throws -> [ReplicaID: [UInt64]] {
        var heads: [ReplicaID: [UInt64]] = [:]
        for dot in held.lastDots {
            heads[dot.replica] = try ChainStore.headCounters(of: dot.replica, in: space, after: floor[dot.replica], db)
        }
        return heads
    }

    func result(_ db: Database) throws -> HeldBackChanges {
        var result = HeldBackChanges()
        // Cheap check first: another author held past both the server and its last head.
        var suspects = false
        for dot in held.lastDots where dot.replica != me && dot.counter > floor[dot.replica] {
            if dot.counter > lastHead(of: dot.replica) { suspects = true }
        }
        guard suspects else { return result }
        let heads = try heads(db)
        // Left out from a counter on, an author's push must still end at one of its heads:
        // that can leave out changes others depend on, so scan again until nothing moves.
        var moved = true
        while moved {
            moved = false
            try scan(db) { change in
                let author = change.replica
                if let first = result.from[author], change.id.counter >= first { return }
                let unsigned = author != me && change.lastCounter > lastHead(of: author)
                let dependent = change.dependencies.contains { dependency in
                    result.from[dependency.replica].map { dependency.counter >= $0 } ?? false
                }
                guard unsigned || dependent else { return }
                let signedBefore = heads[author]?.last { $0 < change.id.counter && $0 > floor[author] }
                result.from[author] = (signedBefore ?? floor[author]) + 1
                moved = true
            }
        }
        try scan(db) { change in
            guard let first = result.from[change.replica], change.id.counter >= first else { return }
            if change.replica != me, change.lastCounter > lastHead(of: change.replica) {
                result.unverifiable += 1
            } else {
                result.waiting += 1
            }
        }
        return result
    }

    /// Calls `body` with each change of the space the server lacks, in log order.
    private func scan(_ db: Database, _ body: (Change) throws -> Void) throws {
        let blocks = try Row.fetchCursor(
            db, sql: "SELECT body FROM change_blocks WHERE \(ReplicaSchema.blocksOfSpace) ORDER BY block_id", arguments: [space.blob])
        while let row = try blocks.next() {
            for change in try row.storedChanges(of: "change_blocks") where change.lastCounter > floor[change.replica] {
                try body(change)
            }
        }
    }
}
