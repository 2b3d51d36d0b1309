import DialogueModel
import Foundation
import GRDB

extension Replica {
    /// Writes the changes another replica lacks to a bundle file.
    ///
    /// - Parameters:
    ///   - spaces: the spaces to include (default: every space held).
    ///   - vectors: what the recipient holds per space; a space without an entry is
    ///     exported whole.
    /// The file appears atomically (written beside it, then renamed).
    @discardableResult
    public nonisolated func exportBundle(
        to url: URL, spaces: [SpaceID]? = nil, recipientHolds vectors: [SpaceID: VersionVector] = [:]
    ) throws(ReplicaError) -> BundleFormat.Summary {
        let held = try heldVectors()
        let chosen = spaces ?? held.keys.sorted()
        for space in chosen where held[space] == nil { throw .unknownSpace(space) }
        let header = BundleFormat.Header(
            createdBy: id, createdAt: SystemWallClock().millisecondsSinceEpoch(),
            spaces: chosen.map { .init(space: $0, base: vectors[$0] ?? VersionVector()) })
        var writer = try BundleWriter(to: url, header: header)
        do {
            for space in chosen {
                var cursor: ChangeCursor? = .start
                while let current = cursor {
                    let page = try changes(
                        in: space, missingFrom: vectors[space] ?? VersionVector(), after: current, limit: BundleFormat.framesPerBatch)
                    try writer.write(page.changes)
                    cursor = page.next
                }
            }
            try writer.finish()
        } catch {
            writer.discard()
            throw error
        }
        return BundleFormat.Summary(changes: Int(writer.changes), bytes: writer.bytes, spaces: chosen)
    }

    /// Imports a bundle file: checks it whole (magic, version, checksum, header), then
    /// merges its changes in one transaction. A corrupt, truncated, foreign or
    /// future-version bundle is refused with ``ReplicaError/invalidBundle(_:)`` and
    /// nothing changes.
    ///
    /// - Parameter acceptingNewSpaces: whether the bundle may bring spaces this replica
    ///   does not hold yet (off by default, so a bundle meant for another school is refused).
    @discardableResult
    public func importBundle(from url: URL, acceptingNewSpaces: Bool = false) throws(ReplicaError) -> MergeReport {
        let reader = try BundleReader(url: url)
        if !acceptingNewSpaces, let foreign = reader.header.spaces.first(where: { documents[$0.space] == nil }) {
            throw .invalidBundle("it carries space \(foreign.space), which this replica does not hold")
        }
        let totalChanges = reader.totalChanges
        let frames = FramePrefetcher(reader)
        defer { frames.stop() }
        var count: UInt64 = 0
        let report = try merge(
            nextFrame: {
                let frame = try frames.next()
                count += UInt64(frame?.changes.count ?? 0)
                if frame == nil, count != totalChanges {
                    throw ReplicaError.invalidBundle("it holds \(count) changes but its trailer says \(totalChanges)")
                }
                return frame
            },
            receivedTouches: { frames.touches })
        return report
    }
}

/// Reads and decodes a bundle's frames on a thread of its own, a few frames ahead of the
/// merge that applies them: decoding is a tenth of a merge, which otherwise runs on one
/// core. Frames and errors come out in the order the file holds them. The same thread
/// notes what the frames touch, for the materialised rows.
private final class FramePrefetcher: @unchecked Sendable {
    typealias Frame = (changes: [Change], encoded: Data)
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
                do throws(ReplicaError) { item = .success(try self.reader.nextFrame()) } catch { item = .failure(error) }
                // Only this thread writes `received`; the merge reads it after the last frame,
                // which is handed over (under the lock) after these writes.
                if case .success(.some(let frame)) = item {
                    if let space = frame.changes.first?.space, frame.changes.allSatisfy({ $0.space == space }) {
                        Materializer.collect(frame.changes, into: &received[space, default: [:]])
                    } else {
                        for change in frame.changes { Materializer.collect(CollectionOfOne(change), into: &received[change.space, default: [:]]) }
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
