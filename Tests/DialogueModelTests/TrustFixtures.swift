import DialogueModel
import Foundation

/// Fixed keys and statements for the trust tests. The expected bytes and signatures in
/// the tests were computed apart, with Python's `cryptography` and an encoder written
/// from docs/TRUST.md's tables alone, so Swift and the document are checked against
/// each other.
enum TrustFixtures {
    static let serverKey = try! SigningKeyPair(rawRepresentation: Array(1...32))
    static let deviceKey = try! SigningKeyPair(rawRepresentation: Array(33...64))
    static let newServerKey = try! SigningKeyPair(rawRepresentation: [UInt8](repeating: 0x42, count: 32))

    static let replica = ReplicaID(rawValue: 0x0123_4567_89ab_cdef)!
    static let member = UUID(uuidString: "6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b")!
    static let school = UUID(uuidString: "0a1b2c3d-4e5f-4a6b-8c7d-8e9fa0b1c2d3")!
    static let partnership = UUID(uuidString: "99999999-8888-4777-8666-555555555555")!
    static let space1 = SpaceID("11111111-2222-4333-8444-555555555555")!
    static let space2 = SpaceID("01111111-2222-4333-8444-555555555555")!

    static var certificate: DeviceCertificate {
        .issue(
            replica: replica, publicKey: deviceKey.publicKey, member: member, memberName: "Ada Lovelace", school: school,
            schoolName: "École Nord", issuedAt: 1_765_000_000_123, signedBy: serverKey)
    }

    static var revocation: DeviceRevocation {
        .issue(replica: replica, revokedAt: 1_765_000_999_000, lastCounters: [space1: 300, space2: 7], signedBy: serverKey)
    }

    static var directory: SpaceDirectory {
        .issue(
            member: member, issuedAt: 1_765_000_000_500,
            entries: [
                .init(
                    space: space1, name: "Nord–Süd", kind: .shared, owner: partnership,
                    legacy: VersionVector([replica: 300, ReplicaID(rawValue: 0xff)!: 5])),
                .init(space: space2, name: "Nord private", kind: .private, owner: school),
            ], signedBy: serverKey)
    }

    /// A member's own personal space (kind 2, owned by the member) beside their school's.
    static let personalSpace = SpaceID("21111111-2222-4333-8444-555555555555")!

    static var personalDirectory: SpaceDirectory {
        .issue(
            member: member, issuedAt: 1_765_000_000_700,
            entries: [
                .init(space: personalSpace, name: "Personal reflection (Ada Lovelace)", kind: .personal, owner: member),
                .init(space: space2, name: "Nord private", kind: .private, owner: school),
            ], signedBy: serverKey)
    }

    static var endorsement: ServerKeyEndorsement {
        .issue(newKey: newServerKey.publicKey, issuedAt: 1_765_001_000_000, signedBy: serverKey)
    }

    static var head: ChainHead {
        .issue(space: space1, replica: replica, counter: 300, hash: Array(100..<132), signedBy: deviceKey)
    }
}

extension Array where Element == UInt8 {
    /// Lower-case hex.
    var hex: String { map { String(format: "%02x", $0) }.joined() }

    init(hex: String) {
        var bytes: [UInt8] = []
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2)
            bytes.append(UInt8(hex[index..<next], radix: 16)!)
            index = next
        }
        self = bytes
    }
}

/// A copy of `bytes` with one bit of byte `index` flipped.
func flipping(_ bytes: [UInt8], at index: Int) -> [UInt8] {
    var copy = bytes
    copy[index] ^= 0x01
    return copy
}
