import DialogueModel
import DialogueSync
import Foundation

/// Protocol 2's signed heads at the server (docs/TRUST.md, "Signed changes on the wire"):
/// pages cut only at signed heads, and the statements that let the receiver verify them.
extension SyncService {
    /// A page of changes with the heads that sign them.
    struct SignedPage {
        var page: ChangePageResult
        var heads: [ChainHead]
        /// The authors of the page's changes, in order of first appearance.
        var authors: [ReplicaID]
        /// Whether the page ran over the limit to reach signed heads.
        var extended: Bool
    }

    /// The changes of `space` that `have` lacks from `after`, at least `limit` of them when
    /// there are so many, cut only where each author's last change in the page ends at a
    /// head it signed: a receiver verifies a run only up to a signed head, so a page ending
    /// between two would be refused. The page runs over `limit` as far as the next head of
    /// each author in it (a stored push ends every author at a head, so not far). An author
    /// whose stored changes after the page's end carry no head at all (changes stored
    /// before signing: docs/TRUST.md, "Migration") is cut anywhere.
    func signedPage(in space: SpaceID, missingFrom have: VersionVector, after: Int64, limit: Int) async throws -> SignedPage {
        let first = try await store.changes(in: space, missingFrom: have, after: after, limit: limit)
        var changes = first.changes
        var positions = first.positions
        var more = first.more
        var cursor = first.cursor
        var held = first.held
        var extended = false
        var signed: Set<Dot> = []
        var latest: [ReplicaID: UInt64] = [:]  // each author's last stored head, looked up once when needed
        var looked: Set<ReplicaID> = []
        var unsigned: Set<ReplicaID> = []  // authors whose last change so far ends short of a head still to come
        var index = 0
        scan: while true {
            let fresh = changes[index...]
            for head in try await store.chainHeads(in: space, covering: Self.ranges(of: fresh)) {
                signed.insert(Dot(head.replica, head.counter))
            }
            let unlooked = Set(fresh.lazy.filter { !signed.contains(Dot($0.replica, $0.lastCounter)) }.map(\.replica)).subtracting(looked)
            if !unlooked.isEmpty {
                looked.formUnion(unlooked)
                latest.merge(try await store.latestChainHeads(in: space, of: unlooked).mapValues(\.counter)) { $1 }
            }
            while index < changes.count {
                let change = changes[index]
                if !signed.contains(Dot(change.replica, change.lastCounter)), (latest[change.replica] ?? 0) > change.lastCounter {
                    unsigned.insert(change.replica)
                } else {
                    unsigned.remove(change.replica)
                }
                index += 1
                // Past the limit, the first point where every author stands at a head ends the page.
                if index >= limit, index < changes.count, unsigned.isEmpty, let known = positions {
                    changes.removeSubrange(index...)
                    cursor = known[index - 1]
                    positions = Array(known[..<index])
                    more = true
                    break scan
                }
            }
            guard !unsigned.isEmpty, more else { break }
            let next = try await store.changes(in: space, missingFrom: have, after: cursor, limit: max(limit, 64))
            changes += next.changes
            positions = positions.flatMap { known in next.positions.map { known + $0 } }
            more = next.more
            cursor = next.cursor
            held = nil
            extended = true
        }
        var authors: [ReplicaID] = []
        var seen: Set<ReplicaID> = []
        for change in changes where seen.insert(change.replica).inserted { authors.append(change.replica) }
        let heads = try await store.chainHeads(in: space, covering: Self.ranges(of: changes[...]))
        return SignedPage(
            page: ChangePageResult(changes: changes, more: more, cursor: cursor, held: held, positions: positions), heads: heads,
            authors: authors, extended: extended)
    }

    /// Per author, the counters its changes in `changes` occupy (first to last).
    static func ranges(of changes: some Collection<Change>) -> [ReplicaID: ClosedRange<UInt64>] {
        var ranges: [ReplicaID: ClosedRange<UInt64>] = [:]
        for change in changes {
            let range = change.id.counter...change.lastCounter
            if let known = ranges[change.replica] {
                ranges[change.replica] = min(known.lowerBound, range.lowerBound)...max(known.upperBound, range.upperBound)
            } else {
                ranges[change.replica] = range
            }
        }
        return ranges
    }

    /// The pushed heads worth keeping: those of `space` at a counter the new changes of
    /// their author reach (past what the store held).
    static func heads(_ heads: [ChainHead], signing new: [Change], in space: SpaceID) -> [ChainHead] {
        let ranges = ranges(of: new[...])
        return heads.filter { head in head.space == space && ranges[head.replica]?.contains(head.counter) == true }
    }
}
