import Foundation

/// The compact binary form of a list of ``ChainHead``s (`headsBinary` in sync protocol 2,
/// base64 inside the JSON), beside ``ChangeCodec``'s batch of the same section.
///
/// Layout (integers LEB128 varints):
/// ```
/// magic "DLGH" · version u8 = 1 · spaces (count, 16 bytes each) · replicas (count, u64 LE each)
/// · head count · per head: space index · replica index · counter · hash (32 bytes) · signature (64 bytes)
/// · CRC-32 of everything before it (u32 LE)
/// ```
/// A head is about 100 bytes, mostly its hash and signature (which no table can shorten).
/// Decoding is bounds-checked like ``ChangeCodec``: it throws ``CodecError``, never traps,
/// and allocates no more than the bytes given can fill.
public enum ChainHeadCodec {
    public static let formatVersion: UInt8 = 1
    static let magic: [UInt8] = Array("DLGH".utf8)

    public static func encode(_ heads: [ChainHead]) -> [UInt8] {
        var spaces: [SpaceID] = []
        var spaceIndex: [SpaceID: Int] = [:]
        var replicas: [ReplicaID] = []
        var replicaIndex: [ReplicaID: Int] = [:]
        for head in heads {
            if spaceIndex[head.space] == nil {
                spaceIndex[head.space] = spaces.count
                spaces.append(head.space)
            }
            if replicaIndex[head.replica] == nil {
                replicaIndex[head.replica] = replicas.count
                replicas.append(head.replica)
            }
        }
        var out = ByteWriter()
        out.raw(magic)
        out.byte(formatVersion)
        out.varint(spaces.count)
        for space in spaces { out.raw(space.uuid.bytes) }
        out.varint(replicas.count)
        for replica in replicas { out.fixed64(replica.rawValue) }
        out.varint(heads.count)
        for head in heads {
            out.varint(spaceIndex[head.space]!)
            out.varint(replicaIndex[head.replica]!)
            out.varint(head.counter)
            out.raw(head.hash)
            out.raw(head.signature)
        }
        let crc = CRC32.checksum(out.bytes)
        for shift in stride(from: 0, to: 32, by: 8) { out.byte(UInt8(truncatingIfNeeded: crc >> UInt32(shift))) }
        return out.bytes
    }

    public static func decode(_ bytes: [UInt8]) throws(CodecError) -> [ChainHead] {
        guard bytes.count >= magic.count + 1 + 4, bytes.starts(with: magic) else {
            throw .malformed(section: "heads", reason: "not a Dialogue chain-head list (bad magic bytes)")
        }
        guard bytes[magic.count] == formatVersion else { throw .unsupportedVersion(bytes[magic.count]) }
        let bodyEnd = bytes.count - 4
        var stored: UInt32 = 0
        for index in 0..<4 { stored |= UInt32(bytes[bodyEnd + index]) << UInt32(8 * index) }
        guard CRC32.checksum(bytes[0..<bodyEnd]) == stored else { throw .checksumMismatch }
        var reader = ByteReader(bytes, range: (magic.count + 1)..<bodyEnd, section: "heads")
        let spaceCount = try reader.count(atMost: reader.remaining / 16, "space count")
        var spaces: [SpaceID] = []
        spaces.reserveCapacity(spaceCount)
        for _ in 0..<spaceCount { spaces.append(SpaceID(UUID(byteArray: Array(try reader.raw(16))))) }
        let replicaCount = try reader.count(atMost: reader.remaining / 8, "replica count")
        var replicas: [ReplicaID] = []
        replicas.reserveCapacity(replicaCount)
        for _ in 0..<replicaCount {
            guard let replica = ReplicaID(rawValue: try reader.fixed64()) else {
                throw .malformed(section: "heads", reason: "replica id 0")
            }
            replicas.append(replica)
        }
        // A head takes at least 99 bytes (three one-byte varints, hash and signature).
        let headCount = try reader.count(atMost: reader.remaining / 99, "head count")
        var heads: [ChainHead] = []
        heads.reserveCapacity(headCount)
        for _ in 0..<headCount {
            let space = try reader.count(atMost: spaces.count - 1, "space index")
            let replica = try reader.count(atMost: replicas.count - 1, "replica index")
            let counter = try reader.varint()
            let hash = Array(try reader.raw(32))
            let signature = Array(try reader.raw(64))
            heads.append(ChainHead(space: spaces[space], replica: replicas[replica], counter: counter, hash: hash, signature: signature))
        }
        guard reader.isAtEnd else { throw .malformed(section: "heads", reason: "\(reader.remaining) bytes after the last head") }
        return heads
    }
}
