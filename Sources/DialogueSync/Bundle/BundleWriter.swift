import DialogueModel
import Foundation

/// Writes a bundle file frame by frame; the file appears at its destination only when
/// ``finish()`` succeeds (it is written beside it, then renamed). The file is 0600.
public struct BundleWriter {
    let destination: URL
    let temporary: URL
    let file: FileHandle
    var crc = CRC32()
    /// Bytes written so far.
    public private(set) var bytes = 0
    /// Changes written so far.
    public private(set) var changes: UInt64 = 0
    var finished = false

    /// Starts a bundle with the given header.
    public init(to destination: URL, header: BundleFormat.Header) throws(ReplicaError) {
        self.destination = destination
        temporary = destination.deletingLastPathComponent()
            .appendingPathComponent(".\(destination.lastPathComponent).\(UUID().uuidString).partial")
        // 0600 whatever the umask: a bundle holds every note of its spaces.
        do { try PrivateFiles.createEmpty(temporary.path) } catch {
            throw .storage("cannot create \(destination.path): \(error.description); is the folder there and writable?", underlying: error)
        }
        do { file = try FileHandle(forWritingTo: temporary) } catch {
            throw .storage("cannot write \(temporary.path): \(error.localizedDescription)", underlying: error)
        }
        let headerJSON: [UInt8]
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys  // keys in a fixed order: two bundles differ only where their content does
        do { headerJSON = [UInt8](try encoder.encode(header)) } catch {
            throw .storage("cannot encode the bundle header: \(error)", underlying: error)
        }
        try emit(BundleFormat.magic + [BundleFormat.version] + BundleFormat.uint32(UInt32(headerJSON.count)) + headerJSON)
    }

    /// Appends one frame: changes (in causal order) and the heads that vouch for them. Each
    /// author's run in `changes` must end at one of `heads` (as a page of
    /// `Replica/changes(in:missingFrom:after:limit:)` does), or the importer refuses the file.
    public mutating func write(_ batch: [Change], heads: [ChainHead]) throws(ReplicaError) {
        guard !batch.isEmpty else { return }
        let frame = ChangeCodec.encode(batch)
        let headList = ChainHeadCodec.encode(heads)
        try emit(BundleFormat.uint32(UInt32(frame.count)) + frame + BundleFormat.uint32(UInt32(headList.count)) + headList)
        changes += UInt64(batch.count)
    }

    /// Writes the trailer, flushes to disk and moves the file into place.
    public mutating func finish() throws(ReplicaError) {
        try emit(BundleFormat.trailerMagic + BundleFormat.uint64(changes))
        let checksum = BundleFormat.uint32(crc.value)
        do {
            try file.write(contentsOf: checksum)
            bytes += checksum.count
            try file.synchronize()
            try file.close()
            if FileManager.default.fileExists(atPath: destination.path) { try FileManager.default.removeItem(at: destination) }
            try FileManager.default.moveItem(at: temporary, to: destination)
            finished = true
        } catch {
            discard()
            throw .storage("cannot write bundle \(destination.path): \(error.localizedDescription)", underlying: error)
        }
    }

    /// Abandons the bundle, removing the partial file.
    public func discard() {
        try? file.close()
        try? FileManager.default.removeItem(at: temporary)
    }

    private mutating func emit(_ data: [UInt8]) throws(ReplicaError) {
        crc.update(data)
        do { try file.write(contentsOf: data) } catch {
            discard()
            throw .storage("cannot write bundle \(destination.path): \(error.localizedDescription)", underlying: error)
        }
        bytes += data.count
    }
}
