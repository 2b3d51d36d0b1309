import DialogueModel
import DialogueSync
import Foundation
import Logging
import Metrics

/// The server's pure view of the spaces it serves, so that a pushed change that refers to
/// elements nobody holds (a text origin, a deleted range, a list item) is refused before
/// it is stored. Stored, such a change would be refused by every replica, and the space
/// would stop syncing for everyone.
///
/// A space's document is built from the store on first use and caught up from its cursor
/// before every check, so changes stored by other server processes are seen. Pushed
/// changes are applied to a scratch copy of the document (copy-on-write: only the tables
/// they touch are copied), which replaces the cached one only once they are stored
/// (``commit(_:)``). A refused push, whatever the reason, leaves the cached document as it
/// was: refusing costs the size of the push, never a rebuild from the store. A check and
/// the append after it run under the space's lock (``withLock(_:_:)``), so no request is
/// checked against changes that another request of this process has not stored. The least
/// recently used documents are dropped beyond `capacity` spaces.
actor SpaceDocuments {
    private struct Entry {
        var document: SpaceDocument
        /// The store's scan position up to which `document` holds the space.
        var cursor: Int64
        var lastUsed: UInt64
    }

    /// A space's document with a request's changes applied, kept aside until they are stored.
    struct Checked: Sendable {
        let space: SpaceID
        fileprivate let document: SpaceDocument
        fileprivate let cursor: Int64
        /// The request's changes as they are to be stored: stripped of what an erasure the
        /// document holds covers (what it journals), never as received.
        let stored: [Change]
        /// Whether the request holds an erasure: once stored, the space's stored changes it
        /// covers are rewritten stripped (``commitErasing(_:store:)``).
        let erasing: Bool
    }

    private let capacity: Int
    private let logger: Logger
    private var entries: [SpaceID: Entry] = [:]
    private var useCount: UInt64 = 0
    private var locked: Set<SpaceID> = []
    private var waiting: [CheckedContinuation<Void, Never>] = []
    /// How many documents were built from the store from the start (a cache miss).
    private(set) var rebuilds = 0
    private let rebuildCounter = Counter(label: "dialogue_space_document_rebuilds_total")

    init(capacity: Int, logger: Logger) {
        self.capacity = max(1, capacity)
        self.logger = logger
    }

    // MARK: Locks

    /// Runs `body` holding the locks of `spaces` (all taken at once, so two requests over
    /// the same spaces in different orders cannot deadlock).
    nonisolated func withLock<T: Sendable>(_ spaces: [SpaceID], _ body: () async throws -> T) async throws -> T {
        await acquire(spaces)
        do {
            let result = try await body()
            await release(spaces)
            return result
        } catch {
            await release(spaces)
            throw error
        }
    }

    private func acquire(_ spaces: [SpaceID]) async {
        while spaces.contains(where: locked.contains) {
            await withCheckedContinuation { waiting.append($0) }
        }
        locked.formUnion(spaces)
    }

    private func release(_ spaces: [SpaceID]) {
        locked.subtract(spaces)
        let woken = waiting
        waiting = []
        for waiter in woken { waiter.resume() }  // each checks its spaces again
    }

    // MARK: Checks

    /// Applies `changes` (already checked for shape, gaps, dependencies and duplicates) to a
    /// scratch copy of the space's document, caught up from the store first, and returns
    /// those it refuses, or the copy to ``commit(_:)`` once the changes are stored. The
    /// cached document never holds unstored changes. Call under the space's lock.
    /// `members` is the certified member of each author (its verified certificate's): a
    /// field naming the writer is checked against it and the entity's creator
    /// (``AuthorshipRule``, `author_mismatch`) before anything is applied.
    ///
    /// Erasures (docs/PRIVACY.md, "Erasure"), once the whole request is applied: each must
    /// be permitted to its writer (``ErasureAuthority``: an approval signed by a key of
    /// `ring`, the author erasing their own insight, whose creators' members
    /// `certifiedMembers` gives, or `personalOwner` in their own personal space), and each stripped change received must be covered by an
    /// erasure the document then holds, else a relay could withhold someone's words while
    /// their chain still verifies; both refusals are `erasure_not_permitted`.
    func check(
        _ changes: [Change], in space: SpaceID, members: [ReplicaID: UUID], ring: ServerKeyRing, personalOwner: UUID?,
        certifiedMembers: @Sendable ([ReplicaID]) async throws -> [ReplicaID: UUID], store: any SyncStore
    ) async throws -> Result<Checked, Refusal> {
        let entry = try await caughtUp(space, store: store)
        var scratch = entry.document
        var rejected: [Rejection] = []
        var runs: [ReplicaID: [Change]] = [:]
        for change in changes { runs[change.replica, default: []].append(change) }
        for (author, run) in runs.sorted(by: { $0.key < $1.key }) {
            guard let member = members[author] else { continue }  // verified without one: cannot happen
            do throws(TrustError) {
                try AuthorshipRule.check(run, member: member, refusingSecondCreations: true, origin: entry.document.authorshipOrigin(of:))
            } catch {
                rejected.append(Rejection(id: error.dot ?? run[0].id, code: .authorMismatch, reason: error.description))
            }
        }
        guard rejected.isEmpty else { return .failure(Refusal(rejected: rejected)) }
        let quarantined = scratch.quarantined.count
        for change in changes {
            do {
                if try scratch.apply(change) == .buffered {
                    rejected.append(
                        Rejection(id: change.id, code: .missingDependency, reason: "depends on changes the server does not hold"))
                }
            } catch {
                rejected.append(Rejection(id: change.id, code: RejectionCode(error), reason: error.description))
            }
        }
        for (change, error) in scratch.quarantined.dropFirst(quarantined) {
            rejected.append(Rejection(id: change.id, code: RejectionCode(error), reason: error.description))
        }
        guard rejected.isEmpty else { return .failure(Refusal(rejected: rejected)) }
        let erasing = changes.contains(where: \.isErasure)
        if erasing {
            rejected += try await erasureRefusals(
                runs, members: members, in: scratch, ring: ring, personalOwner: personalOwner, certifiedMembers: certifiedMembers)
        }
        for change in changes where change.isContentErased && !scratch.erases(change) {
            rejected.append(
                Rejection(
                    id: change.id, code: .erasureNotPermitted,
                    reason: "the content of \(change.id) was withheld (sent stripped) without an erasure that covers it"))
        }
        guard rejected.isEmpty else { return .failure(Refusal(rejected: rejected)) }
        let stored = scratch.erasures.isEmpty ? changes : scratch.strippingErased(changes).changes
        return .success(Checked(space: space, document: scratch, cursor: entry.cursor, stored: stored, erasing: erasing))
    }

    /// The refusals of the erasures in `runs` (one per author) by ``ErasureAuthority``,
    /// judged against `applied` (the request applied: an insight created and erased in one
    /// request is its author's). An approval that does not verify keeps its own code.
    private func erasureRefusals(
        _ runs: [ReplicaID: [Change]], members: [ReplicaID: UUID], in applied: SpaceDocument, ring: ServerKeyRing,
        personalOwner: UUID?, certifiedMembers: @Sendable ([ReplicaID]) async throws -> [ReplicaID: UUID]
    ) async throws -> [Rejection] {
        var creators: Set<ReplicaID> = []
        for run in runs.values {
            for change in run {
                guard case .erase(let erasure) = change.operation else { continue }
                switch erasure.target {
                case .entity(let entity), .field(let entity, _):
                    creators.formUnion(applied.authorshipOrigin(of: entity)?.creators ?? [])
                case .contributions: break
                }
            }
        }
        let certified = try await certifiedMembers(creators.sorted())
        var rejected: [Rejection] = []
        for (author, run) in runs.sorted(by: { $0.key < $1.key }) where run.contains(where: \.isErasure) {
            guard let member = members[author] else { continue }  // verified without one: cannot happen
            do throws(TrustError) {
                try ErasureAuthority.check(run, member: member, trusting: ring, personalOwner: personalOwner) { entity in
                    ErasureAuthority.origin(applied.authorshipOrigin(of: entity)) { certified[$0] }
                }
            } catch {
                if case .erasureNotPermitted(let dot, _) = error {
                    rejected.append(Rejection(id: dot, code: .erasureNotPermitted, reason: error.description))
                } else {
                    rejected.append(SyncService.rejection(error, of: run))
                }
            }
        }
        return rejected
    }

    /// The refusals of one space's check.
    struct Refusal: Error {
        var rejected: [Rejection]
    }

    /// Keeps a checked document as the space's cached one: its changes are stored now.
    /// Call under the space's lock, after the append.
    func commit(_ checked: Checked) {
        guard entries[checked.space] != nil else { return }  // evicted meanwhile: built again when needed
        entries[checked.space]!.document = checked.document
        entries[checked.space]!.cursor = checked.cursor
    }

    /// Keeps a checked document whose request held an erasure, once its changes are stored:
    /// every stored change of the space an erasure covers is rewritten stripped in the store
    /// (``SyncStore/rewrite(_:in:)``), and the cached document is rebuilt from the stripped
    /// log, so no erased content stays in memory either. Call under the space's lock, after
    /// the append. If the rewrite fails the cached document is dropped: the next check
    /// builds it from the store and finishes the rewrite (``caughtUp(_:store:)``).
    func commitErasing(_ checked: Checked, store: any SyncStore) async throws {
        entries[checked.space] = nil
        try await remember(settled(checked.document, in: checked.space, store: store), for: checked.space)
    }

    /// `document` (holding everything stored of `space` and an erasure) rebuilt from the
    /// stored log once the store's changes it erases are rewritten stripped; the entry
    /// holds the log up to its end.
    private func settled(_ document: SpaceDocument, in space: SpaceID, store: any SyncStore) async throws -> Entry {
        var document = document
        var log: [Change] = []
        var cursor: Int64 = 0
        while true {
            let page = try await store.changes(in: space, missingFrom: VersionVector(), after: cursor, limit: 10_000)
            log += page.changes
            cursor = page.cursor
            if !page.more { break }
        }
        let stripped = document.strippingErased(log).changes
        let rewritten = zip(log, stripped).filter { !$0.0.isContentErased && $0.1.isContentErased }.map(\.1)
        if !rewritten.isEmpty {
            try await store.rewrite(rewritten, in: space)
            logger.notice("erased content rewritten", metadata: ["space.id": "\(space)", "changes": "\(rewritten.count)"])
        }
        return Entry(document: try document.rebuilt(from: stripped), cursor: cursor, lastUsed: 0)
    }

    /// The space's cached document (built from the store on a miss) with every change the
    /// store holds applied; it stays in the cache. When the changes caught up hold an
    /// erasure (stored by another process, or before a crash cut its rewrite short), or a
    /// change stored with content that an erasure held covers (another process stored it
    /// before it saw the erasure), the store's changes the erasures cover are rewritten
    /// stripped and the document rebuilt.
    private func caughtUp(_ space: SpaceID, store: any SyncStore) async throws -> Entry {
        // Out of the dictionary while it changes, so the document is edited in place.
        var entry: Entry
        if let cached = entries.removeValue(forKey: space) {
            entry = cached
        } else {
            entry = Entry(document: SpaceDocument(space: space), cursor: 0, lastUsed: 0)
            rebuilds += 1
            rebuildCounter.increment()
        }
        var needsSettling = false
        while true {
            let page: ChangePageResult
            do {
                page = try await store.changes(in: space, missingFrom: VersionVector(), after: entry.cursor, limit: 10_000)
            } catch {
                if entry.cursor > 0 { remember(entry, for: space) }  // what it holds so far is still true
                throw error
            }
            for change in page.changes {
                do { try entry.document.replay(CollectionOfOne(change)) } catch {  // stored: accepted once already
                    logger.error("a stored change cannot be applied", metadata: ["change": "\(change.id)", "error": "\(error)"])
                }
                // An erasure, or a change stored with content that an erasure held covers
                // (another process stored it before it saw the erasure): settle the store.
                if !needsSettling, change.isErasure || (!change.isContentErased && entry.document.erases(change)) {
                    needsSettling = true
                }
            }
            entry.cursor = page.cursor
            if !page.more { break }
        }
        if needsSettling { entry = try await settled(entry.document, in: space, store: store) }
        remember(entry, for: space)
        return entry
    }

    private func remember(_ entry: Entry, for space: SpaceID) {
        var entry = entry
        useCount += 1
        entry.lastUsed = useCount
        entries[space] = entry
        if entries.count > capacity, let oldest = entries.min(by: { $0.value.lastUsed < $1.value.lastUsed })?.key {
            entries[oldest] = nil
        }
    }
}

extension Change {
    /// Whether this change is an erasure (``Operation/erase(_:)``).
    var isErasure: Bool {
        if case .erase = operation { true } else { false }
    }
}
