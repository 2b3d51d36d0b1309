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
            spaces: chosen.map { .init(space: $0, base: VersionVectorText(vector: vectors[$0] ?? VersionVector())) })
        let temporary = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).\(UUID().uuidString).partial")
        guard FileManager.default.createFile(atPath: temporary.path, contents: nil) else {
            throw .storage("cannot create \(temporary.path)")
        }
        defer { try? FileManager.default.removeItem(at: temporary) }
        do {
            let file = try FileHandle(forWritingTo: temporary)
            defer { try? file.close() }
            var crc = CRC32()
            var written = 0
            func emit(_ bytes: [UInt8]) throws {
                crc.update(bytes)
                try file.write(contentsOf: bytes)
                written += bytes.count
            }
            let headerJSON = [UInt8](try JSONEncoder().encode(header))
            try emit(BundleFormat.magic + [BundleFormat.version] + BundleFormat.uint32(UInt32(headerJSON.count)) + headerJSON)
            var total: UInt64 = 0
            for space in chosen {
                var cursor: ChangeCursor? = .start
                while let current = cursor {
                    let page = try changes(
                        in: space, missingFrom: vectors[space] ?? VersionVector(), after: current, limit: BundleFormat.framesPerBatch)
                    if !page.changes.isEmpty {
                        let frame = ChangeCodec.encode(page.changes)
                        try emit(BundleFormat.uint32(UInt32(frame.count)) + frame)
                        total += UInt64(page.changes.count)
                    }
                    cursor = page.next
                }
            }
            try emit(BundleFormat.trailerMagic + BundleFormat.uint64(total))
            let checksum = BundleFormat.uint32(crc.value)
            try file.write(contentsOf: checksum)
            written += checksum.count
            try file.synchronize()
            try file.close()
            if FileManager.default.fileExists(atPath: url.path) { try FileManager.default.removeItem(at: url) }
            try FileManager.default.moveItem(at: temporary, to: url)
            return BundleFormat.Summary(changes: Int(total), bytes: written, spaces: chosen)
        } catch let error as ReplicaError {
            throw error
        } catch {
            throw .storage("cannot write bundle \(url.path): \(error.localizedDescription)")
        }
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
            count += UInt64(frame?.count ?? 0)
            if frame == nil, count != reader.totalChanges {
                throw ReplicaError.invalidBundle("it holds \(count) changes but its trailer says \(reader.totalChanges)")
            }
            return frame
        }
        return report
    }
}
