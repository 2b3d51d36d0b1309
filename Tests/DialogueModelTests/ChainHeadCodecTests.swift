import DialogueModel
import Foundation
import Testing

/// The binary list of chain heads (`headsBinary` in sync protocol 2).
struct ChainHeadCodecTests {
    static var heads: [ChainHead] {
        let other = ReplicaID(rawValue: 0xFEED)!
        return [
            TrustFixtures.head,
            .issue(
                space: TrustFixtures.space2, replica: TrustFixtures.replica, counter: 1, hash: Array(0..<32),
                signedBy: TrustFixtures.deviceKey),
            .issue(
                space: TrustFixtures.space1, replica: other, counter: UInt64.max, hash: Array(repeating: 7, count: 32),
                signedBy: TrustFixtures.serverKey),
        ]
    }

    @Test("heads round-trip through the binary form, and still verify")
    func roundTrip() throws {
        let bytes = ChainHeadCodec.encode(Self.heads)
        let decoded = try ChainHeadCodec.decode(bytes)
        #expect(decoded == Self.heads)
        try decoded[0].verify(signedBy: TrustFixtures.deviceKey.publicKey)
        #expect(try ChainHeadCodec.decode(ChainHeadCodec.encode([])) == [])
        // About a hundred bytes a head: the hash and signature, little else.
        #expect(bytes.count < 3 * 100 + 80)
    }

    @Test("every truncation, a flipped byte and trailing bytes are refused, never trapping")
    func damagedBytesAreRefused() throws {
        let bytes = ChainHeadCodec.encode(Self.heads)
        for length in 0..<bytes.count {
            #expect(throws: CodecError.self) { try ChainHeadCodec.decode(Array(bytes[..<length])) }
        }
        for index in bytes.indices {
            var damaged = bytes
            damaged[index] ^= 0x10
            #expect(throws: CodecError.self) { try ChainHeadCodec.decode(damaged) }
        }
        #expect(throws: CodecError.self) { try ChainHeadCodec.decode(bytes + [0]) }
    }

    @Test("a count or index the bytes cannot hold is refused before anything is allocated for it")
    func hostileCounts() throws {
        func sealed(_ body: [UInt8]) -> [UInt8] {
            let bytes = Array("DLGH".utf8) + [1] + body
            let crc = CRC32.checksum(bytes)
            return bytes + (0..<4).map { UInt8(truncatingIfNeeded: crc >> UInt32(8 * $0)) }
        }
        // A head count of 2^63 with nothing behind it.
        #expect(throws: CodecError.self) {
            try ChainHeadCodec.decode(sealed([0, 0] + [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F]))
        }
        // A space index past the table (one space, index 1).
        let head = [UInt8](repeating: 0, count: 96)
        #expect(throws: CodecError.self) {
            try ChainHeadCodec.decode(sealed([1] + [UInt8](repeating: 1, count: 16) + [1, 1, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0, 5] + head))
        }
        // Replica id 0.
        #expect(throws: CodecError.self) {
            try ChainHeadCodec.decode(sealed([1] + [UInt8](repeating: 1, count: 16) + [1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 5] + head))
        }
        // A well-formed single head decodes (so the refusals above are for the reason named).
        let good = try ChainHeadCodec.decode(
            sealed([1] + [UInt8](repeating: 1, count: 16) + [1, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 5] + head))
        #expect(good.count == 1 && good[0].counter == 5)
    }
}
