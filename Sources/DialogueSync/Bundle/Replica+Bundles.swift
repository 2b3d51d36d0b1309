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
        var reader = try BundleReader(url: url)
        if !acceptingNewSpaces, let foreign = reader.header.spaces.first(where: { documents[$0.space] == nil }) {
            throw .invalidBundle("it carries space \(foreign.space), which this replica does not hold")
        }
        var count: UInt64 = 0
        let report = try merge {
            let frame = try reader.nextFrame()
            count += UInt64(frame?.changes.count ?? 0)
            if frame == nil, count != reader.totalChanges {
                throw ReplicaError.invalidBundle("it holds \(count) changes but its trailer says \(reader.totalChanges)")
            }
            return frame
        }
        return report
    }
}
