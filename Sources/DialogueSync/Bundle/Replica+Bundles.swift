import DialogueModel
import Foundation
import GRDB

extension Replica {
    /// Writes the changes another replica lacks to a signed bundle file (format 2): each
    /// frame cut at its authors' signed heads, the header carrying their certificates
    /// (this device's included) and the revocations held of them.
    ///
    /// - Parameters:
    ///   - url: the file to write.
    ///   - spaces: the spaces to include. Default: the shared spaces of this replica's space
    ///     directory that it holds, never a school's private space nor the member's personal
    ///     space: those leave only when named, and the summary lists them
    ///     (``BundleFormat/Summary/privateSpaces``) so the caller can warn.
    ///   - vectors: what the recipient holds per space; a space without an entry is
    ///     exported whole.
    /// The file appears atomically (written beside it, then renamed). Before the first login
    /// there is no certificate to vouch for this device's changes: ``ReplicaError/loginRequired(_:)``.
    @discardableResult
    public nonisolated func exportBundle(
        to url: URL, spaces: [SpaceID]? = nil, recipientHolds vectors: [SpaceID: VersionVector] = [:]
    ) throws(ReplicaError) -> BundleFormat.Summary {
        let held = try heldVectors()
        guard let directory = try spaceDirectory(), let own = try deviceCertificate() else {
            throw .loginRequired(
                "a bundle carries the certificate that lets its reader verify this device's changes, and this replica has none yet")
        }
        var chosen: [SpaceID] = []
        if let spaces {
            for space in spaces where !chosen.contains(space) {
                guard held[space] != nil else { throw .unknownSpace(space) }
                chosen.append(space)
            }
        } else {
            chosen = directory.entries.filter { $0.kind == .shared && held[$0.space] != nil }.map(\.space)
            guard !chosen.isEmpty else {
                throw .invalidValue("this replica holds no shared space of its space directory; name the spaces to export")
            }
        }
        // The devices whose changes leave, and what vouches for them.
        var authors: Set<ReplicaID> = [id]
        for space in chosen {
            let recipient = vectors[space] ?? VersionVector()
            for (replica, counter) in held[space]!.counters where counter > recipient[replica] { authors.insert(replica) }
        }
        var certificates = [own]
        for author in authors.sorted() where author != id {
            if let certificate = try certificate(of: author) { certificates.append(certificate) }
        }
        let revocations = try revocations().filter { authors.contains($0.replica) }
        let header = BundleFormat.Header(
            createdBy: id, createdAt: SystemWallClock().millisecondsSinceEpoch(),
            spaces: chosen.map { space in
                let entry = directory.entry(for: space)
                return .init(space: space, base: vectors[space] ?? VersionVector(), name: entry?.name, kind: entry?.kind)
            },
            certificates: certificates, revocations: revocations)
        var writer = try BundleWriter(to: url, header: header)
        do {
            for space in chosen {
                var cursor: ChangeCursor? = .start
                while let current = cursor {
                    let page = try changes(
                        in: space, missingFrom: vectors[space] ?? VersionVector(), after: current, limit: BundleFormat.framesPerBatch)
                    try writer.write(page.changes, heads: page.heads)
                    cursor = page.next
                }
            }
            try writer.finish()
        } catch {
            writer.discard()
            throw error
        }
        return BundleFormat.Summary(
            changes: Int(writer.changes), bytes: writer.bytes, spaces: chosen,
            privateSpaces: chosen.compactMap { directory.entry(for: $0) }.filter { $0.kind != .shared })
    }

    /// Imports a signed bundle file: checks it whole (magic, version, checksum, header),
    /// checks every space it carries against this replica's space directory, then merges its
    /// frames in one transaction, each verified with the pinned server key before it
    /// applies (docs/TRUST.md, "Verification"). Nothing changes when anything is refused:
    ///
    /// - a corrupt, truncated, foreign, future-version or format-1 (unsigned) bundle:
    ///   ``ReplicaError/invalidBundle(_:)``;
    /// - a space the member may not hold (a school's private space in a partner's hands):
    ///   ``ReplicaError/spaceNotPermitted(_:name:)``, whatever else the bundle holds;
    /// - a change that does not verify: ``ReplicaError/unverifiedChanges(_:)`` with its code;
    /// - before the first login: ``ReplicaError/loginRequired(_:)``.
    @discardableResult
    public func importBundle(from url: URL) throws(ReplicaError) -> MergeReport {
        let reader = try BundleReader(url: url)
        guard try serverKeyRing() != nil, let directory = try spaceDirectory() else {
            throw .loginRequired(
                "a bundle's changes are verified with the server key this replica pins at login, and it has none yet; nothing was imported")
        }
        for entry in reader.header.spaces where directory.entry(for: entry.space) == nil {
            throw .spaceNotPermitted(entry.space, name: entry.name)
        }
        let evidence = DeviceEvidence(certificates: reader.header.certificates, revocations: reader.header.revocations)
        let totalChanges = reader.totalChanges
        let frames = FramePrefetcher(reader)
        defer { frames.stop() }
        var count: UInt64 = 0
        return try merge(
            signedFrames: {
                let frame = try frames.next()
                count += UInt64(frame?.changes.count ?? 0)
                if frame == nil, count != totalChanges {
                    throw ReplicaError.invalidBundle("it holds \(count) changes but its trailer says \(totalChanges)")
                }
                return frame.map { (SignedChanges(changes: $0.changes, heads: $0.heads), $0.encoded, $0.digests) }
            },
            spaces: Set(reader.header.spaces.map(\.space)), evidence: evidence, receivedTouches: { frames.touches },
            justifyingStripped: true)
    }
}

/// Reads and decodes a bundle's frames on a thread of its own, a few frames ahead of the
/// merge that applies them: decoding is a tenth of a merge, and the changes' digests (two
/// of the three hashes per change verification needs, independent of one another) another
/// quarter, which would otherwise run on the merge's core. Frames and errors come out in
/// the order the file holds them. The same thread notes what the frames touch, for the
/// materialised rows.
private final class FramePrefetcher: @unchecked Sendable {
    struct Frame: Sendable {
        var changes: [Change]
        var encoded: Data
        var heads: [ChainHead]
        /// The digests of `changes`, in order (the verifier only links them).
        var digests: [ChangeDigest]
    }
    private static let depth = 2
    /// Guards `ready` and `stopped`.
    private let condition = NSCondition()
    private var ready: [Result<Frame?, ReplicaError>] = []
    private var stopped = false

    /// Used only by the reading thread once it starts.
    private var reader: BundleReader
    /// What every frame read so far touches, per space (see `Replica.merge`): written only
    /// by the reading thread, read by the merge only once the frames are exhausted.
    private var received: [SpaceID: [EntityID: Materializer.Touch]] = [:]

    init(_ reader: BundleReader) {
        self.reader = reader
        Thread.detachNewThread { [self] in
            while true {
                let item: Result<Frame?, ReplicaError>
                do throws(ReplicaError) {
                    item = .success(
                        try self.reader.nextFrame().map {
                            Frame(changes: $0.changes, encoded: $0.encoded, heads: $0.heads, digests: ChangeDigest.of($0.changes))
                        })
                } catch { item = .failure(error) }
                // Only this thread writes `received`; the merge reads it after the last frame,
                // which is handed over (under the lock) after these writes.
                if case .success(.some(let frame)) = item {
                    if let space = frame.changes.first?.space, frame.changes.allSatisfy({ $0.space == space }) {
                        Materializer.collect(frame.changes, into: &received[space, default: [:]])
                    } else {
                        for change in frame.changes {
                            Materializer.collect(CollectionOfOne(change), into: &received[change.space, default: [:]])
                        }
                    }
                }
                condition.lock()
                while ready.count >= Self.depth, !stopped { condition.wait() }
                if stopped {
                    condition.unlock()
                    return
                }
                ready.append(item)
                condition.broadcast()
                condition.unlock()
                if case .success(.some) = item { continue }
                return  // the end, or an error: nothing follows
            }
        }
    }

    /// The next frame, `nil` after the last, or the error reading it met.
    func next() throws(ReplicaError) -> Frame? {
        condition.lock()
        while ready.isEmpty { condition.wait() }
        let item = ready.removeFirst()
        condition.broadcast()
        condition.unlock()
        return try item.get()
    }

    /// What the frames touch, per space: asked for once `next()` has returned `nil`.
    var touches: [SpaceID: [EntityID: Materializer.Touch]] {
        condition.lock()
        defer { condition.unlock() }
        return received
    }

    /// Lets the reading thread finish early (the merge stopped or failed).
    func stop() {
        condition.lock()
        stopped = true
        condition.broadcast()
        condition.unlock()
    }
}
