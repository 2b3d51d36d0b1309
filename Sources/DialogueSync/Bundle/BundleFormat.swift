import DialogueModel
import Foundation

/// The offline bundle file: how two leaders sync with no network at all.
///
/// Version 1 layout (integers little-endian):
/// ```
/// "DLGB" · version u8 (1) · header length u32 · header JSON
/// frames: (length u32 · change batch in ChangeCodec's binary format)…
/// "DLGE" · total changes u64 · CRC-32 of every byte before it u32
/// ```
/// The header names the spaces inside and, for each, the version vector the bundle was
/// cut against (empty: the whole space). Each frame holds at most 4,096 changes in
/// causal order, so neither writer nor reader holds a whole space in memory.
public enum BundleFormat {
    public static let version: UInt8 = 1
    static let magic: [UInt8] = Array("DLGB".utf8)
    static let trailerMagic: [UInt8] = Array("DLGE".utf8)
    static let framesPerBatch = 4096
    /// magic + version + header length
    static let prefixLength = 4 + 1 + 4
    /// trailer magic + count + CRC
    static let trailerLength = 4 + 8 + 4

    /// The self-description at the start of every bundle.
    public struct Header: Codable, Sendable, Equatable {
        public var format = "dialogue-bundle"
        public var version = Int(BundleFormat.version)
        /// The replica that wrote the bundle.
        public var createdBy: ReplicaID
        /// When, in milliseconds since the Unix epoch.
        public var createdAt: UInt64
        public var spaces: [SpaceEntry]

        public init(createdBy: ReplicaID, createdAt: UInt64, spaces: [SpaceEntry]) {
            self.createdBy = createdBy
            self.createdAt = createdAt
            self.spaces = spaces
        }

        /// One space in the bundle and the vector it was cut against.
        public struct SpaceEntry: Codable, Sendable, Equatable {
            public var space: SpaceID
            public var base: VersionVectorText

            public init(space: SpaceID, base: VersionVector = VersionVector()) {
                self.space = space
                self.base = VersionVectorText(vector: base)
            }

            public static func == (lhs: SpaceEntry, rhs: SpaceEntry) -> Bool {
                lhs.space == rhs.space && lhs.base.vector == rhs.base.vector
            }
        }
    }

    /// What an export wrote.
    public struct Summary: Sendable, Equatable {
        public var changes: Int
        public var bytes: Int
        public var spaces: [SpaceID]
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
        do {
            header = try JSONDecoder().decode(
                BundleFormat.Header.self, from: try Self.read(file, at: BundleFormat.prefixLength, count: headerLength))
        } catch let error as ReplicaError {
            throw error
        } catch {
            throw .invalidBundle("the header is not valid: \(error)")
        }
        guard header.format == "dialogue-bundle" else { throw .invalidBundle("the header names format '\(header.format)'") }
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

    /// The next frame's changes, or `nil` after the last; every change must belong to a
    /// space the header declares.
    mutating func nextFrame() throws(ReplicaError) -> (changes: [Change], encoded: Data)? {
        guard offset < framesEnd else { return nil }
        guard framesEnd - offset >= 4 else { throw .invalidBundle("a frame is truncated") }
        let length = Int(BundleFormat.readUInt32(try Self.read(file, at: offset, count: 4), at: 0))
        guard length <= framesEnd - offset - 4 else { throw .invalidBundle("a frame runs past the end") }
        let encoded = try Self.read(file, at: offset + 4, count: length)
        let changes: [Change]
        do { changes = try ChangeCodec.decode(encoded) } catch {
            throw .invalidBundle("a frame cannot be read: \(error)")
        }
        offset += 4 + length
        if let only = header.spaces.first?.space, header.spaces.count == 1 {
            if let stray = changes.first(where: { $0.space != only }) {
                throw .invalidBundle("change \(stray.id) belongs to space \(stray.space), which the header does not declare")
            }
        } else if let stray = changes.first(where: { change in !header.spaces.contains { $0.space == change.space } }) {
            throw .invalidBundle("change \(stray.id) belongs to space \(stray.space), which the header does not declare")
        }
        return (changes, encoded)
    }
}
