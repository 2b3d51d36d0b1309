import DialogueModel
import DialogueTestSupport
import Foundation

@testable import DialogueSync

/// A test server for bundles: one key certifying replicas and signing their space
/// directories, as logins to one server would (docs/TRUST.md).
final class BundleTrust: Sendable {
    let server = SigningKeyPair()
    let school = UUID()

    /// Logs `replica` in, offline: pins the key, stores its certificate and a directory
    /// listing `shared` and `private` spaces.
    @discardableResult
    func login(
        _ replica: Replica, shared: [SpaceID] = [], private privateSpaces: [SpaceID] = [], member: UUID? = nil
    )
        async throws -> DeviceCertificate
    {
        let member = member ?? Self.member(of: replica.id)
        let certificate = certificate(replica.id, key: replica.devicePublicKey, member: member)
        let entries =
            shared.map { SpaceDirectory.Entry(space: $0, name: "Shared \($0.description.prefix(4))", kind: .shared, owner: UUID()) }
            + privateSpaces.map {
                SpaceDirectory.Entry(space: $0, name: "Private \($0.description.prefix(4))", kind: .private, owner: school)
            }
        let directory = SpaceDirectory.issue(member: member, issuedAt: 1, entries: entries, signedBy: server)
        try await replica.adoptOfflineLogin(ring: ServerKeyRing(pinned: server.publicKey), certificate: certificate, directory: directory)
        return certificate
    }

    /// A certificate for a device that exists only as a key (handcrafted changes).
    func certificate(_ replica: ReplicaID, key: PublicSigningKey, member: UUID? = nil) -> DeviceCertificate {
        let member = member ?? Self.member(of: replica)
        return DeviceCertificate.issue(
            replica: replica, publicKey: key, member: member, memberName: "Member of \(replica)", school: school, schoolName: "School",
            issuedAt: 1, signedBy: server)
    }
}

extension BundleTrust {
    /// The member a replica is certified for unless told: one per replica id, the same in
    /// every run (an insight's author is the certified member, so seeded runs replay).
    static func member(of replica: ReplicaID) -> UUID {
        UUID(uuidString: String(format: "00000000-0000-4000-8000-%012llx", replica.rawValue & 0xFFFF_FFFF_FFFF))!
    }
}

/// Builds bundle files by hand, per the layout in BundleFormat.swift (format 2).
enum CraftedBundle {
    static func le32(_ value: UInt32) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: value >> (8 * UInt32($0))) } }
    static func le64(_ value: UInt64) -> [UInt8] { (0..<8).map { UInt8(truncatingIfNeeded: value >> (8 * UInt64($0))) } }

    /// One frame's bytes: the change batch and the head list, each length-prefixed.
    static func frame(_ changes: [UInt8], heads: [ChainHead]) -> [UInt8] {
        let list = ChainHeadCodec.encode(heads)
        return le32(UInt32(changes.count)) + changes + le32(UInt32(list.count)) + list
    }

    /// One frame of `changes`, signed by `signer` (one head per author run).
    static func frame(_ changes: [Change], signer: inout ChangeSigner) throws -> [UInt8] {
        frame(ChangeCodec.encode(changes), heads: try signer.sign(changes))
    }

    /// A whole file: prefix, header, the frames as given, trailer with a valid CRC-32.
    static func bundle(headerJSON: [UInt8], frames: [[UInt8]], count: UInt64, version: UInt8 = BundleFormat.version) -> [UInt8] {
        var bytes = Array("DLGB".utf8) + [version] + le32(UInt32(headerJSON.count)) + headerJSON
        for frame in frames { bytes += frame }
        bytes += Array("DLGE".utf8) + le64(count) + [0, 0, 0, 0]
        return resealed(bytes)
    }

    /// Recomputes the CRC-32 trailer (over every byte but the last four, little-endian).
    static func resealed(_ bytes: [UInt8]) -> [UInt8] {
        var copy = bytes
        let crc = CRC32.checksum(copy[0..<(copy.count - 4)])
        for index in 0..<4 { copy[copy.count - 4 + index] = UInt8(truncatingIfNeeded: crc >> (8 * UInt32(index))) }
        return copy
    }
}
