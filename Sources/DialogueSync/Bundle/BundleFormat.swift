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
struct BundleReader {
    let data: Data
    let header: BundleFormat.Header
    let totalChanges: UInt64
    var offset: Int
    let framesEnd: Int

    init(url: URL) throws(ReplicaError) {
        let data: Data
        do { data = try Data(contentsOf: url, options: .alwaysMapped) } catch {
            throw .invalidBundle("cannot read \(url.path): \(error.localizedDescription)")
        }
        try self.init(data: data)
    }

    init(data: Data) throws(ReplicaError) {
        self.data = data
        guard data.count >= 4, Array(data.prefix(4)) == BundleFormat.magic else {
            throw .invalidBundle("not a Dialogue bundle (it does not start with DLGB)")
        }
        guard data.count >= BundleFormat.prefixLength + BundleFormat.trailerLength else {
            throw .invalidBundle("the file is truncated (\(data.count) bytes)")
        }
        let version = data[data.startIndex + 4]
        guard version >= 1 else { throw .invalidBundle("bundle version \(version) is not valid") }
        guard version <= BundleFormat.version else {
            throw .invalidBundle(
                "bundle version \(version) was written by a newer Dialogue (this one reads up to \(BundleFormat.version)); update Dialogue")
        }
        let trailerStart = data.count - BundleFormat.trailerLength
        guard Array(data[(data.startIndex + trailerStart)..<(data.startIndex + trailerStart + 4)]) == BundleFormat.trailerMagic else {
            throw .invalidBundle("the file is truncated or damaged (no end marker)")
        }
        let stored = BundleFormat.readUInt32(data, at: data.count - 4)
        let computed = data.withUnsafeBytes { buffer in CRC32.checksum(UnsafeRawBufferPointer(rebasing: buffer[0..<(buffer.count - 4)])) }
        guard computed == stored else {
            throw .invalidBundle("the file is damaged (checksum mismatch)")
        }
        totalChanges = BundleFormat.readUInt64(data, at: trailerStart + 4)
        let headerLength = Int(BundleFormat.readUInt32(data, at: 5))
        guard headerLength <= trailerStart - BundleFormat.prefixLength else { throw .invalidBundle("the header length is wrong") }
        let headerStart = data.startIndex + BundleFormat.prefixLength
        do {
            header = try JSONDecoder().decode(BundleFormat.Header.self, from: data[headerStart..<(headerStart + headerLength)])
        } catch {
            throw .invalidBundle("the header is not valid: \(error)")
        }
        guard header.format == "dialogue-bundle" else { throw .invalidBundle("the header names format '\(header.format)'") }
        offset = BundleFormat.prefixLength + headerLength
        framesEnd = trailerStart
    }

    /// The next frame's changes, or `nil` after the last; every change must belong to a
    /// space the header declares.
    mutating func nextFrame() throws(ReplicaError) -> (changes: [Change], encoded: Data)? {
        guard offset < framesEnd else { return nil }
        guard framesEnd - offset >= 4 else { throw .invalidBundle("a frame is truncated") }
        let length = Int(BundleFormat.readUInt32(data, at: offset))
        guard length <= framesEnd - offset - 4 else { throw .invalidBundle("a frame runs past the end") }
        let start = data.startIndex + offset + 4
        let changes: [Change]
        let encoded = data[start..<(start + length)]
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
        return (changes, Data(encoded))
    }
}
