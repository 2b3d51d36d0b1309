import DialogueModel
import Foundation

/// The binary change codec and the binary version vector.
///
/// Input: one mode byte, then the bytes to decode. Mode bit 0 rewrites the batch's
/// trailing CRC-32 so that mutations reach the decoder past the checksum (without it,
/// almost every mutant stops there). Oracle: a decoded batch encodes to bytes that decode
/// to the same changes; a decoded vector's binary form is canonical and decodes back.
enum BinaryFuzz {
    static func run(_ input: [UInt8]) throws(FuzzFinding) {
        guard let mode = input.first else { return }
        var bytes = Array(input.dropFirst())
        if mode & 1 == 1 { fixChecksum(&bytes) }
        if let changes = try? ChangeCodec.decode(bytes) {
            let again: [Change]
            do { again = try ChangeCodec.decode(ChangeCodec.encode(changes)) } catch {
                throw FuzzFinding("a decoded batch does not decode after re-encoding: \(error)")
            }
            guard again == changes else { throw FuzzFinding("a decoded batch re-encodes to different changes") }
        }
        if let vector = try? VersionVector(binary: bytes) {
            guard (try? VersionVector(binary: vector.binary)) == vector else {
                throw FuzzFinding("a decoded vector does not survive re-encoding")
            }
        }
    }

    /// Rewrites the last four bytes as the CRC-32 of those before them (the batch trailer).
    static func fixChecksum(_ bytes: inout [UInt8]) {
        guard bytes.count >= 9 else { return }
        let body = bytes.count - 4
        let crc = CRC32.checksum(bytes[0..<body])
        for index in 0..<4 { bytes[body + index] = UInt8(truncatingIfNeeded: crc >> UInt32(8 * index)) }
    }

    static func seeds() -> [(name: String, bytes: [UInt8])] {
        let changes = FuzzCorpus.changes()
        var have = VersionVector()
        for change in changes { have.record(Dot(change.replica, change.lastCounter)) }
        return [
            ("batch.bin", [1] + ChangeCodec.encode(changes)),
            ("batch-raw-crc.bin", [0] + ChangeCodec.encode(Array(changes.prefix(5)))),
            ("one-text-change.bin", [1] + ChangeCodec.encode(changes.filter { $0.operation.fieldType == .text }.suffix(1))),
            ("vector.bin", [0] + have.binary),
        ]
    }
}
