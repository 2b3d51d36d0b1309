import DialogueModel
import DialogueSync
import Foundation
import Logging

/// A bundle file imported into a fresh replica that holds the corpus space (empty) and is
/// logged in to the fuzz server (``FuzzTrust``): the seeds are signed format-2 bundles of
/// the corpus's two devices, so mutations reach the verification and the merge behind it.
///
/// Input: one mode byte, then the file. Mode bit 0 rewrites the CRC-32 of each frame's
/// change batch and head list, and bit 1 the file's trailing CRC-32, so that mutations
/// reach the header, frames, verification and merge past the checksums; bit 2 lists a
/// second space in the replica's space directory, so a bundle may bring it.
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
            try await FuzzTrust.logIn(replica, spaces: mode & 4 == 4 ? [FuzzCorpus.space, FuzzTrust.otherSpace] : [FuzzCorpus.space])
            try await replica.addSpace(FuzzCorpus.space)
            before = try replica.heldVectors()
        } catch {
            fatalError("cannot open a replica: \(error)")
        }
        do {
            try await replica.importBundle(from: file)
        } catch {
            let after: [SpaceID: VersionVector]
            do { after = try replica.heldVectors() } catch {
                throw FuzzFinding("the replica cannot be read after a refused import: \(error)")
            }
            guard after == before else { throw FuzzFinding("a refused import changed the replica: \(before) became \(after)") }
        }
    }

    /// Walks the frames as the reader would and rewrites the trailing CRC-32 of each one's
    /// change batch and head list.
    static func fixFrameChecksums(_ bytes: inout [UInt8]) {
        let prefix = 9
        let trailer = 16
        guard bytes.count >= prefix + trailer else { return }
        var offset = prefix + Int(readUInt32(bytes, at: 5))
        while offset >= prefix, offset + 4 <= bytes.count - trailer {
            let length = Int(readUInt32(bytes, at: offset))
            guard length <= bytes.count - trailer - offset - 4 else { return }
            var section = Array(bytes[(offset + 4)..<(offset + 4 + length)])
            BinaryFuzz.fixChecksum(&section)
            bytes.replaceSubrange((offset + 4)..<(offset + 4 + length), with: section)
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

    /// Bundles written by ``BundleWriter``, signed by the corpus's two certified devices:
    /// the corpus in one frame, in several, and a bundle of another space.
    static func seeds() throws -> [(name: String, bytes: [UInt8])] {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("dialogue-fuzz-seeds-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        func bundle(_ name: String, space: SpaceID, frames: [[Change]], mode: UInt8) throws -> (name: String, bytes: [UInt8]) {
            let url = folder.appendingPathComponent(name)
            var writer = try BundleWriter(
                to: url,
                header: .init(
                    createdBy: FuzzCorpus.vale, createdAt: 1_765_000_000_000, spaces: [.init(space: space, name: "Fuzz", kind: .shared)],
                    certificates: FuzzTrust.certificates))
            var chains: [ReplicaID: DeviceChain] = [:]
            for frame in frames { try writer.write(frame, heads: try FuzzTrust.sign(frame, chains: &chains)) }
            try writer.finish()
            return (name, [mode] + [UInt8](try Data(contentsOf: url)))
        }
        let changes = FuzzCorpus.changes()
        let half = changes.count / 2
        return [
            try bundle("corpus.dlgb", space: FuzzCorpus.space, frames: [changes], mode: 3),
            try bundle("two-frames.dlgb", space: FuzzCorpus.space, frames: [Array(changes[..<half]), Array(changes[half...])], mode: 3),
            try bundle("raw-checksums.dlgb", space: FuzzCorpus.space, frames: [Array(changes.prefix(6))], mode: 0),
            try bundle("new-space.dlgb", space: FuzzTrust.otherSpace, frames: [FuzzCorpus.changes(in: FuzzTrust.otherSpace)], mode: 7),
        ]
    }
}

/// The fuzz server: fixed keys (seeds are the same on every run) certifying the corpus's
/// two devices and each replica an input is imported into.
enum FuzzTrust {
    static let server = key(0xF0)
    static let otherSpace = SpaceID(UUID(uuidString: "5ba7ed00-0000-4000-8000-0000000000f2")!)
    static let devices: [ReplicaID: SigningKeyPair] = [FuzzCorpus.hill: key(0xA1), FuzzCorpus.vale: key(0xB2)]
    static let certificates = devices.keys.sorted().map { certificate($0, key: devices[$0]!.publicKey) }

    /// A fixed key pair (the fuzzer's only).
    static func key(_ seed: UInt8) -> SigningKeyPair {
        try! SigningKeyPair(rawRepresentation: [UInt8](repeating: seed, count: 32))
    }

    static func certificate(_ replica: ReplicaID, key: PublicSigningKey) -> DeviceCertificate {
        DeviceCertificate.issue(
            replica: replica, publicKey: key, member: UUID(uuidString: "3e3be300-0000-4000-8000-0000000000f1")!, memberName: "Fuzz",
            school: UUID(uuidString: "3e3be300-0000-4000-8000-0000000000f2")!, schoolName: "Fuzz School", issuedAt: 1_765_000_000_000,
            signedBy: server)
    }

    /// The heads of one frame: each device's run in it, linked into its chain and signed.
    static func sign(_ frame: [Change], chains: inout [ReplicaID: DeviceChain]) throws -> [ChainHead] {
        var heads: [ChainHead] = []
        for replica in devices.keys.sorted() {
            let own = frame.filter { $0.replica == replica }
            guard let space = own.first?.space else { continue }
            var chain = chains[replica] ?? DeviceChain(space: space, replica: replica)
            try chain.advance(over: own)
            chains[replica] = chain
            heads.append(chain.head(signedBy: devices[replica]!))
        }
        return heads
    }

    /// Logs `replica` in to the fuzz server, offline, with `spaces` shared in its directory.
    static func logIn(_ replica: Replica, spaces: [SpaceID]) async throws {
        let certificate = certificate(replica.id, key: replica.devicePublicKey)
        let directory = SpaceDirectory.issue(
            member: certificate.member, issuedAt: 1_765_000_000_000,
            entries: spaces.map { .init(space: $0, name: "Fuzz", kind: .shared, owner: certificate.school) }, signedBy: server)
        try await replica.adoptOfflineLogin(ring: ServerKeyRing(pinned: server.publicKey), certificate: certificate, directory: directory)
    }
}
