/// Appends little-endian and LEB128 values to a byte buffer.
struct ByteWriter {
    var bytes: [UInt8] = []

    mutating func byte(_ value: UInt8) { bytes.append(value) }

    /// Unsigned LEB128. Most values (indexes, deltas, lengths) take one byte: that path is inlined.
    @inline(__always)
    mutating func varint(_ value: UInt64) {
        if value < 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: value))
        } else {
            longVarint(value)
        }
    }

    private mutating func longVarint(_ value: UInt64) {
        var value = value
        while value >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: value) | 0x80)
            value >>= 7
        }
        bytes.append(UInt8(value))
    }

    mutating func varint(_ value: Int) { varint(UInt64(value)) }

    /// Signed values, zig-zag encoded so small magnitudes stay short.
    mutating func signed(_ value: Int64) { varint(UInt64(bitPattern: (value << 1) ^ (value >> 63))) }

    mutating func fixed64(_ value: UInt64) {
        for shift in stride(from: 0, to: 64, by: 8) { bytes.append(UInt8(truncatingIfNeeded: value >> UInt64(shift))) }
    }

    mutating func raw(_ data: some Sequence<UInt8>) { bytes.append(contentsOf: data) }

    /// A length-prefixed byte string.
    mutating func block(_ data: [UInt8]) {
        varint(data.count)
        bytes.append(contentsOf: data)
    }
}

/// Reads what ``ByteWriter`` wrote; every read is bounds-checked and throws
/// ``CodecError`` instead of trapping.
struct ByteReader {
    let bytes: [UInt8]
    var offset: Int
    let end: Int
    /// Which part of the format is being read, for error messages.
    let section: String

    init(_ bytes: [UInt8], range: Range<Int>? = nil, section: String) {
        self.bytes = bytes
        self.offset = range?.lowerBound ?? 0
        self.end = range?.upperBound ?? bytes.count
        self.section = section
    }

    var remaining: Int { end - offset }
    var isAtEnd: Bool { offset >= end }

    mutating func byte() throws(CodecError) -> UInt8 {
        guard offset < end else { throw .truncated(section: section) }
        defer { offset += 1 }
        return bytes[offset]
    }

    mutating func varint() throws(CodecError) -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            let next = try byte()
            if shift == 63, next > 1 { throw .malformed(section: section, reason: "varint overflows 64 bits") }
            result |= UInt64(next & 0x7F) << shift
            if next & 0x80 == 0 { return result }
            shift += 7
            if shift > 63 { throw .malformed(section: section, reason: "varint longer than 10 bytes") }
        }
    }

    /// A varint that must fit `limit` (a count or an index).
    mutating func count(atMost limit: Int, _ what: String) throws(CodecError) -> Int {
        let value = try varint()
        guard limit >= 0, value <= UInt64(limit) else {
            throw .malformed(section: section, reason: "\(what) \(value) exceeds \(limit)")
        }
        return Int(value)
    }

    mutating func signed() throws(CodecError) -> Int64 {
        let raw = try varint()
        return Int64(bitPattern: (raw >> 1) ^ (0 &- (raw & 1)))
    }

    mutating func fixed64() throws(CodecError) -> UInt64 {
        guard remaining >= 8 else { throw .truncated(section: section) }
        var value: UInt64 = 0
        for index in 0..<8 { value |= UInt64(bytes[offset + index]) << UInt64(8 * index) }
        offset += 8
        return value
    }

    mutating func raw(_ length: Int) throws(CodecError) -> ArraySlice<UInt8> {
        guard length >= 0, remaining >= length else { throw .truncated(section: section) }
        defer { offset += length }
        return bytes[offset..<offset + length]
    }

    /// The range of a length-prefixed block, skipping over it.
    mutating func blockRange(_ name: String) throws(CodecError) -> Range<Int> {
        let length = try count(atMost: remaining, "length of \(name)")
        defer { offset += length }
        return offset..<offset + length
    }
}

/// CRC-32 (IEEE 802.3, as zlib and gzip), so that a garbled message or file is
/// detected rather than misread. Incremental: feed bytes with ``update(_:)-(Sequence<UInt8>)`` or ``update(_:)-(UnsafeRawBufferPointer)``.
///
/// Slicing-by-8 (Intel's method, as in zlib): eight bytes per step through eight tables,
/// several times faster than a byte at a time on bundles of tens of megabytes.
public struct CRC32: Sendable {
    /// Eight 256-entry tables, one after another: table k gives the CRC of a byte followed
    /// by k zero bytes.
    private static let tables: [UInt32] = {
        var tables = [UInt32](repeating: 0, count: 8 * 256)
        for index in 0..<256 {
            var value = UInt32(index)
            for _ in 0..<8 { value = value & 1 == 1 ? 0xEDB8_8320 ^ (value >> 1) : value >> 1 }
            tables[index] = value
        }
        for slice in 1..<8 {
            for index in 0..<256 {
                let previous = tables[(slice - 1) * 256 + index]
                tables[slice * 256 + index] = (previous >> 8) ^ tables[Int(previous & 0xFF)]
            }
        }
        return tables
    }()

    private var state: UInt32 = 0xFFFF_FFFF

    public init() {}

    /// Folds more bytes in.
    public mutating func update(_ bytes: some Sequence<UInt8>) {
        if bytes.withContiguousStorageIfAvailable({ update(UnsafeRawBufferPointer($0)) }) != nil { return }
        var crc = state
        Self.tables.withUnsafeBufferPointer { table in
            for byte in bytes { crc = table[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8) }
        }
        state = crc
    }

    /// Folds more bytes in, from memory.
    public mutating func update(_ buffer: UnsafeRawBufferPointer) {
        var crc = state
        Self.tables.withUnsafeBufferPointer { table in
            var offset = 0
            let count = buffer.count
            while count - offset >= 8 {
                let low = UInt32(littleEndian: buffer.loadUnaligned(fromByteOffset: offset, as: UInt32.self)) ^ crc
                let high = UInt32(littleEndian: buffer.loadUnaligned(fromByteOffset: offset + 4, as: UInt32.self))
                crc =
                    table[7 * 256 + Int(low & 0xFF)] ^ table[6 * 256 + Int((low >> 8) & 0xFF)]
                    ^ table[5 * 256 + Int((low >> 16) & 0xFF)] ^ table[4 * 256 + Int(low >> 24)]
                    ^ table[3 * 256 + Int(high & 0xFF)] ^ table[2 * 256 + Int((high >> 8) & 0xFF)]
                    ^ table[1 * 256 + Int((high >> 16) & 0xFF)] ^ table[Int(high >> 24)]
                offset += 8
            }
            while offset < count {
                crc = table[Int((crc ^ UInt32(buffer[offset])) & 0xFF)] ^ (crc >> 8)
                offset += 1
            }
        }
        state = crc
    }

    /// The checksum of everything folded in so far.
    public var value: UInt32 { state ^ 0xFFFF_FFFF }

    /// The checksum of `bytes`.
    public static func checksum(_ bytes: some Sequence<UInt8>) -> UInt32 {
        var crc = CRC32()
        crc.update(bytes)
        return crc.value
    }

    /// The checksum of bytes in memory.
    public static func checksum(_ buffer: UnsafeRawBufferPointer) -> UInt32 {
        var crc = CRC32()
        crc.update(buffer)
        return crc.value
    }
}
