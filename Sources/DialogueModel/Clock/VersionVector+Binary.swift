/// A compact binary form of a version vector, for the sync protocol's `binary` encoding:
/// a vector of a hundred replicas is ~1 KB here against ~3 KB of JSON object, and is read
/// without building a dictionary of strings first.
///
/// Layout: LEB128 entry count, then per entry (ascending replica) the replica as 8 bytes
/// little-endian and its counter as LEB128. Counters are never 0.
extension VersionVector {
    /// The binary form (deterministic: entries in ascending replica order).
    public var binary: [UInt8] {
        var writer = ByteWriter()
        writer.bytes.reserveCapacity(1 + lastDots.count * 11)
        writer.varint(lastDots.count)
        for dot in lastDots {
            writer.fixed64(dot.replica.rawValue)
            writer.varint(dot.counter)
        }
        return writer.bytes
    }

    /// Reads the binary form; anything else (truncated, trailing bytes, a zero replica or
    /// counter, a replica twice) is a ``CodecError``.
    public init(binary: [UInt8]) throws(CodecError) {
        var reader = ByteReader(binary, section: "version vector")
        let count = try reader.count(atMost: binary.count / 9, "vector entries")
        var counters: [ReplicaID: UInt64] = [:]
        counters.reserveCapacity(count)
        for _ in 0..<count {
            guard let replica = ReplicaID(rawValue: try reader.fixed64()) else {
                throw .malformed(section: "version vector", reason: "replica 0")
            }
            let counter = try reader.varint()
            guard counter > 0 else { throw .malformed(section: "version vector", reason: "counter 0 for \(replica)") }
            guard counters.updateValue(counter, forKey: replica) == nil else {
                throw .malformed(section: "version vector", reason: "\(replica) appears twice")
            }
        }
        guard reader.isAtEnd else { throw .malformed(section: "version vector", reason: "\(reader.remaining) bytes after the entries") }
        self.init(counters)
    }
}
