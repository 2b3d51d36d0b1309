import Crypto
import DialogueModel
import Foundation

/// The server's own device: what writes and signs the erasures a retention policy makes
/// (docs/PRIVACY.md, "Retention"), so that they replicate, verify and show in history like
/// anyone's. Its key is derived from the server's first key (kept in the store for ever,
/// retired or not), so every server process over one database is the same device, across
/// key rotations; its replica id from that key. It is never registered in `devices`: its
/// certificate, naming no member (the nil UUID) and ``memberName``, is issued on demand
/// by the current server key (``certificate(signedBy:)``).
public struct ServerDevice: Sendable {
    public static let memberName = "Retention schedule (server)"
    public static let schoolName = "Dialogue server"
    /// The member and school its certificate names: none (the nil UUID).
    public static let member = UUID(uuid: (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0))
    /// What its key's derivation hashes before the server's first private key.
    static let tag = "dialogue/server-device/1"

    public let key: SigningKeyPair
    public let replica: ReplicaID
    /// When the first server key was made: the certificate's issue time, so its bytes only
    /// change with the signing key.
    let issuedAt: Int64

    /// The device of the server whose keys are `records` (oldest first).
    public init(keys records: [ServerKeyRecord]) throws {
        guard let first = records.first else { throw StoreError.unavailable("the store holds no server key") }
        var seed = SHA256()
        seed.update(data: Array(Self.tag.utf8))
        seed.update(data: first.privateKey)
        key = try SigningKeyPair(rawRepresentation: Array(seed.finalize()))
        let digest = Array(SHA256.hash(data: key.publicKey.rawRepresentation))
        let raw = digest.prefix(8).enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
        replica = ReplicaID(rawValue: raw) ?? ReplicaID(rawValue: 1)!
        issuedAt = first.createdAt
    }

    /// Its certificate, signed by `serverKey` (the current one).
    public func certificate(signedBy serverKey: SigningKeyPair) -> DeviceCertificate {
        DeviceCertificate.issue(
            replica: replica, publicKey: key.publicKey, member: Self.member, memberName: Self.memberName, school: Self.member,
            schoolName: Self.schoolName, issuedAt: issuedAt, signedBy: serverKey)
    }
}
