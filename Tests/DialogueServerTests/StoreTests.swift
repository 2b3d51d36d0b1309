import DialogueModel
import DialogueServer
import DialogueSync
import Foundation
import Testing

/// One suite, run against both stores: what the service relies on from `SyncStore`.
@Suite("SyncStore contract (SQLite and PostgreSQL)")
struct StoreTests {
    @Test("vector: empty at first, the highest counter per author after appends, per space", arguments: StoreKind.allCases)
    func vectorAndAppend(_ kind: StoreKind) async throws {
        try await withFreshStore(kind) { fresh in
            let store = fresh.store
            let space = SpaceID(UUID())
            let other = SpaceID(UUID())
            #expect(try await store.vector(of: space) == VersionVector())
            var a = ChangeAuthor(space: space)
            var b = ChangeAuthor(space: space)
            let first = a.creates(3)
            let second = b.creates(2)
            try await store.append(first, to: space)
            try await store.append(second, to: space)
            #expect(try await store.vector(of: space) == VersionVector([a.replica: 3, b.replica: 2]))
            #expect(try await store.vector(of: other) == VersionVector())
            // A run of text occupies several counters: the vector covers its last one.
            let run = try a.textRun("hello")
            try await store.append(run, to: space)
            #expect(try await store.vector(of: space) == VersionVector([a.replica: 3 + 1 + 5, b.replica: 2]))
            // Appending nothing is a no-op.
            try await store.append([], to: space)
            #expect(try await store.vector(of: space)[a.replica] == 9)
            // Everything comes back intact, in storage order.
            let all = try await store.changes(in: space, missingFrom: VersionVector(), after: 0, limit: 100)
            #expect(all.changes == first + second + run)
            #expect(!all.more)
        }
    }

    @Test("storedChanges: an author's changes whose counters intersect the range, by counter", arguments: StoreKind.allCases)
    func storedChanges(_ kind: StoreKind) async throws {
        try await withFreshStore(kind) { fresh in
            let store = fresh.store
            let space = SpaceID(UUID())
            var a = ChangeAuthor(space: space)
            var b = ChangeAuthor(space: space)
            let run = try a.textRun("hello")  // create @1, insertText @2…6
            let last = a.creates(1)  // @7
            try await store.append(run + last, to: space)
            try await store.append(b.creates(2), to: space)
            #expect(run.count == 2 && run[1].id.counter == 2 && run[1].lastCounter == 6)
            #expect(try await store.storedChanges(in: space, replica: a.replica, counters: 1...1) == [run[0]])
            #expect(try await store.storedChanges(in: space, replica: a.replica, counters: 4...4) == [run[1]])
            #expect(try await store.storedChanges(in: space, replica: a.replica, counters: 6...7) == [run[1], last[0]])
            #expect(try await store.storedChanges(in: space, replica: a.replica, counters: 1...100) == run + last)
            #expect(try await store.storedChanges(in: space, replica: a.replica, counters: 8...20) == [])
            #expect(try await store.storedChanges(in: SpaceID(UUID()), replica: a.replica, counters: 1...7) == [])
            #expect(try await store.storedChanges(in: space, replica: b.replica, counters: 2...2).map(\.id) == [Dot(b.replica, 2)])
        }
    }

    @Test("changes(missingFrom:after:limit:): pages in storage order; `more` until the last page", arguments: StoreKind.allCases)
    func changesPaging(_ kind: StoreKind) async throws {
        try await withFreshStore(kind) { fresh in
            let store = fresh.store
            let space = SpaceID(UUID())
            var a = ChangeAuthor(space: space)
            var b = ChangeAuthor(space: space)
            let a1 = a.creates(3)
            let b1 = b.creates(2)
            let a2 = a.creates(2)
            let b2 = b.creates(2)
            var stored: [Change] = []
            for batch in [a1, b1, a2, b2] {
                try await store.append(batch, to: space)
                stored += batch
            }
            // Page through with a small limit, as a client does: raising its vector and
            // resuming at the cursor; then the same without the cursor (vector only).
            for useCursor in [true, false] {
                var have = VersionVector()
                var cursor: Int64 = 0
                var pulled: [Change] = []
                var pages = 0
                while true {
                    let page = try await store.changes(in: space, missingFrom: have, after: useCursor ? cursor : 0, limit: 3)
                    pages += 1
                    #expect(page.changes.count <= 3)
                    #expect(page.cursor >= cursor, "the cursor never moves back")
                    pulled += page.changes
                    cursor = page.cursor
                    for change in page.changes { have.record(Dot(change.replica, change.lastCounter)) }
                    if !page.more { break }
                    #expect(page.changes.count == 3, "a page with more behind it is full")
                    try #require(pages < 10, "paging does not end")
                }
                #expect(pulled == stored, "cursor: \(useCursor)")
                #expect(pages == 3)
            }
            // The limit exactly covering what is missing: no more.
            let exact = try await store.changes(in: space, missingFrom: VersionVector(), after: 0, limit: stored.count)
            #expect(exact.changes == stored && !exact.more)
            let short = try await store.changes(in: space, missingFrom: VersionVector(), after: 0, limit: stored.count - 1)
            #expect(short.changes == Array(stored.dropLast()) && short.more)
            // Nothing missing.
            let none = try await store.changes(in: space, missingFrom: try await store.vector(of: space), after: 0, limit: 5)
            #expect(none.changes.isEmpty && !none.more)
            // Partly held: only what the vector lacks, still in storage order.
            let partial = try await store.changes(
                in: space, missingFrom: VersionVector([a.replica: 3, b.replica: 1]), after: 0, limit: 100)
            #expect(partial.changes == [b1[1]] + a2 + b2)
            #expect(!partial.more)
            // A cursor from the end of one sync: the next one sees only what was stored since.
            let end = try await store.changes(in: space, missingFrom: VersionVector(), after: 0, limit: 100)
            let heldAtEnd = try await store.vector(of: space)
            let later = a.creates(2)
            try await store.append(later, to: space)
            let resumed = try await store.changes(in: space, missingFrom: heldAtEnd, after: end.cursor, limit: 100)
            #expect(resumed.changes == later)
            #expect(resumed.cursor > end.cursor)
            // Another space's changes never show up.
            #expect(try await store.changes(in: SpaceID(UUID()), missingFrom: VersionVector(), after: 0, limit: 10).changes.isEmpty)
        }
    }

    @Test("changes(missingFrom:): a text run partly held is sent whole", arguments: StoreKind.allCases)
    func partlyHeldRun(_ kind: StoreKind) async throws {
        try await withFreshStore(kind) { fresh in
            let space = SpaceID(UUID())
            var a = ChangeAuthor(space: space)
            let run = try a.textRun("hello")  // @1, @2…6
            try await fresh.store.append(run, to: space)
            let page = try await fresh.store.changes(in: space, missingFrom: VersionVector([a.replica: 4]), after: 0, limit: 10)
            #expect(page.changes == [run[1]])
        }
    }

    @Test("append: the same counters twice is a conflict, and a refused append stores nothing", arguments: StoreKind.allCases)
    func appendConflict(_ kind: StoreKind) async throws {
        try await withFreshStore(kind) { fresh in
            let store = fresh.store
            let space = SpaceID(UUID())
            var a = ChangeAuthor(space: space)
            var b = ChangeAuthor(space: space)
            let changes = a.creates(3)
            try await store.append(changes, to: space)
            await #expect(throws: StoreError.conflict) { try await store.append(changes, to: space) }
            await #expect(throws: StoreError.conflict) { try await store.append([changes[1]], to: space) }
            // Atomic: a new change batched with a duplicate is not stored either.
            let fromB = b.creates(1)
            await #expect(throws: StoreError.conflict) { try await store.append(fromB + [changes[2]], to: space) }
            #expect(try await store.vector(of: space) == VersionVector([a.replica: 3]))
            #expect(try await store.everything(in: space) == changes)
            // The store still works after a conflict.
            try await store.append(fromB, to: space)
            #expect(try await store.vector(of: space) == VersionVector([a.replica: 3, b.replica: 1]))
            // Counters are per space: the same dots in another space are no conflict.
            let elsewhere = SpaceID(UUID())
            try await store.append(
                changes.map {
                    var c = $0
                    c.space = elsewhere
                    return c
                }, to: elsewhere)
            #expect(try await store.vector(of: elsewhere) == VersionVector([a.replica: 3]))
        }
    }

    @Test(
        "concurrent appends by different authors to one space all succeed: only the same counters conflict",
        arguments: StoreKind.allCases)
    func concurrentAppends(_ kind: StoreKind) async throws {
        try await withFreshStore(kind) { fresh in
            let store = fresh.store
            let space = SpaceID(UUID())
            let batches = (0..<8).map { _ in
                var author = ChangeAuthor(space: space)
                return author.creates(3)
            }
            let conflicts = try await withThrowingTaskGroup(of: Int.self) { group in
                for batch in batches {
                    group.addTask {
                        do {
                            try await store.append(batch, to: space)
                            return 0
                        } catch StoreError.conflict {
                            return 1
                        }
                    }
                }
                return try await group.reduce(0, +)
            }
            #expect(conflicts == 0, "\(conflicts) of 8 appends of distinct authors failed with StoreError.conflict")
            let vector = try await store.vector(of: space)
            #expect(vector.counters.count == 8 && vector.counters.values.allSatisfy { $0 == 3 })
            // Storage order keeps each author's changes in counter order.
            let stored = try await store.everything(in: space)
            #expect(stored.count == 24)
            for batch in batches { #expect(stored.filter { $0.replica == batch[0].replica } == batch) }
        }
    }

    @Test("accounts: partnerships, schools, members; sharing on and off changes spaces(ofSchool:)", arguments: StoreKind.allCases)
    func accounts(_ kind: StoreKind) async throws {
        try await withFreshStore(kind) { fresh in
            let store = fresh.store
            #expect(try await store.partnerships().isEmpty)
            let partnership = try await store.createPartnership(name: "North Partnership")
            let hill = try await store.createSchool(name: "Hill Primary")
            let vale = try await store.createSchool(name: "Vale Academy")
            #expect(hill.privateSpace != vale.privateSpace && hill.privateSpace != partnership.sharedSpace)
            #expect(try await store.partnerships() == [partnership])
            // Before sharing: each school has its own private space only.
            #expect(try await store.spaces(ofSchool: hill.id) == [hill.privateSpace])
            try await store.addSchool(hill.id, toPartnership: partnership.id)
            try await store.addSchool(hill.id, toPartnership: partnership.id)  // idempotent
            try await store.addSchool(vale.id, toPartnership: partnership.id)
            #expect(try await store.spaces(ofSchool: hill.id) == [hill.privateSpace, partnership.sharedSpace])
            #expect(try await store.spaces(ofSchool: vale.id) == [vale.privateSpace, partnership.sharedSpace])
            var schools = try await store.schools()
            #expect(schools.map(\.name) == ["Hill Primary", "Vale Academy"])
            #expect(schools.map(\.partnerships) == [[partnership.id], [partnership.id]])
            #expect(schools.map(\.privateSpace) == [hill.privateSpace, vale.privateSpace])
            // Sharing off.
            try await store.removeSchool(vale.id, fromPartnership: partnership.id)
            #expect(try await store.spaces(ofSchool: vale.id) == [vale.privateSpace])
            #expect(try await store.spaces(ofSchool: hill.id) == [hill.privateSpace, partnership.sharedSpace])
            schools = try await store.schools()
            #expect(schools.map(\.partnerships) == [[partnership.id], []])
            // An unknown school has no spaces.
            #expect(try await store.spaces(ofSchool: UUID()).isEmpty)
            // Unknown accounts are refused by name.
            await #expect(throws: StoreError.self) { try await store.addSchool(UUID(), toPartnership: partnership.id) }
            await #expect(throws: StoreError.self) { try await store.addSchool(hill.id, toPartnership: UUID()) }
            await #expect(throws: StoreError.self) { _ = try await store.createMember(name: "Nobody", school: UUID(), role: .member) }
            // Members.
            let ada = try await store.createMember(name: "Ada", school: hill.id, role: .admin)
            let bo = try await store.createMember(name: "Bo", school: vale.id, role: .observer)
            #expect(try await store.members() == [ada, bo])
            #expect(ada.access == .admin && bo.access == .observer && bo.school == vale.id)
        }
    }

    @Test("tokens: looked up by hash, never by the token; revoking hides the member", arguments: StoreKind.allCases)
    func tokens(_ kind: StoreKind) async throws {
        try await withFreshStore(kind) { fresh in
            let store = fresh.store
            let school = try await store.createSchool(name: "Hill Primary")
            let ada = try await store.createMember(name: "Ada", school: school.id, role: .member)
            let (token, record) = Tokens.issue(for: ada.id, label: "laptop")
            let (otherToken, otherRecord) = Tokens.issue(for: ada.id, label: "phone")
            #expect(token.hasPrefix(Tokens.prefix) && token != otherToken)
            #expect(record.hash == Tokens.hash(token) && record.hash != Array(token.utf8))
            try await store.storeToken(record)
            try await store.storeToken(otherRecord)
            #expect(try await store.member(forTokenHash: Tokens.hash(token)) == ada)
            #expect(try await store.member(forTokenHash: Array(token.utf8)) == nil)
            #expect(try await store.member(forTokenHash: Tokens.hash("dlg_unknown")) == nil)
            // A token for an unknown member is refused.
            let (_, stray) = Tokens.issue(for: UUID(), label: "stray")
            await #expect(throws: StoreError.self) { try await store.storeToken(stray) }
            // Revoke: once; the other token of the same member keeps working.
            #expect(try await store.revokeToken(id: record.id))
            #expect(try await store.member(forTokenHash: Tokens.hash(token)) == nil)
            #expect(try await store.revokeToken(id: record.id) == false)
            #expect(try await store.revokeToken(id: UUID()) == false)
            #expect(try await store.member(forTokenHash: Tokens.hash(otherToken)) == ada)
        }
    }

    @Test("SQLite: the background checkpointer moves the log into the database file; a reopened store holds everything")
    func sqliteCheckpointsInTheBackground() async throws {
        let directory = ServerTestDirectory()
        let path = directory.path("store.sqlite")
        let store = try SQLiteSyncStore(path: path, checkpointInterval: .milliseconds(50))
        func size() -> Int { ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? Int) ?? 0 }
        let before = size()
        var author = ChangeAuthor(space: SpaceID(UUID()))
        for _ in 0..<20 { try await store.append(try author.textRun(String(repeating: "words ", count: 200)), to: author.space) }
        var grew = false
        for _ in 0..<100 where !grew {
            try await Task.sleep(for: .milliseconds(50))
            grew = size() > before + 100_000
        }
        #expect(grew, "the database file did not grow: nothing was checkpointed")
        try await store.close()
        // Reopened, everything is there.
        let reopened = try SQLiteSyncStore(path: path)
        #expect(try await reopened.everything(in: author.space).count == 40)
        try await reopened.close()
    }

    @Test("PostgreSQL: a database from before per-space heads gets them at start; appends continue after the stored seqs")
    func postgresHeadsBackfill() async throws {
        try await withFreshStore(.postgres) { fresh in
            var author = ChangeAuthor(space: SpaceID(UUID()))
            let first = author.creates(3)
            try await fresh.store.append(first, to: author.space)
            let database = try #require(fresh.database)
            let dropped = try await runProcess(
                PostgresTestDatabase.psql, [database.url, "-v", "ON_ERROR_STOP=1", "-qAt", "-c", "DROP TABLE server_space_heads"])
            #expect(dropped.status == 0, "\(dropped.stderr)")
            let reopened = try await PostgresSyncStore.connect(
                url: database.url, logger: quietLogger("dialogue.test.postgres"), timeout: postgresTestTimeout)
            let second = author.creates(2)
            try await reopened.append(second, to: author.space)
            #expect(
                try await reopened.changes(in: author.space, missingFrom: VersionVector(), after: 0, limit: 100).changes == first + second)
            // Resuming after the first three changes finds exactly the new ones.
            #expect(try await reopened.changes(in: author.space, missingFrom: VersionVector(), after: 3, limit: 100).changes == second)
            #expect(try await reopened.vector(of: author.space) == VersionVector([author.replica: 5]))
            try await reopened.close()
        }
    }

    @Test("access: a token's member and spaces in one call; sharing and revoking change it", arguments: StoreKind.allCases)
    func access(_ kind: StoreKind) async throws {
        try await withFreshStore(kind) { fresh in
            let store = fresh.store
            let north = try await store.createPartnership(name: "North")
            let south = try await store.createPartnership(name: "South")
            let hill = try await store.createSchool(name: "Hill Primary")
            let ada = try await store.createMember(name: "Ada", school: hill.id, role: .observer)
            let (token, record) = Tokens.issue(for: ada.id, label: "laptop")
            try await store.storeToken(record)
            var access = try #require(try await store.access(forTokenHash: Tokens.hash(token)))
            // Her own personal space beside her school's (made with her, kept for good).
            let personal = try await store.personalSpace(of: ada.id)
            #expect(access.member == ada && access.spaces == [hill.privateSpace, personal] && access.personal == personal)
            try await store.addSchool(hill.id, toPartnership: north.id)
            try await store.addSchool(hill.id, toPartnership: south.id)
            access = try #require(try await store.access(forTokenHash: Tokens.hash(token)))
            #expect(access.spaces == [hill.privateSpace, north.sharedSpace, south.sharedSpace, personal])
            #expect(try await store.access(forTokenHash: Tokens.hash("dlg_unknown")) == nil)
            _ = try await store.revokeToken(id: record.id)
            #expect(try await store.access(forTokenHash: Tokens.hash(token)) == nil)
        }
    }

    @Test("ping answers", arguments: StoreKind.allCases)
    func ping(_ kind: StoreKind) async throws {
        try await withFreshStore(kind) { fresh in try await fresh.store.ping() }
    }
}
