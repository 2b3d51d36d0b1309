import DialogueModel
import DialogueSync
import Logging

/// The server's pure view of the spaces it serves, so that a pushed change that refers to
/// elements nobody holds (a text origin, a deleted range, a list item) is refused before
/// it is stored. Stored, such a change would be refused by every replica, and the space
/// would stop syncing for everyone.
///
/// A space's document is built from the store on first use and caught up from its cursor
/// before every check, so changes stored by other server processes are seen. A check and
/// the append after it run under the space's lock (``withLock(_:_:)``), so no request is
/// checked against changes that another request of this process has not stored; when an
/// append fails, ``forget(_:)`` drops the documents that hold its changes. The least
/// recently used documents are dropped beyond `capacity` spaces.
actor SpaceDocuments {
    private struct Entry {
        var document: SpaceDocument
        /// The store's scan position up to which `document` holds the space.
        var cursor: Int64
        var lastUsed: UInt64
    }

    private let capacity: Int
    private let logger: Logger
    private var entries: [SpaceID: Entry] = [:]
    private var useCount: UInt64 = 0
    private var locked: Set<SpaceID> = []
    private var waiting: [CheckedContinuation<Void, Never>] = []

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

    /// Applies `changes` (already checked for shape, gaps, dependencies and duplicates) to
    /// the space's document, caught up from the store first, and returns those it refuses.
    /// On success the document keeps them, as the append that follows stores them; on any
    /// refusal it is dropped. Call under the space's lock.
    func check(_ changes: [Change], in space: SpaceID, store: any SyncStore) async throws -> [Rejection] {
        // Out of the dictionary while it changes, so the document is edited in place.
        var entry = entries.removeValue(forKey: space) ?? Entry(document: SpaceDocument(space: space), cursor: 0, lastUsed: 0)
        while true {
            let page = try await store.changes(in: space, missingFrom: VersionVector(), after: entry.cursor, limit: 10_000)
            for change in page.changes {
                do { try entry.document.replay(CollectionOfOne(change)) } catch {  // stored: accepted once already
                    logger.error("a stored change cannot be applied", metadata: ["change": "\(change.id)", "error": "\(error)"])
                }
            }
            entry.cursor = page.cursor
            if !page.more { break }
        }
        var rejected: [Rejection] = []
        let quarantined = entry.document.quarantined.count
        for change in changes {
            do {
                if try entry.document.apply(change) == .buffered {
                    rejected.append(
                        Rejection(id: change.id, code: .missingDependency, reason: "depends on changes the server does not hold"))
                }
            } catch {
                rejected.append(Rejection(id: change.id, code: Self.code(of: error), reason: error.description))
            }
        }
        for (change, error) in entry.document.quarantined.dropFirst(quarantined) {
            rejected.append(Rejection(id: change.id, code: Self.code(of: error), reason: error.description))
        }
        guard rejected.isEmpty else { return rejected }
        useCount += 1
        entry.lastUsed = useCount
        entries[space] = entry
        if entries.count > capacity, let oldest = entries.min(by: { $0.value.lastUsed < $1.value.lastUsed })?.key {
            entries[oldest] = nil
        }
        return []
    }

    /// The stable code of a change the document refused.
    static func code(of error: ChangeError) -> RejectionCode {
        switch error {
        case .impossibleHistory: .impossibleHistory
        case .invalidValue: .invalidValue
        case .malformed: .malformed
        case .wrongSpace: .wrongSpace
        case .invalidReference, .invalidPosition: .unknownReference
        }
    }

    /// Drops the documents of `spaces` (they may hold changes that were not stored).
    func forget(_ spaces: [SpaceID]) {
        for space in spaces { entries[space] = nil }
    }
}
