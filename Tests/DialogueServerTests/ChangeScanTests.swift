import DialogueModel
import DialogueServer
import DialogueSync
import Foundation
import Testing

/// `changes(in:missingFrom:after:limit:)` behind long runs of rows the vector covers, longer
/// than one read of the PostgreSQL store (``PostgresSyncStore`` reads a space's rows a chunk
/// at a time and makes the chunks bigger as it skips): each page is checked against the page
/// the contract gives from the whole log, cursor included, on both stores.
@Suite("Change scans past long covered runs (SQLite and PostgreSQL)")
struct ChangeScanTests {
    /// A stored row: its scan position and its change.
    struct Row {
        var seq: Int64
        var change: Change
    }

    /// The page the contract gives: in storage order after `after`, the first `limit` changes
    /// `vector` lacks; the cursor at the last row scanned before the page was cut (skipped
    /// rows included), `more` when a change `vector` lacks was left out.
    static func expected(
        _ rows: [Row], missingFrom vector: VersionVector, after: Int64, limit: Int
    ) -> (
        changes: [Change], more: Bool, cursor: Int64
    ) {
        var changes: [Change] = []
        var cursor = after
        for row in rows where row.seq > after {
            if row.change.lastCounter <= vector[row.change.replica] {
                cursor = row.seq
                continue
            }
            if changes.count == limit { return (changes, true, cursor) }
            changes.append(row.change)
            cursor = row.seq
        }
        return (changes, false, cursor)
    }

    @Test("pages behind thousands of covered rows: the changes, more and cursor the whole log gives", arguments: StoreKind.allCases)
    func coveredRuns(_ kind: StoreKind) async throws {
        try await withFreshStore(kind) { fresh in
            let store = fresh.store
            let space = SpaceID(UUID())
            var a = ChangeAuthor(space: space)
            var b = ChangeAuthor(space: space)
            // 4,500 of a's, 3 of b's, 4,500 of a's, 2 of b's: b's changes lie behind runs of
            // a's more than twice the PostgreSQL store's largest read.
            for batch in [a.creates(4500), b.creates(3), a.creates(4500), b.creates(2)] {
                for start in stride(from: 0, to: batch.count, by: 500) {
                    try await store.append(Array(batch[start..<min(start + 500, batch.count)]), to: space)
                }
            }
            let whole = try await store.changes(in: space, missingFrom: VersionVector(), after: 0, limit: 1_000_000)
            let positions = try #require(whole.positions)
            #expect(whole.changes.count == 9005 && positions.count == 9005 && !whole.more)
            let rows = zip(positions, whole.changes).map { Row(seq: $0, change: $1) }
            let held = try await store.vector(of: space)
            let halfOfA = VersionVector([a.replica: 4500])
            let allOfA = VersionVector([a.replica: held[a.replica]])
            let mid = positions[4501]  // between b's first two changes
            for vector in [VersionVector(), halfOfA, allOfA, held] {
                for after in [0, positions[10], mid, positions[9000], positions[9004]] {
                    for limit in [1, 2, 7, 2001, 4000, 10_000] {
                        let page = try await store.changes(in: space, missingFrom: vector, after: after, limit: limit)
                        let want = Self.expected(rows, missingFrom: vector, after: after, limit: limit)
                        let label = "vector \(vector), after \(after), limit \(limit)"
                        #expect(page.changes == want.changes, "\(label)")
                        #expect(page.more == want.more, "\(label)")
                        #expect(page.cursor == want.cursor, "\(label)")
                        if let positions = page.positions {
                            #expect(positions.count == page.changes.count, "\(label)")
                        }
                    }
                }
            }
            // A replica holding all of a's pages through b's with a page of 1, as the bench's
            // requests do: five pages, each resuming at the last one's cursor.
            var have = allOfA
            var cursor: Int64 = 0
            var pulled: [Change] = []
            var pages = 0
            while true {
                let page = try await store.changes(in: space, missingFrom: have, after: cursor, limit: 1)
                pages += 1
                pulled += page.changes
                #expect(page.cursor >= cursor, "the cursor never moves back")
                cursor = page.cursor
                for change in page.changes { have.record(Dot(change.replica, change.lastCounter)) }
                if !page.more { break }
                try #require(pages < 10, "paging does not end")
            }
            #expect(pulled == rows.filter { $0.change.replica == b.replica }.map(\.change))
            #expect(pages == 5)
            #expect(cursor == positions[9004])
        }
    }
}
