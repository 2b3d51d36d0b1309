import DialogueModel
import Foundation
import GRDB
import Logging

/// What a merge did.
public struct MergeReport: Sendable, Equatable {
    /// Changes (or the parts of them not yet held) applied.
    public var applied = 0
    /// Changes already held in full: nothing to do.
    public var alreadyHeld = 0
    /// Changes held back until their causal past arrives (stored; applied when it does).
    public var waiting = 0

    public init(applied: Int = 0, alreadyHeld: Int = 0, waiting: Int = 0) {
        self.applied = applied
        self.alreadyHeld = alreadyHeld
        self.waiting = waiting
    }
}

extension Replica {
    /// Applies changes from elsewhere (any of the replica's spaces, or new ones).
    ///
    /// Atomic and idempotent: the batch lands whole or not at all, in causal order;
    /// changes whose causal past has not arrived are stored and applied when it does;
    /// changes already held are skipped. A change that is invalid (refers to elements it
    /// could not have seen, malformed, timestamp too far ahead of this device's clock)
    /// refuses the whole batch with `ReplicaError/changeRejected(_:reason:)`.
    @discardableResult
    public func merge(_ changes: [Change]) throws(ReplicaError) -> MergeReport {
        var frames = [changes].makeIterator()
        return try merge { frames.next().map { ($0, nil) } }
    }

    /// Applies frames of changes, pulled one at a time, in one transaction (so a large
    /// bundle never has to be decoded into memory at once). A frame may come with its
    /// encoded bytes: when it applies exactly as received, those bytes are stored as the
    /// block rather than encoding the changes again.
    ///
    /// `receivedTouches`, when given, answers (once the frames are exhausted) what the
    /// frames received touch, worked out while they were read: a frame applied exactly as
    /// received then needs no second pass over its changes. (It may name more than what
    /// was applied, changes already held or left waiting; materialising those entities
    /// again changes nothing.)
    ///
    /// `verify`, when given, runs in the merge's transaction before each frame applies: it
    /// checks the frame and stores what vouches for it (heads, positions), or throws and
    /// nothing of the whole merge is stored.
    ///
    /// `justifyingStripped`: every change received stripped of its content must be covered
    /// by an erasure the space's document holds once every frame is applied (docs/TRUST.md,
    /// "Erasure"), else the merge is refused with `erasure_not_permitted`.
    func merge(
        nextFrame: () throws -> (changes: [Change], encoded: Data?)?,
        receivedTouches: (() -> [SpaceID: [EntityID: Materializer.Touch]])? = nil,
        justifyingStripped: Bool = false,
        verify: ((Database, [Change]) throws -> Void)? = nil
    ) throws(ReplicaError) -> MergeReport {
        // Documents touched by the merge move out of `documents` so they change in place
        // (built from the log first when not built yet); they come back on success, or are
        // built again from the database at their next use after a failure.
        try prepareToWrite()
        var working: [SpaceID: SpaceDocument] = [:]
        var moved: Set<SpaceID> = []
        var materialized = conflictedRegisters
        var touches: [SpaceID: [EntityID: Materializer.Touch]] = [:]
        var spaceOrder: [SpaceID] = []  // as first met: the order refusals are reported in
        var textThreads = TextThreads(threshold: concurrentTextThreshold)
        var touchedAsReceived: Set<SpaceID> = []  // spaces with a frame left to `receivedTouches`
        var clock = self.clock
        var report = MergeReport()
        let logger = self.logger
        // Erasures: each space's count before the merge (a space that gains one has its
        // storage rewritten), and whether what is freed is zeroed (SecureErase) from the
        // first frame that brings one or touches a space that holds one.
        var erasuresBefore: [SpaceID: Int] = [:]
        var secureDelete = false
        var scrub = false  // erased content was stored or freed: merge the search index, truncate the WAL
        var withheld: [Change] = []  // received stripped, to be justified
        do {
            try write { db in
                defer { if secureDelete { SecureErase.end(db) } }
                while let (frame, encoded) = try nextFrame() {
                    try verify?(db, frame)
                    if justifyingStripped { withheld.append(contentsOf: frame.lazy.filter(\.isContentErased)) }
                    if !secureDelete, ErasureRewrite.holdsErasure(frame) {
                        try SecureErase.begin(db)
                        secureDelete = true
                    }
                    var order: [SpaceID] = []
                    var bySpace: [SpaceID: [Change]] = [:]
                    if let first = frame.first?.space, frame.allSatisfy({ $0.space == first }) {
                        (order, bySpace) = ([first], [first: frame])  // the usual frame: one space, nothing to copy
                    } else {
                        for change in frame {
                            if bySpace[change.space] == nil { order.append(change.space) }
                            bySpace[change.space, default: []].append(change)
                        }
                    }
                    for space in order {
                        if working[space] == nil {
                            spaceOrder.append(space)
                            if let held = try takeDocument(space, db) {
                                erasuresBefore[space] = held.erasures.count
                                if !secureDelete, !held.erasures.isEmpty {
                                    try SecureErase.begin(db)
                                    secureDelete = true
                                }
                                working[space] = held
                                moved.insert(space)
                            } else {
                                working[space] = SpaceDocument(space: space)
                                try Self.insertSpace(space, db, clock: clock)
                            }
                        }
                        var document = working[space]!
                        working[space] = nil  // keep the document uniquely referenced while it changes
                        defer { working[space] = document }  // back, even when the frame is refused
                        if let oldest = textThreads.start(space, &document, frameSize: bySpace[space]!.count) {
                            try Self.endTextThreads(&textThreads, in: &working, order: [oldest])
                        }
                        document.startJournal(omittingVerbatimHead: true)
                        let quarantined = document.quarantined.count
                        var latest = HLCTimestamp.zero
                        let batch = bySpace[space]!
                        let horizon = clock.acceptanceHorizon()
                        var duplicates = BatchDuplicates(heldBefore: document.vector)
                        for (index, change) in batch.enumerated() {
                            guard change.timestamp.wallTime <= horizon else {
                                throw ReplicaError.changeRejected(
                                    change.id, code: .timestampTooFarAhead,
                                    reason: "its timestamp \(change.timestamp) is too far ahead of this device's clock")
                            }
                            if let clash = duplicates.clash(of: index, in: batch, held: document.vector[change.replica]) {
                                throw ReplicaError.changeRejected(
                                    change.id, code: .conflictingDuplicate, reason: "the same batch holds \(clash) with different content")
                            }
                            do {
                                switch try document.apply(change) {
                                case .applied: report.applied += 1
                                case .alreadyHeld: report.alreadyHeld += 1
                                case .buffered: break
                                }
                            } catch let error as ChangeError {
                                throw ReplicaError.changeRejected(change.id, code: RejectionCode(error), reason: error.description)
                            }
                            if document.lentTextWorkCount >= TextThreads.batchSize || document.waitsForLentTexts {
                                try Self.feed(&textThreads, space, &document)
                            }
                            latest = max(latest, change.timestamp)
                        }
                        // The rest of the frame's text to the thread, to integrate while the next frame is read.
                        try Self.feed(&textThreads, space, &document, all: true)
                        let refused = document.quarantined.dropFirst(quarantined)
                        let batchIDs = refused.isEmpty ? [] : Set(batch.map(\.id))
                        for (change, error) in refused {
                            if batchIDs.contains(change.id) {
                                throw ReplicaError.changeRejected(change.id, code: RejectionCode(error), reason: error.description)
                            }
                            // Stored earlier while waiting; invalid now that its past arrived. Drop it, loudly.
                            logger.error("dropped an invalid waiting change", metadata: ["change": "\(change.id)", "error": "\(error)"])
                        }
                        // What applied: the batch's head as received, then the journal (the rest).
                        let head = document.verbatimJournalHead
                        let tail = document.journal ?? []
                        document.journal = nil
                        let asReceived = tail.isEmpty && head == batch.count
                        let applied = asReceived ? batch : Array(batch[..<head]) + tail
                        // Content an erasure held here covers arrived and was stripped (its copy is freed).
                        if secureDelete, tail.contains(where: \.isContentErased) { scrub = true }
                        let verbatim = encoded != nil && order.count == 1 && asReceived
                        if let encoded, verbatim {
                            try Self.appendEncodedBlock(encoded, count: batch.count, space: space, db)
                        } else {
                            try Self.appendBlocks(applied, space: space, db)
                        }
                        try Self.storeVector(of: applied, space: space, db)
                        if verbatim, receivedTouches != nil {
                            touchedAsReceived.insert(space)
                        } else {
                            Materializer.collect(applied, into: &touches[space, default: [:]])
                        }
                        if latest > .zero { _ = try? clock.receive(latest) }
                    }
                }
                try Self.endTextThreads(&textThreads, in: &working, order: spaceOrder)
                if !touchedAsReceived.isEmpty, let received = receivedTouches?() {
                    for space in touchedAsReceived {
                        guard let touched = received[space] else { continue }
                        guard touches[space] != nil else {
                            touches[space] = touched
                            continue
                        }
                        for (entity, touch) in touched { touches[space, default: [:]][entity, default: .init()].formUnion(touch) }
                    }
                }
                for change in withheld where !ErasureRewrite.covers(&working[change.space]!, change) {
                    throw ReplicaError.unverifiedChanges(
                        .erasureNotPermitted(
                            change.id,
                            reason: "its content was withheld (stripped) without an erasure that covers it; "
                                + "a relay may not hide someone's words"))
                }
                // A space that gained an erasure: its log rewritten, its document rebuilt.
                for space in spaceOrder where working[space]!.erasures.count > erasuresBefore[space] ?? 0 {
                    let rewrite = try ErasureRewrite.apply(working[space]!, db)
                    working[space] = rewrite.document
                    for (entity, touch) in rewrite.touches { touches[space, default: [:]][entity, default: .init()].formUnion(touch) }
                    scrub = true
                }
                for space in working.keys {
                    // What arrived to wait, settled against the erasures held: no erased words wait on disk.
                    let settled = working[space]!.settleWaiting()
                    if settled.stripped > 0 || !settled.dropped.isEmpty {
                        scrub = true
                        logger.notice(
                            "waiting changes an erasure may cover were settled",
                            metadata: ["space.id": "\(space)", "stripped": "\(settled.stripped)", "dropped": "\(settled.dropped.count)"])
                    }
                    let document = working[space]!
                    report.waiting += document.pendingCount
                    try WaitingChanges.store(document.pendingChanges, of: space, db)
                    if let touched = touches[space] {
                        var materializer = Materializer(space: space, after: document, conflicted: materialized)
                        try materializer.refresh(touched, in: db)
                        materialized = materializer.conflicted
                    }
                }
                if scrub { try SecureErase.mergeSearchIndex(db) }
            }
        } catch {
            // A text change refused on an integration thread came before whatever stopped
            // the merge here (or is what stopped it): report that one.
            var refusal = error
            do { try Self.endTextThreads(&textThreads, in: &working, order: spaceOrder) } catch { refusal = error }
            for space in moved { restore(space, nil) }
            throw refusal
        }
        documents.merge(working) { _, new in new }
        held.formUnion(working.keys)
        // A merge may bring this device's own changes back (a restored replica): its chain
        // in those spaces is read again from the database at the next edit.
        for space in working.keys { ownChains[space] = nil }
        conflictedRegisters = materialized
        self.clock = clock
        if scrub { truncateWALAfterErasure() }
        logger.debug("merged", metadata: ["applied": "\(report.applied)", "held": "\(report.alreadyHeld)", "waiting": "\(report.waiting)"])
        return report
    }

    /// Ends the text threads of the spaces in `order`, taking their texts back; the first
    /// refusal, in that order, refuses the merge.
    private static func endTextThreads(
        _ threads: inout TextThreads, in working: inout [SpaceID: SpaceDocument], order: [SpaceID]
    ) throws(ReplicaError) {
        do throws(RefusedTextChange) { try threads.endAll(&working, order: order) } catch { throw rejection(error) }
    }

    /// ``TextThreads/feed(_:_:all:)``, a refusal refusing the merge.
    private static func feed(
        _ threads: inout TextThreads, _ space: SpaceID, _ document: inout SpaceDocument, all: Bool = false
    ) throws(ReplicaError) {
        do throws(RefusedTextChange) { try threads.feed(space, &document, all: all) } catch { throw rejection(error) }
    }

    private static func rejection(_ refusal: RefusedTextChange) -> ReplicaError {
        .changeRejected(refusal.change, code: RejectionCode(refusal.error), reason: refusal.error.description)
    }
}

/// Compares changes of one merge batch that name the same counters, as the server compares
/// duplicates inside one request: identical copies are harmless, different content refuses
/// the batch. (Counters held before the batch are not compared: the log would have to be
/// read; the server compares those.) Costs nothing until a change overlaps one applied
/// earlier in the batch: only then are the batch's earlier changes indexed, by author.
struct BatchDuplicates {
    let heldBefore: VersionVector
    /// Batch positions by author, once a first overlap was met (then kept up to date).
    private var byAuthor: [ReplicaID: [Int]]?
    private var indexedUpTo = 0

    init(heldBefore: VersionVector) { self.heldBefore = heldBefore }

    /// An earlier change of `batch` that names some of `batch[index]`'s counters with
    /// other content, if any; `held` is what the document holds of its author before it applies.
    mutating func clash(of index: Int, in batch: [Change], held: UInt64) -> Dot? {
        let change = batch[index]
        let overlapsBatch = change.id.counter <= held && held > heldBefore[change.replica]
        guard overlapsBatch || byAuthor != nil else { return nil }
        var positions = byAuthor ?? [:]
        byAuthor = nil  // uniquely referenced while it grows
        for earlier in indexedUpTo..<index { positions[batch[earlier].replica, default: []].append(earlier) }
        indexedUpTo = index
        byAuthor = positions
        guard overlapsBatch else { return nil }
        for earlier in positions[change.replica] ?? [] {
            let other = batch[earlier]
            guard other.id.counter <= change.lastCounter, other.lastCounter >= change.id.counter else { continue }
            if !other.agrees(with: change) { return other.id }
        }
        return nil
    }
}
