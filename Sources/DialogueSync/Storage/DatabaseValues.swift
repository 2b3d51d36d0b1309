import DialogueModel
import Foundation
import GRDB

// Identifiers are stored as compact blobs (16 bytes) and replica IDs as 64-bit integers.

extension EntityID {
    /// The 16 bytes, as stored.
    var blob: Data { withUnsafeBytes(of: uuid.uuid) { Data($0) } }

    /// Reads a stored 16-byte identifier.
    init?(blob: Data) {
        guard blob.count == 16 else { return nil }
        let bytes = [UInt8](blob)
        self.init(
            UUID(
                uuid: (
                    bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7], bytes[8], bytes[9], bytes[10],
                    bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]
                )))
    }
}

extension SpaceID {
    /// The 16 bytes, as stored.
    var blob: Data { withUnsafeBytes(of: uuid.uuid) { Data($0) } }

    /// Reads a stored 16-byte identifier.
    init?(blob: Data) {
        guard let entity = EntityID(blob: blob) else { return nil }
        self.init(entity.uuid)
    }
}

extension ReplicaID {
    /// The stored form: the 64 bits as a signed integer (SQLite integers are signed).
    var storedValue: Int64 { Int64(bitPattern: rawValue) }

    init?(storedValue: Int64) { self.init(rawValue: UInt64(bitPattern: storedValue)) }
}
