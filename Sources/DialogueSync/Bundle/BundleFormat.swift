import DialogueModel
import Foundation

/// The offline bundle file: how two leaders sync with no network at all.
///
/// Version 2 layout (integers little-endian; docs/PROTOCOL.md, "Bundles"):
/// ```
/// "DLGB" · version u8 (2) · header length u32 · header JSON
/// frames: (changes length u32 · change batch in ChangeCodec's binary format
///          · heads length u32 · the heads in ChainHeadCodec's binary format)…
/// "DLGE" · total changes u64 · CRC-32 of every byte before it u32
/// ```
/// The header names the spaces inside (with their names and kinds, as the exporter's
/// space directory gives them) and, for each, the version vector the bundle was cut
/// against (empty: the whole space); it carries the certificates of the devices whose
/// changes the file holds and the revocations the exporter holds of them. Each frame is
/// cut where every author in it stands at one of the frame's signed heads (as a sync
/// page), so the importer verifies it frame by frame, in causal order, without holding a
/// whole space in memory. Version 1 (no heads, no certificates) is refused: it cannot be
/// verified.
public enum BundleFormat {
    public static let version: UInt8 = 2
    static let magic: [UInt8] = Array("DLGB".utf8)
    static let trailerMagic: [UInt8] = Array("DLGE".utf8)
    /// The changes a frame aims for (a frame runs over it to reach its authors' heads).
    static let framesPerBatch = 4096
    /// magic + version + header length
    static let prefixLength = 4 + 1 + 4
    /// trailer magic + count + CRC
    static let trailerLength = 4 + 8 + 4
    /// The largest header read (certificates of ~40,000 devices): a hostile length never
    /// makes the reader allocate more.
    static let maxHeaderBytes = 16 << 20
    /// The largest change batch or head list of one frame read.
    static let maxFrameBytes = 64 << 20

    /// The self-description at the start of every bundle.
    public struct Header: Codable, Sendable, Equatable {
        public var format = "dialogue-bundle"
        public var version = Int(BundleFormat.version)
        /// The replica that wrote the bundle.
        public var createdBy: ReplicaID
        /// When, in milliseconds since the Unix epoch.
        public var createdAt: UInt64
        public var spaces: [SpaceEntry]
        /// The certificates of the devices whose changes the bundle holds (the exporter's own
        /// included): the importer checks them under its pinned server key.
        public var certificates: [DeviceCertificate]
        /// The revocations the exporter holds of those devices.
        public var revocations: [DeviceRevocation]

        public init(
            createdBy: ReplicaID, createdAt: UInt64, spaces: [SpaceEntry], certificates: [DeviceCertificate] = [],
            revocations: [DeviceRevocation] = []
        ) {
            self.createdBy = createdBy
            self.createdAt = createdAt
            self.spaces = spaces
            self.certificates = certificates
            self.revocations = revocations
        }

        private enum CodingKeys: String, CodingKey { case format, version, createdBy, createdAt, spaces, certificates, revocations }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            format = try container.decode(String.self, forKey: .format)
            version = try container.decode(Int.self, forKey: .version)
            createdBy = try container.decode(ReplicaID.self, forKey: .createdBy)
            createdAt = try container.decode(UInt64.self, forKey: .createdAt)
            spaces = try container.decode([SpaceEntry].self, forKey: .spaces)
            certificates = try container.decodeIfPresent([DeviceCertificate].self, forKey: .certificates) ?? []
            revocations = try container.decodeIfPresent([DeviceRevocation].self, forKey: .revocations) ?? []
        }

        /// One space in the bundle and the vector it was cut against.
        public struct SpaceEntry: Codable, Sendable, Equatable {
            public var space: SpaceID
            public var base: VersionVectorText
            /// Its name and kind in the exporter's space directory (informative: the importer
            /// decides by its own directory).
            public var name: String?
            public var kind: SpaceDirectory.Kind?

            public init(space: SpaceID, base: VersionVector = VersionVector(), name: String? = nil, kind: SpaceDirectory.Kind? = nil) {
                self.space = space
                self.base = VersionVectorText(vector: base)
                self.name = name
                self.kind = kind
            }

            public static func == (lhs: SpaceEntry, rhs: SpaceEntry) -> Bool {
                lhs.space == rhs.space && lhs.base.vector == rhs.base.vector && lhs.name == rhs.name && lhs.kind == rhs.kind
            }
        }
    }

    /// What an export wrote.
    public struct Summary: Sendable, Equatable {
        public var changes: Int
        public var bytes: Int
        public var spaces: [SpaceID]
        /// The spaces exported that are not shared (named by the caller): a school's private
        /// space or the member's personal space (see each entry's `kind`). Whoever gets the
        /// file can read them, so the caller warns, naming each.
        public var privateSpaces: [SpaceDirectory.Entry]
    }

    static func uint32(_ value: UInt32) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) } }
    static func uint64(_ value: UInt64) -> [UInt8] { (0..<8).map { UInt8(truncatingIfNeeded: value >> (8 * UInt64($0))) } }

    static func readUInt32(_ bytes: Data, at offset: Int) -> UInt32 {
        (0..<4).reduce(UInt32(0)) { $0 | UInt32(bytes[bytes.startIndex + offset + $1]) << (8 * UInt32($1)) }
    }

    static func readUInt64(_ bytes: Data, at offset: Int) -> UInt64 {
        (0..<8).reduce(UInt64(0)) { $0 | UInt64(bytes[bytes.startIndex + offset + $1]) << (8 * UInt64($1)) }
    }
}

/// A bundle file checked and opened for reading: header parsed, checksum verified.
///
/// The file is read through a handle, a frame at a time (the checksum in chunks), not
/// mapped whole: a merge of a large bundle then holds a frame or two of it in memory,
/// not every page of the file it has touched.
struct BundleReader {
    let file: FileHandle
    let header: BundleFormat.Header
    let totalChanges: UInt64
    var offset: Int
    let framesEnd: Int

    init(url: URL) throws(ReplicaError) {
        do { file = try FileHandle(forReadingFrom: url) } catch {
            throw .invalidBundle("cannot read \(url.path): \(error.localizedDescription)")
        }
        let size: Int
        do { size = Int(try file.seekToEnd()) } catch { throw .invalidBundle("cannot read \(url.path): \(error.localizedDescription)") }
        let start = try Self.read(file, at: 0, count: min(size, BundleFormat.prefixLength))
        guard start.count >= 4, Array(start.prefix(4)) == BundleFormat.magic else {
            throw .invalidBundle("not a Dialogue bundle (it does not start with DLGB)")
        }
        guard size >= BundleFormat.prefixLength + BundleFormat.trailerLength else {
            throw .invalidBundle("the file is truncated (\(size) bytes)")
        }
        let version = start[start.startIndex + 4]
        guard version >= 1 else { throw .invalidBundle("bundle version \(version) is not valid") }
        guard version >= 2 else {
            throw .invalidBundle(
                "it is a format-1 bundle, made by a version of dialogue-client from before signed changes, so its changes "
                    + "cannot be verified; ask the sender to upgrade dialogue-client and export the bundle again")
        }
        guard version <= BundleFormat.version else {
            throw .invalidBundle(
                "bundle version \(version) was written by a newer Dialogue (this one reads up to \(BundleFormat.version)); update Dialogue")
        }
        let trailerStart = size - BundleFormat.trailerLength
        let trailer = try Self.read(file, at: trailerStart, count: BundleFormat.trailerLength)
        guard Array(trailer.prefix(4)) == BundleFormat.trailerMagic else {
            throw .invalidBundle("the file is truncated or damaged (no end marker)")
        }
        guard try Self.checksum(file, upTo: size - 4) == BundleFormat.readUInt32(trailer, at: BundleFormat.trailerLength - 4) else {
            throw .invalidBundle("the file is damaged (checksum mismatch)")
        }
        totalChanges = BundleFormat.readUInt64(trailer, at: 4)
        let headerLength = Int(BundleFormat.readUInt32(start, at: 5))
        guard headerLength <= trailerStart - BundleFormat.prefixLength else { throw .invalidBundle("the header length is wrong") }
        guard headerLength <= BundleFormat.maxHeaderBytes else {
            throw .invalidBundle("the header is \(headerLength) bytes, more than the \(BundleFormat.maxHeaderBytes) this version reads")
        }
        do {
            header = try JSONDecoder().decode(
                BundleFormat.Header.self, from: try Self.read(file, at: BundleFormat.prefixLength, count: headerLength))
        } catch let error as ReplicaError {
            throw error
        } catch {
            throw .invalidBundle("the header is not valid: \(error)")
        }
        guard header.format == "dialogue-bundle" else { throw .invalidBundle("the header names format '\(header.format)'") }
        guard header.version == Int(version) else {
            throw .invalidBundle("the header says version \(header.version) but the file is version \(version)")
        }
        offset = BundleFormat.prefixLength + headerLength
        framesEnd = trailerStart
    }

    /// Exactly `count` bytes at `offset`.
    private static func read(_ file: FileHandle, at offset: Int, count: Int) throws(ReplicaError) -> Data {
        do {
            try file.seek(toOffset: UInt64(offset))
            let data = try file.read(upToCount: count) ?? Data()
            guard data.count == count else { throw ReplicaError.invalidBundle("the file is truncated (it changed while being read)") }
            return data
        } catch let error as ReplicaError {
            throw error
        } catch {
            throw .invalidBundle("cannot read the file: \(error.localizedDescription)")
        }
    }

    /// The CRC-32 of the file's first `end` bytes, read a megabyte at a time.
    private static func checksum(_ file: FileHandle, upTo end: Int) throws(ReplicaError) -> UInt32 {
        var crc = CRC32()
        var position = 0
        while position < end {
            let chunk = try read(file, at: position, count: min(1 << 20, end - position))
            chunk.withUnsafeBytes { crc.update($0) }
            position += chunk.count
        }
        return crc.value
    }

    /// The next frame's changes and the heads that vouch for them, or `nil` after the last;
    /// every change must belong to a space the header declares.
    mutating func nextFrame() throws(ReplicaError) -> BundleFrame? {
        guard offset < framesEnd else { return nil }
        let encoded = try nextSection("change batch")
        let changes: [Change]
        do { changes = try ChangeCodec.decode(encoded) } catch {
            throw .invalidBundle("a frame cannot be read: \(error)")
        }
        guard offset < framesEnd else { throw .invalidBundle("a frame is truncated (its heads are missing)") }
        let headBytes = try nextSection("head list")
        let heads: [ChainHead]
        do { heads = try ChainHeadCodec.decode([UInt8](headBytes)) } catch {
            throw .invalidBundle("a frame's heads cannot be read: \(error)")
        }
        if let only = header.spaces.first?.space, header.spaces.count == 1 {
            if let stray = changes.first(where: { $0.space != only }) {
                throw .invalidBundle("change \(stray.id) belongs to space \(stray.space), which the header does not declare")
            }
        } else if let stray = changes.first(where: { change in !header.spaces.contains { $0.space == change.space } }) {
            throw .invalidBundle("change \(stray.id) belongs to space \(stray.space), which the header does not declare")
        }
        return BundleFrame(changes: changes, encoded: encoded, heads: heads)
    }

    /// One length-prefixed section of a frame (bounded: a hostile length reads nothing).
    private mutating func nextSection(_ what: String) throws(ReplicaError) -> Data {
        guard framesEnd - offset >= 4 else { throw .invalidBundle("a frame's \(what) is truncated") }
        let length = Int(BundleFormat.readUInt32(try Self.read(file, at: offset, count: 4), at: 0))
        guard length <= framesEnd - offset - 4 else { throw .invalidBundle("a frame's \(what) runs past the end") }
        guard length <= BundleFormat.maxFrameBytes else {
            throw .invalidBundle("a frame's \(what) is \(length) bytes, more than the \(BundleFormat.maxFrameBytes) this version reads")
        }
        let bytes = try Self.read(file, at: offset + 4, count: length)
        offset += 4 + length
        return bytes
    }
}

/// One frame of a bundle: changes (with their bytes as stored in the file) and the heads
/// that vouch for them.
struct BundleFrame: Sendable {
    var changes: [Change]
    var encoded: Data
    var heads: [ChainHead]
}
