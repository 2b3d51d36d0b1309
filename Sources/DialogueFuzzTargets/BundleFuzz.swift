import DialogueModel
import DialogueSync
import Foundation
import Logging

/// A bundle file imported into a fresh replica that holds the corpus space (empty).
///
/// Input: one mode byte, then the file. Mode bit 0 rewrites each frame's CRC-32 and bit 1
/// the file's trailing CRC-32, so that mutations reach the header, frames and merge past
/// the checksums; bit 2 lets the bundle bring spaces the replica does not hold.
/// Oracle: a refused import leaves what the replica stores unchanged.
actor BundleFuzz {
    static let shared = BundleFuzz()
    private let directory: URL
    private var runs = 0

    private init() {
        // In memory where Linux offers it: a replica per input costs its file creation and syncs.
        let memory = URL(fileURLWithPath: "/dev/shm")
        let base = FileManager.default.isWritableFile(atPath: memory.path) ? memory : FileManager.default.temporaryDirectory
        directory = base.appendingPathComponent("dialogue-fuzz-bundle-\(getpid())")
        try? FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    func run(_ input: [UInt8]) async throws(FuzzFinding) {
        guard let mode = input.first else { return }
        var bytes = Array(input.dropFirst())
        if mode & 1 == 1 { Self.fixFrameChecksums(&bytes) }
        if mode & 2 == 2 { Self.fixTrailerChecksum(&bytes) }
        runs += 1
        let folder = directory.appendingPathComponent("\(runs)")
        try? FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("input.dlgb")
        guard FileManager.default.createFile(atPath: file.path, contents: Data(bytes)) else {
            fatalError("cannot write \(file.path)")  // the harness, not the input: stop
        }
        var logger = Logger(label: "dialogue.fuzz.bundle")
        logger.logLevel = .critical
        let replica: Replica
        let before: [SpaceID: VersionVector]
        do {
            replica = try Replica(path: folder.appendingPathComponent("replica.sqlite").path, logger: logger)
            try await replica.addSpace(FuzzCorpus.space)
            before = try replica.heldVectors()
        } catch {
            fatalError("cannot open a replica: \(error)")
        }
        do {
            try await replica.importBundle(from: file, acceptingNewSpaces: mode & 4 == 4)
        } catch {
            let after: [SpaceID: VersionVector]
            do { after = try replica.heldVectors() } catch {
                throw FuzzFinding("the replica cannot be read after a refused import: \(error)")
            }
            guard after == before else { throw FuzzFinding("a refused import changed the replica: \(before) became \(after)") }
        }
    }

    /// Walks the frames as the reader would and rewrites each one's trailing CRC-32.
    static func fixFrameChecksums(_ bytes: inout [UInt8]) {
        let prefix = 9
        let trailer = 16
        guard bytes.count >= prefix + trailer else { return }
        var offset = prefix + Int(readUInt32(bytes, at: 5))
        while offset >= prefix, offset + 4 <= bytes.count - trailer {
            let length = Int(readUInt32(bytes, at: offset))
            guard length <= bytes.count - trailer - offset - 4 else { return }
            var frame = Array(bytes[(offset + 4)..<(offset + 4 + length)])
            BinaryFuzz.fixChecksum(&frame)
            bytes.replaceSubrange((offset + 4)..<(offset + 4 + length), with: frame)
            offset += 4 + length
        }
    }

    /// Rewrites the last four bytes as the CRC-32 of the file before them.
    static func fixTrailerChecksum(_ bytes: inout [UInt8]) {
        guard bytes.count >= 4 else { return }
        let body = bytes.count - 4
        let crc = CRC32.checksum(bytes[0..<body])
        for index in 0..<4 { bytes[body + index] = UInt8(truncatingIfNeeded: crc >> UInt32(8 * index)) }
    }

    private static func readUInt32(_ bytes: [UInt8], at offset: Int) -> UInt32 {
        (0..<4).reduce(UInt32(0)) { $0 | UInt32(bytes[offset + $1]) << (8 * UInt32($1)) }
    }

    /// Bundles written by ``BundleWriter``: the corpus in one frame, in several, and a
    /// bundle of another space.
    static func seeds() throws -> [(name: String, bytes: [UInt8])] {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("dialogue-fuzz-seeds-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        func bundle(_ name: String, space: SpaceID, frames: [[Change]], mode: UInt8) throws -> (name: String, bytes: [UInt8]) {
            let url = folder.appendingPathComponent(name)
            var writer = try BundleWriter(
                to: url, header: .init(createdBy: FuzzCorpus.vale, createdAt: 1_765_000_000_000, spaces: [.init(space: space)]))
            for frame in frames { try writer.write(frame) }
            try writer.finish()
            return (name, [mode] + [UInt8](try Data(contentsOf: url)))
        }
        let changes = FuzzCorpus.changes()
        let other = SpaceID(UUID(uuidString: "5ba7ed00-0000-4000-8000-0000000000f2")!)
        let half = changes.count / 2
        return [
            try bundle("corpus.dlgb", space: FuzzCorpus.space, frames: [changes], mode: 3),
            try bundle("two-frames.dlgb", space: FuzzCorpus.space, frames: [Array(changes[..<half]), Array(changes[half...])], mode: 3),
            try bundle("raw-checksums.dlgb", space: FuzzCorpus.space, frames: [Array(changes.prefix(6))], mode: 0),
            try bundle("new-space.dlgb", space: other, frames: [FuzzCorpus.changes(in: other)], mode: 7),
        ]
    }
}
