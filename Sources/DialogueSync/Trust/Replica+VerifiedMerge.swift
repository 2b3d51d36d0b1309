import DialogueModel
import Foundation
import GRDB

extension Replica {
    /// Applies signed changes from elsewhere (a sync page, a bundle, a colleague's relay)
    /// once every author's run verifies (docs/TRUST.md, "Verification").
    ///
    /// Per space and author, what the replica already holds is dropped and the rest must
    /// extend the author's chain as held here, end at a head signed by the author's
    /// certified key (this device's own key for its own changes), and stop before the
    /// author's revocation. Changes after the author's last head offered are accepted
    /// only when they were written before signing existed: at or below the space's legacy
    /// vector in the cached space directory (docs/TRUST.md, "Migration"); the author's
    /// chain advances over them and they are marked (``isUnsignedLegacy(_:in:)``). Certificates and revocations come from `evidence` (checked under
    /// the pinned server key) or from the trust cache. A run that does not verify refuses
    /// the whole batch with ``ReplicaError/unverifiedChanges(_:)`` and nothing is stored;
    /// otherwise the changes merge as ``merge(_:)`` does and the heads passed, the authors'
    /// new positions and the certificates used are stored in the same transaction.
    ///
    /// Erasures are checked as the server checks them (`ErasureAuthority`: an admin's
    /// approval, or the author erasing their own insight; `erasure_not_permitted`). A change
    /// whose content arrives stripped must be covered by an erasure this replica holds once
    /// the batch is applied, else the batch is refused (`erasure_not_permitted`): a relay
    /// may not withhold someone's words while their chain still verifies. Only pages pulled
    /// from this replica's own server (`fromOwnServer`), which checked them and could
    /// withhold changes anyway, are taken as they come (docs/TRUST.md, "Erasure").
    @discardableResult
    public func merge(
        _ signed: SignedChanges, evidence: DeviceEvidence = DeviceEvidence(), fromOwnServer: Bool = false
    ) throws(ReplicaError) -> MergeReport {
        guard !signed.changes.isEmpty else { return MergeReport() }
        var frames = [signed].makeIterator()
        return try merge(
            signedFrames: { frames.next().map { ($0, nil, ParallelDigests.of($0.changes)) } }, spaces: Set(signed.changes.map(\.space)),
            evidence: evidence, justifyingStripped: !fromOwnServer)
    }

    /// Applies signed frames pulled one at a time (a bundle's) in one transaction, each
    /// verified as ``merge(_:evidence:)`` verifies a batch before it applies: a frame that
    /// does not verify refuses the whole merge and nothing is stored. Each author's run in a
    /// frame must end at one of the frame's heads; runs continue across frames. A frame may
    /// come with its changes' digests computed ahead (on another core; `nil`: computed here
    /// as the runs verify): the outcome is the same. `justifyingStripped`: every stripped
    /// change received must be covered by an erasure held once the frames are applied.
    /// `spaces`: every space the frames may hold changes of.
    func merge(
        signedFrames nextFrame: () throws -> (signed: SignedChanges, encoded: Data?, digests: [ChangeDigest]?)?, spaces: Set<SpaceID>,
        evidence: DeviceEvidence, receivedTouches: (() -> [SpaceID: [EntityID: Materializer.Touch]])? = nil, justifyingStripped: Bool
    ) throws(ReplicaError) -> MergeReport {
        // What the replica holds of each entity, for the authorship check (AuthorshipRule),
        // and the creations of the frames already verified in this merge. (Documents are
        // built lazily: those of the merge's spaces are built here, before anything changes.)
        for space in spaces { _ = try loadedDocument(space) }
        let documents = documents
        let created = CreationsSeen()
        let check = SignedRunCheck(
            evidence: evidence, me: id, deviceKey: devicePublicKey,
            origin: { space, entity in
                CreationsSeen.union(documents[space]?.authorshipOrigin(of: entity), created.origin(of: entity, in: space))
            })
        var heads: [ChainHead] = []
        var digests: [ChangeDigest]?
        return try merge(
            nextFrame: {
                guard let (signed, encoded, computed) = try nextFrame() else { return nil }
                heads = signed.heads
                digests = computed
                return (signed.changes, encoded)
            },
            receivedTouches: receivedTouches, justifyingStripped: justifyingStripped,
            verify: { db, changes in
                try check.verifyAndRecord(SignedChanges(changes: changes, heads: heads), digests: digests, db)
                created.record(changes)
            })
    }
}

/// The entities created by the frames of a merge verified so far (a bundle's later frame
/// may set the author of an insight created in an earlier one).
private final class CreationsSeen {
    private var origins: [SpaceID: [EntityID: AuthorshipRule.Origin]] = [:]

    func origin(of entity: EntityID, in space: SpaceID) -> AuthorshipRule.Origin? { origins[space]?[entity] }

    /// Original creations only (AuthorshipRule.Origin): a re-creation takes nothing over.
    func record(_ changes: [Change]) {
        for change in changes {
            guard case .create(let kind, let predecessors) = change.operation, predecessors.isEmpty else { continue }
            var origin = origins[change.space]?[change.entity] ?? AuthorshipRule.Origin(kind: kind, creators: [])
            origin.creators.insert(change.replica)
            origins[change.space, default: [:]][change.entity] = origin
        }
    }
}

extension CreationsSeen {
    static func union(_ a: AuthorshipRule.Origin?, _ b: AuthorshipRule.Origin?) -> AuthorshipRule.Origin? {
        guard let a else { return b }
        guard let b else { return a }
        return AuthorshipRule.Origin(kind: a.kind, creators: a.creators.union(b.creators))
    }
}

/// The verification of one batch of signed changes inside the merge's transaction.
private struct SignedRunCheck {
    let evidence: DeviceEvidence
    let me: ReplicaID
    let deviceKey: PublicSigningKey
    /// What the replica holds of an entity of a space, before the batch.
    let origin: (SpaceID, EntityID) -> AuthorshipRule.Origin?
    /// The merge's verifier, kept from one frame to the next.
    fileprivate let verifiers = KeptVerifier()

    fileprivate final class KeptVerifier {
        var kept: ChainVerifier?
    }

    private struct Run: Hashable {
        var space: SpaceID
        var author: ReplicaID
    }

    /// `digests`, when given, are those of `signed.changes` (computed ahead, in order).
    func verifyAndRecord(_ signed: SignedChanges, digests: [ChangeDigest]?, _ db: Database) throws {
        // One verifier for the whole merge: the pinned keys do not change inside it, and each
        // certificate and revocation is then checked once, not once per frame.
        var verifier: ChainVerifier
        if let kept = verifiers.kept {
            verifier = kept
        } else {
            guard let ring = try TrustCache.ring(db) else { throw ReplicaError.noPinnedServerKey }
            verifier = ChainVerifier(ring: ring)
        }
        defer { verifiers.kept = verifier }
        var order: [Run] = []
        var runs: [Run: [Change]] = [:]
        var runDigests: [Run: [ChangeDigest]] = [:]
        for (index, change) in signed.changes.enumerated() {
            let run = Run(space: change.space, author: change.replica)
            if runs[run] == nil { order.append(run) }
            runs[run, default: []].append(change)
            if let digests { runDigests[run, default: []].append(digests[index]) }
        }
        var accepted: [(from: UInt64, signedTo: UInt64, chain: DeviceChain)] = []
        var used: [DeviceCertificate] = []
        var legacy: [(range: ClosedRange<UInt64>, chain: DeviceChain)] = []
        var legacyVectors: [SpaceID: VersionVector] = [:]
        for run in order {
            let held = try ChainStore.held(of: run.author, in: run.space, upTo: try Self.vectorCounter(run, db), db)
            let all = runs[run]!
            let fresh = all.filter { $0.lastCounter > held.counter }
            guard !fresh.isEmpty else { continue }
            let freshDigests = runDigests[run].map { digests in
                zip(all, digests).lazy.filter { $0.0.lastCounter > held.counter }.map(\.1)
            }.map(Array.init)
            // What follows the author's last head offered is accepted only as written before
            // signing: at or below the space's legacy vector (docs/TRUST.md, "Migration").
            let signedEnd = Self.signedPrefixEnd(of: fresh, heads: signed.heads, after: held.counter)
            let tail = fresh[signedEnd...]
            if legacyVectors[run.space] == nil { legacyVectors[run.space] = try LegacyChanges.legacyVector(of: run.space, db) }
            let isLegacy = !tail.isEmpty && tail.last!.lastCounter <= legacyVectors[run.space]![run.author]
            if signedEnd == 0, !isLegacy {
                throw ReplicaError.unverifiedChanges(
                    .badSignature(
                        replica: run.author, counter: fresh[0].id.counter,
                        reason:
                            "changes \(fresh[0].id) to \(fresh.last!.lastCounter) of \(run.author) carry no signed head and are above "
                            + "what the server held before signing (legacy vector: \(legacyVectors[run.space]![run.author]))"))
            }
            let checked = isLegacy ? Array(fresh[..<signedEnd]) : fresh
            let checkedDigests = freshDigests.map { isLegacy ? Array($0[..<signedEnd]) : $0 }
            var chain = held
            if !checked.isEmpty {
                if run.author == me {
                    do throws(TrustError) {
                        chain = try verifier.verify(
                            checked, extending: held, heads: signed.heads, signedBy: deviceKey, digests: checkedDigests)
                    } catch { throw ReplicaError.unverifiedChanges(error) }
                } else {
                    let supplied = evidence.certificates.last { $0.replica == run.author }
                    let certificate = try supplied ?? TrustCache.certificate(of: run.author, db)
                    let revocation =
                        try evidence.revocations.last { $0.replica == run.author } ?? TrustCache.revocation(of: run.author, db)
                    do throws(TrustError) {
                        chain = try verifier.verify(
                            checked, extending: held, heads: signed.heads, certificate: certificate, revocation: revocation,
                            digests: checkedDigests)
                        // Authorship is derived: a writer field names the certified member, and
                        // only the entity's creator writes it (docs/TRUST.md, "Authorship").
                        if let member = certificate?.member {
                            try AuthorshipRule.check(checked, member: member) { origin(run.space, $0) }
                            // Who may erase: the same rule as the server's (ErasureAuthority).
                            if ErasureRewrite.holdsErasure(checked) {
                                try checkErasures(checked, space: run.space, member: member, ring: verifier.ring, db)
                            }
                        }
                    } catch { throw ReplicaError.unverifiedChanges(error) }
                    if let supplied { used.append(supplied) }
                }
            }
            let signedTo = chain.counter
            if isLegacy {
                do throws(TrustError) { try chain.advance(over: tail) } catch { throw ReplicaError.unverifiedChanges(error) }
                legacy.append((tail.first!.id.counter...tail.last!.lastCounter, chain))
            }
            accepted.append((held.counter, signedTo, chain))
        }
        for (from, signedTo, chain) in accepted {
            let passed = signed.heads.lazy.filter {
                $0.replica == chain.replica && $0.space == chain.space && $0.counter > from && $0.counter <= signedTo
            }
            try ChainStore.store(passed, db)
            try ChainStore.store(chain, db)
        }
        for (range, chain) in legacy { try LegacyChanges.record(range, of: chain.replica, in: chain.space, db) }
        for certificate in used { try TrustCache.store(certificate, db) }
    }

    /// Runs ``ErasureAuthority`` over a verified run of a device certified for `member`:
    /// an entity's creators are what the replica held before the batch and the run's own
    /// original creations, each mapped to the member certified for its device.
    private func checkErasures(_ run: [Change], space: SpaceID, member: UUID, ring: ServerKeyRing, _ db: Database) throws(TrustError) {
        let author = run[0].replica
        let personalOwner = (try? TrustCache.personalOwner(of: space, db)) ?? nil  // unreadable: the stricter rules
        try ErasureAuthority.check(run, member: member, trusting: ring, personalOwner: personalOwner) { entity in
            var known = origin(space, entity)
            for change in run where change.entity == entity {
                guard case .create(let kind, let predecessors) = change.operation, predecessors.isEmpty else { continue }
                known = CreationsSeen.union(known, AuthorshipRule.Origin(kind: kind, creators: [change.replica]))
            }
            return ErasureAuthority.origin(known) { replica in
                if replica == author { return member }
                return evidence.certificates.last { $0.replica == replica }?.member
                    ?? (try? TrustCache.certificate(of: replica, db))??.member
            }
        }
    }

    /// The index in `fresh` (one author's run in one space, after `held`) just past the
    /// change that ends at the author's last head offered: the part a signature covers.
    /// 0 when no head of the run is offered.
    private static func signedPrefixEnd(of fresh: [Change], heads: [ChainHead], after held: UInt64) -> Int {
        let first = fresh[0]
        let end = fresh.last!.lastCounter
        let offered = heads.lazy.filter { $0.replica == first.replica && $0.space == first.space && $0.counter > held && $0.counter <= end }
        guard let last = offered.map(\.counter).max() else { return 0 }
        // A head inside a change keeps that change in the signed part (the verifier refuses it).
        return (fresh.firstIndex { $0.lastCounter >= last } ?? fresh.count - 1) + 1
    }

    /// What the log holds of a run's author in its space (0: nothing).
    private static func vectorCounter(_ run: Run, _ db: Database) throws -> UInt64 {
        let stored = try Int64.fetchOne(
            db, sql: "SELECT counter FROM vectors WHERE space_id = ? AND replica = ?", arguments: [run.space.blob, run.author.storedValue])
        return stored.map { UInt64(bitPattern: $0) } ?? 0
    }
}
